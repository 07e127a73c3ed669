-- Up Migration

-- The effective severity (docs/routing.md, "Effective severity"): the source's, then the alert's
-- equipment type, then a routing rule. `alerts.severity` stays the source's (projector-alerts-v1,
-- ALERTS); the route's part is in `alert_escalations` (projector-escalations-v1, ESCALATIONS) as
-- `severity_map`, source severity → effective severity under the latest AlertRouted. Readers get
-- `severity_map ->> alerts.severity`, so a later source severity gets the same boost or rule, and
-- neither projection reads the other's rows (the rows do not depend on how they interleave).
ALTER TABLE alert_escalations ADD COLUMN severity_rule text;
ALTER TABLE alert_escalations ADD COLUMN severity_boost jsonb;
ALTER TABLE alert_escalations ADD COLUMN severity_map jsonb;

-- Same columns as before (severity is now the effective one), then the source's and how it changed.
CREATE OR REPLACE VIEW alerts_with_escalation AS
SELECT a.id, a.service_id, a.fingerprint, a.status, a.source, a.summary, a.details,
  coalesce(e.severity_map ->> a.severity, a.severity) AS severity,
  a.labels, a.annotations, a.links, a.custom, a.generator_url, a.starts_at, a.created_at, a.updated_at,
  a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.external_ticket_id, a.repeat_count, a.last_seen_at,
  a.last_event_seq, a.first_acknowledged_at, a.snoozed_until, a.snoozed_by, a.escalated_at, a.escalated_by,
  e.policy_id, e.template_id, e.template_version, e.routing_rules, e.routed_severity, e.suppressed_by, e.suppressed_until,
  e.maintenance, e.escalation_step, e.escalation_round, e.escalation_page, e.next_escalation_at, e.escalation_stopped_reason,
  e.reopen_at, t.ticket_key, t.url AS ticket_url,
  a.severity AS source_severity, e.severity_rule, e.severity_boost
FROM alerts a
LEFT JOIN alert_escalations e ON e.alert_id = a.id
LEFT JOIN LATERAL (
  SELECT ticket_key, url FROM tickets WHERE tickets.alert_id = a.id ORDER BY created_at NULLS LAST, provider_id, ticket_key LIMIT 1
) t ON true;

CREATE OR REPLACE VIEW noc_open_alerts AS
SELECT a.id, a.service_id, coalesce(e.severity_map ->> a.severity, a.severity) AS severity, a.status, a.summary, a.created_at,
  a.last_seen_at, a.repeat_count, a.labels ->> 'team' AS team, coalesce(a.labels ->> 'site', a.labels ->> 'pop') AS site, a.labels,
  a.annotations, a.severity AS source_severity
FROM alerts a LEFT JOIN alert_escalations e ON e.alert_id = a.id
WHERE a.status <> 'resolved';

CREATE OR REPLACE VIEW noc_escalations_open AS
SELECT a.id AS alert_id, a.service_id, coalesce(e.severity_map ->> a.severity, a.severity) AS severity, a.status, a.summary,
  a.created_at, a.snoozed_until, e.policy_id, e.escalation_step, e.escalation_round, e.escalation_page, e.step_reached_at,
  e.next_escalation_at, e.escalation_stopped_reason, e.reopen_at, e.suppressed_by, e.suppressed_until, a.severity AS source_severity
FROM alerts a LEFT JOIN alert_escalations e ON e.alert_id = a.id
WHERE a.status <> 'resolved';

-- Down Migration
DROP VIEW noc_escalations_open;
CREATE VIEW noc_escalations_open AS
SELECT a.id AS alert_id, a.service_id, a.severity, a.status, a.summary, a.created_at, a.snoozed_until,
  e.policy_id, e.escalation_step, e.escalation_round, e.escalation_page, e.step_reached_at, e.next_escalation_at,
  e.escalation_stopped_reason, e.reopen_at, e.suppressed_by, e.suppressed_until
FROM alerts a LEFT JOIN alert_escalations e ON e.alert_id = a.id
WHERE a.status <> 'resolved';
DROP VIEW noc_open_alerts CASCADE;
CREATE VIEW noc_open_alerts AS
SELECT id, service_id, severity, status, summary, created_at, last_seen_at, repeat_count,
  labels ->> 'team' AS team, coalesce(labels ->> 'site', labels ->> 'pop') AS site, labels, annotations
FROM alerts
WHERE status <> 'resolved';
CREATE VIEW noc_open_alerts_by_severity AS
SELECT severity, count(*) AS open_alerts, count(*) FILTER (WHERE status = 'triggered') AS unacknowledged
FROM noc_open_alerts GROUP BY severity;
CREATE VIEW noc_open_alerts_by_service AS
SELECT service_id, severity, count(*) AS open_alerts, count(*) FILTER (WHERE status = 'triggered') AS unacknowledged
FROM noc_open_alerts GROUP BY service_id, severity;
CREATE VIEW noc_open_alerts_by_team AS
SELECT coalesce(team, '(none)') AS team, severity, count(*) AS open_alerts
FROM noc_open_alerts GROUP BY 1, severity;
CREATE VIEW noc_open_alerts_by_site AS
SELECT coalesce(site, '(none)') AS site, severity, count(*) AS open_alerts
FROM noc_open_alerts GROUP BY 1, severity;
DROP VIEW alerts_with_escalation;
CREATE VIEW alerts_with_escalation AS
SELECT a.*,
  e.policy_id, e.template_id, e.template_version, e.routing_rules, e.routed_severity, e.suppressed_by, e.suppressed_until,
  e.maintenance, e.escalation_step, e.escalation_round, e.escalation_page, e.next_escalation_at, e.escalation_stopped_reason,
  e.reopen_at, t.ticket_key, t.url AS ticket_url
FROM alerts a
LEFT JOIN alert_escalations e ON e.alert_id = a.id
LEFT JOIN LATERAL (
  SELECT ticket_key, url FROM tickets WHERE tickets.alert_id = a.id ORDER BY created_at NULLS LAST, provider_id, ticket_key LIMIT 1
) t ON true;
ALTER TABLE alert_escalations DROP COLUMN severity_map;
ALTER TABLE alert_escalations DROP COLUMN severity_boost;
ALTER TABLE alert_escalations DROP COLUMN severity_rule;
