import type { EventData, Severity } from '@oncall/contracts';

type NotificationRequested = EventData<'NotificationRequested'>;

/**
 * The variables a template sees. Snake_case names follow the template contract of the design
 * (`alert.created_at`, `escalation.policy_name`). Plain JSON data only: liquid can call functions
 * found on the context, so nothing else ever goes in.
 */
export type RenderContext = {
  alert: {
    id: string;
    summary: string;
    details: string;
    /** triggered, acknowledged or resolved, as the escalator knew it. */
    status: string;
    /** The effective severity: the source's, then the equipment type, then a routing rule (docs/routing.md). */
    severity: Severity;
    /** The severity the source gave; equal to `severity` when nothing changed it. */
    source_severity: Severity;
    source: string;
    fingerprint: string;
    /** When the alert triggered (ISO 8601); `triggered_at` is the same value. */
    created_at: string;
    triggered_at: string;
    service_id: string;
    service_name: string;
    /**
     * The "Open" link of every channel: the console's alert page (`<console url>/alerts/<id>`)
     * when ONCALL_CONSOLE_URL is set, else the action page (`actionUrl`) when action links are
     * on, else `<public url>/alerts/<id>` when a public URL is configured, else null.
     */
    url: string | null;
  };
  /**
   * This notification's signed action link (`<public url>/a/<token>`): a page showing the alert
   * with Acknowledge / Resolve / Escalate / Snooze buttons acting as the paged user. Null unless
   * ONCALL_PUBLIC_URL and ONCALL_ACTION_SECRET are set.
   */
  actionUrl: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  service: { id: string; name: string };
  links: { href: string; text: string }[];
  /** The paged user; null when a step notifies a Slack channel or a webhook. */
  user: { id: string; name: string | null; email: string | null } | null;
  /** Who this message goes to. Webhook URLs are left out: they often carry a secret. */
  recipient: { type: 'user'; user_id: string } | { type: 'slack'; channel: string } | { type: 'webhook' };
  escalation: {
    policy_id: string;
    policy_name: string;
    /** One-based step of the policy, and how many steps it has. */
    step: number;
    total_steps: number;
    /** One-based pass through the whole policy (a policy can repeat). */
    round: number;
    /** Re-pages of the same step: 0 for the first page. */
    repage: number;
  };
  notification: { id: string; kind: 'page' | 'resolved'; priority: string };
  /** Render time (ISO 8601), for `{{ now | date: "%H:%M" }}`. */
  now: string;
  /**
   * How to answer by phone, when this page went to a phone number (SMS, voice): its reply code
   * ("Reply 4a…") and where the call posts the pressed digit. Absent otherwise.
   */
  reply?: { code: number; gather_url: string | null };
};

export type ContextOptions = Readonly<{
  /** Render time, passed in (never read from the clock here). */
  now: string;
  /** The UI's public base URL; sets `alert.url` to `<publicUrl>/alerts/<id>`. */
  publicUrl?: string | null;
  /** The NOC console's base URL (ONCALL_CONSOLE_URL); sets `alert.url` to `<consoleUrl>/alerts/<id>`. */
  consoleUrl?: string | null;
  /** The reply code of this page (SMS, voice) and the call's gather URL. */
  reply?: { code: number; gatherUrl: string | null } | null;
  /** The notification's signed action link (made by the caller: the context stays pure); also becomes `alert.url`. */
  actionUrl?: string | null;
}>;

/** The severity as the built-in messages show it: the effective one, and the source's when it differs. */
export function severityText(alert: Pick<RenderContext['alert'], 'severity' | 'source_severity'>): string {
  return alert.severity === alert.source_severity ? alert.severity : `${alert.severity} (source: ${alert.source_severity})`;
}

