import type { RenderTemplate } from './types.js';

/**
 * The example template of docs/templates.md: every channel, written the way the design's editor
 * examples are, in liquid. Tests validate it; the render benchmark renders it.
 */
export const EXAMPLE_TEMPLATE: RenderTemplate = {
  templateId: 'example-critical',
  version: 1,
  variables: {
    required: ['alert.summary', 'service.name'],
    optional: ['annotations.runbook_url', 'labels.pod', 'labels.namespace', 'labels.severity'],
  },
  channels: {
    slack: String.raw`{
  "text": "[{{ alert.severity | upcase }}] {{ service.name }}: {{ alert.summary }}",
  "blocks": [
    {
      "type": "header",
      "text": { "type": "plain_text", "text": "{% if notification.kind == 'resolved' %}✅ Resolved: {% else %}🚨 {% endif %}{{ alert.summary }}" }
    },
    {
      "type": "section",
      "text": { "type": "mrkdwn", "text": "{{ alert.details | default: 'No details' }}" },
      "fields": [
        { "type": "mrkdwn", "text": "*Severity:*\n{{ labels.severity | default: alert.severity }}" },
        { "type": "mrkdwn", "text": "*Namespace:*\n{{ labels.namespace | default: 'N/A' }}" },
        { "type": "mrkdwn", "text": "*Escalation:*\n{{ escalation.policy_name }}, step {{ escalation.step }} of {{ escalation.total_steps }}" }
      ]
    },
    {
      "type": "context",
      "elements": [{ "type": "mrkdwn", "text": "{% for l in labels %}{{ l[0] }}={{ l[1] }} {% endfor %}" }]
    }{% if annotations.runbook_url %},
    {
      "type": "actions",
      "elements": [
        { "type": "button", "text": { "type": "plain_text", "text": "📖 Runbook" }, "url": "{{ annotations.runbook_url }}" }
      ]
    }{% endif %}
  ]
}`,
    teams: String.raw`{
  "type": "AdaptiveCard",
  "version": "1.4",
  "body": [
    { "type": "TextBlock", "text": "🚨 {{ alert.summary }}", "size": "Large", "weight": "Bolder", "wrap": true },
    { "type": "TextBlock", "text": "{{ alert.details }}", "wrap": true },
    {
      "type": "FactSet",
      "facts": [
        { "title": "Service", "value": "{{ service.name }}" },
        { "title": "Severity", "value": "{{ alert.severity }}" },
        { "title": "Pod", "value": "{{ labels.pod | default: 'n/a' }}" }
      ]
    }
  ]{% if annotations.runbook_url %},
  "actions": [{ "type": "Action.OpenUrl", "title": "Runbook", "url": "{{ annotations.runbook_url }}" }]{% endif %}
}`,
    emailSubject: `[{{ alert.severity | upcase }}] {{ service.name }}: {{ alert.summary }}`,
    emailHtml: `<html>
<body style="font-family: sans-serif;">
  {%- case alert.severity -%}
    {%- when 'critical' -%}{%- assign colour = '#dc3545' -%}
    {%- when 'warning' -%}{%- assign colour = '#ffc107' -%}
    {%- else -%}{%- assign colour = '#17a2b8' -%}
  {%- endcase %}
  <div style="background: {{ colour }}; color: white; padding: 20px;">
    <h1>{{ alert.summary }}</h1>
  </div>
  <div style="padding: 20px;">
    <p><strong>Details:</strong> {{ alert.details }}</p>
    <p><strong>Pod:</strong> {{ labels.pod | default: "N/A" }}</p>
    <p><strong>Namespace:</strong> {{ labels.namespace | default: "N/A" }}</p>
    {%- if annotations.runbook_url %}
    <p><a href="{{ annotations.runbook_url }}">View Runbook</a></p>
    {%- endif %}
  </div>
</body>
</html>`,
    emailText: `{{ alert.summary }}

{{ alert.details }}

Service:  {{ service.name }}
Severity: {{ alert.severity }}
Pod:      {{ labels.pod | default: "N/A" }}
{% if annotations.runbook_url %}Runbook:  {{ annotations.runbook_url }}{% endif %}`,
    sms: `[{{ alert.severity | upcase }}] {{ alert.summary }}
Pod: {{ labels.pod | default: "n/a" | truncate: 20 }}{% if annotations.runbook_url %}
Runbook: {{ annotations.runbook_url }}{% endif %}`,
    voice: `{{ alert.severity }} alert for {{ service.name }}. {{ alert.summary }}.`,
    webhook: `{
  "alert_id": "{{ alert.id }}",
  "summary": "{{ alert.summary }}",
  "severity": "{{ alert.severity }}",
  "status": "{{ alert.status }}",
  "service": "{{ service.name }}",
  "labels": {{ labels | json }},
  "runbook": {{ annotations.runbook_url | json }},
  "step": {{ escalation.step | json }}
}`,
  },
};