/** Deep copy through JSON: drops functions, undefined and class identities. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The render context for one NotificationRequested event. */
export function buildRenderContext(data: NotificationRequested, options: ContextOptions): RenderContext {
  const a = data.alert;
  const base = options.publicUrl?.replace(/\/+$/, '');
  const consoleBase = options.consoleUrl?.replace(/\/+$/, '');
  const email = data.contacts.find((c) => c.channel === 'email')?.address ?? null;
  const r = data.recipient;
  const recipient: RenderContext['recipient'] =
    r.type === 'user'
      ? { type: 'user', user_id: r.userId }
      : r.type === 'slack'
        ? { type: 'slack', channel: r.channel }
        : { type: 'webhook' };
  return plain<RenderContext>({
    alert: {
      id: a.alertId,
      summary: a.summary,
      details: a.details,
      status: a.status,
      severity: a.severity,
      source_severity: a.sourceSeverity ?? a.severity,
      source: a.source,
      fingerprint: a.fingerprint,
      created_at: a.triggeredAt,
      triggered_at: a.triggeredAt,
      service_id: a.serviceId,
      service_name: a.serviceName,
      url: consoleBase
        ? `${consoleBase}/alerts/${encodeURIComponent(a.alertId)}`
        : (options.actionUrl ?? (base ? `${base}/alerts/${encodeURIComponent(a.alertId)}` : null)),
    },
    actionUrl: options.actionUrl ?? null,
    labels: a.labels,
    annotations: a.annotations,
    service: { id: a.serviceId, name: a.serviceName },
    links: a.links,
    user: r.type === 'user' ? { id: r.userId, name: data.userName, email } : null,
    recipient,
    escalation: {
      policy_id: data.escalation.policyId,
      policy_name: data.escalation.policyName,
      step: data.step + 1,
      total_steps: data.escalation.totalSteps,
      round: data.round + 1,
      repage: data.page,
    },
    notification: { id: data.notificationId, kind: data.kind, priority: data.priority },
    now: options.now,
    ...(options.reply ? { reply: { code: options.reply.code, gather_url: options.reply.gatherUrl } } : {}),
  });
}

/** The sample alert of the template editor (the design's example), for previews and validation. */
export function sampleRenderContext(now = '2026-02-03T10:35:00Z'): RenderContext {
  return {
    alert: {
      id: '5b1f8a52-3c1e-4f0a-9a57-1f0c2d9e7a41',
      summary: 'High CPU on api-gateway',
      details: 'CPU usage exceeded 90% for 5 minutes',
      status: 'triggered',
      severity: 'critical',
      source_severity: 'critical',
      source: 'alertmanager',
      fingerprint: 'a3f9c2e17b4d5e60',
      created_at: '2026-02-03T10:30:00Z',
      triggered_at: '2026-02-03T10:30:00Z',
      service_id: 'api-gateway',
      service_name: 'API Gateway',
      url: 'https://oncall.example.com/alerts/5b1f8a52-3c1e-4f0a-9a57-1f0c2d9e7a41',
    },
    actionUrl: 'https://oncall.example.com/a/eyJ2IjoxLCJhIjoiNWIxZjhhNTIifQ.c2FtcGxlLXNpZ25hdHVyZS1ub3QtdmFsaWQ',
    labels: {
      alertname: 'HighCPU',
      severity: 'critical',
      namespace: 'production',
      pod: 'api-gateway-7b9f8d6c5-xk2m4',
      team: 'platform',
      cluster: 'us-east-1',
    },
    annotations: {
      summary: 'CPU > 90% for 5m',
      description: 'Pod CPU at 93%',
      runbook_url: 'https://runbooks.example.com/high-cpu',
      dashboard_url: 'https://grafana.example.com/d/abc123',
    },
    service: { id: 'api-gateway', name: 'API Gateway' },
    links: [
      { href: 'https://runbooks.example.com/high-cpu', text: 'Runbook' },
      { href: 'https://grafana.example.com/d/abc123', text: 'Dashboard' },
    ],
    user: { id: 'user-uuid', name: 'John Doe', email: 'john@example.com' },
    recipient: { type: 'user', user_id: 'user-uuid' },
    escalation: { policy_id: 'platform-oncall', policy_name: 'Platform On-Call', step: 1, total_steps: 3, round: 1, repage: 0 },
    notification: { id: '9d2c4b7e-8f61-4a3d-b5e2-0c7a9f1d3e58', kind: 'page', priority: 'high' },
    now,
  };
}

/**
 * Sample data from the editor over the built-in sample: each top-level key given replaces the
 * sample's whole value (labels are not merged, so a real alert's labels show as they are).
 */
export function previewContext(sample?: Readonly<Record<string, unknown>> | null): RenderContext {
  const base = sampleRenderContext();
  if (!sample) return base;
  return plain<RenderContext>({ ...base, ...sample });
}

/** Property lookup on plain context data, with liquid's `size`/`first`/`last` on arrays and strings. */
export function lookupPath(root: unknown, path: readonly (string | number)[]): { found: boolean; value: unknown } {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || cur === undefined) return { found: false, value: undefined };
    if (Array.isArray(cur) || typeof cur === 'string') {
      if (seg === 'size') {
        cur = cur.length;
        continue;
      }
      if (Array.isArray(cur) && (seg === 'first' || seg === 'last')) {
        cur = seg === 'first' ? cur[0] : cur[cur.length - 1];
        continue;
      }
    }
    if (typeof cur !== 'object') return { found: false, value: undefined };
    if (!Object.prototype.hasOwnProperty.call(cur, seg)) return { found: false, value: undefined };
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return { found: cur !== null && cur !== undefined, value: cur };
}
