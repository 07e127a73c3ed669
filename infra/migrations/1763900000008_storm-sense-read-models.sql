-- Up Migration

-- Storm sense (issue 16): incidents, inhibition, flapping and customer-tier SLAs, from the
-- escalator's decisions on ESCALATIONS (projector-escalations-v1). Documented in
-- docs/read-models.md. Every column is a function of the log.

-- ---------------------------------------------------------------------------------------------
-- Per alert, on its escalation row (the alerts row belongs to another projection and stream).

-- AlertRouted (the latest routing): where the alert is and how it groups.
ALTER TABLE alert_escalations ADD COLUMN site text;
ALTER TABLE alert_escalations ADD COLUMN group_key text;
-- IncidentOpened (the alert opened the incident) or AlertGrouped (it joined one).
ALTER TABLE alert_escalations ADD COLUMN incident_id uuid;
-- AlertInhibited; AlertReleased sets inhibited back to false and keeps who inhibited it, for the record.
ALTER TABLE alert_escalations ADD COLUMN inhibited boolean NOT NULL DEFAULT false;
ALTER TABLE alert_escalations ADD COLUMN inhibited_by uuid;
ALTER TABLE alert_escalations ADD COLUMN inhibited_rule text;
ALTER TABLE alert_escalations ADD COLUMN inhibited_at timestamptz;
ALTER TABLE alert_escalations ADD COLUMN released_at timestamptz;
-- FlappingStarted / AlertFlapped / FlappingEnded: 'started', 'flapped', 'ended'; null = never flapped.
ALTER TABLE alert_escalations ADD COLUMN flapping text CHECK (flapping IN ('started', 'flapped', 'ended'));
ALTER TABLE alert_escalations ADD COLUMN flapping_since timestamptz;
-- AlertRouted's customer tier SLA: acknowledge by sla_deadline (the alert's trigger + response seconds).
ALTER TABLE alert_escalations ADD COLUMN tier text;
ALTER TABLE alert_escalations ADD COLUMN sla_response_seconds integer;
ALTER TABLE alert_escalations ADD COLUMN sla_deadline timestamptz;
-- SlaBreached
ALTER TABLE alert_escalations ADD COLUMN sla_breached_at timestamptz;

-- An incident's alerts, and through them its timeline (alert_timeline_all by alert_id).
CREATE INDEX alert_escalations_incident ON alert_escalations (incident_id) WHERE incident_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- incidents: one row per incident (a group key's alerts while any of them fires). Its events are
-- on the subjects of its alerts, which may lie in different partitions, so the row is a merge
-- that does not depend on the order its events are applied in (a partitioned replay loads the
-- partitions side by side): counts add up, times are the least or greatest, the rest is written
-- by exactly one event (IncidentOpened, IncidentResolved) or is the same in every event.
CREATE TABLE incidents (
  incident_id uuid PRIMARY KEY,
  service_id text NOT NULL,
  group_key text NOT NULL,
  -- IncidentOpened; null until it is projected
  group_labels jsonb,
  first_alert_id uuid NOT NULL,
  summary text,
  -- the earliest event of the incident (its IncidentOpened)
  opened_at timestamptz NOT NULL,
  -- IncidentResolved: none of its alerts fires any more
  resolved_at timestamptz,
  -- alerts of the incident, the first included (IncidentOpened + AlertGrouped)
  alert_count integer NOT NULL,
  -- the latest IncidentOpened / AlertGrouped (null while only an IncidentResolved is applied)
  last_alert_at timestamptz,
  -- the latest event of the incident
  updated_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);
-- ListIncidents: newest first, by status and service.
CREATE INDEX incidents_opened ON incidents (opened_at DESC, incident_id DESC);
CREATE INDEX incidents_service_opened ON incidents (service_id, opened_at DESC, incident_id DESC);
CREATE INDEX incidents_open ON incidents (opened_at DESC, incident_id DESC) WHERE resolved_at IS NULL;

-- ---------------------------------------------------------------------------------------------
-- Views.

-- alerts_with_escalation gains the storm columns after the effective-severity ones (dropped and
-- created again: a view's columns cannot be inserted in place).
DROP VIEW alerts_with_escalation;
CREATE VIEW alerts_with_escalation AS
SELECT a.id, a.service_id, a.fingerprint, a.status, a.source, a.summary, a.details,
  coalesce(e.severity_map ->> a.severity, a.severity) AS severity,
  a.labels, a.annotations, a.links, a.custom, a.generator_url, a.starts_at, a.created_at, a.updated_at,
  a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.external_ticket_id, a.repeat_count, a.last_seen_at,
  a.last_event_seq, a.first_acknowledged_at, a.snoozed_until, a.snoozed_by, a.escalated_at, a.escalated_by,
  e.policy_id, e.template_id, e.template_version, e.routing_rules, e.routed_severity, e.suppressed_by, e.suppressed_until,
  e.maintenance, e.escalation_step, e.escalation_round, e.escalation_page, e.next_escalation_at, e.escalation_stopped_reason,
  e.reopen_at, t.ticket_key, t.url AS ticket_url,
  a.severity AS source_severity, e.severity_rule, e.severity_boost,
  e.site, e.group_key, e.incident_id, e.inhibited, e.inhibited_by, e.inhibited_rule, e.flapping, e.tier, e.sla_response_seconds,
  e.sla_deadline, e.sla_breached_at
FROM alerts a
LEFT JOIN alert_escalations e ON e.alert_id = a.id
LEFT JOIN LATERAL (
  SELECT ticket_key, url FROM tickets WHERE tickets.alert_id = a.id ORDER BY created_at NULLS LAST, provider_id, ticket_key LIMIT 1
) t ON true;

-- Every event of every alert of an incident. Order by occurred_at, stream_rank, seq.
CREATE VIEW incident_timeline AS
SELECT e.incident_id, t.*
FROM alert_escalations e
JOIN alert_timeline_all t ON t.alert_id = e.alert_id
WHERE e.incident_id IS NOT NULL;

-- MTTA against the customer tier's SLA, per tier and UTC week of the alert's creation (alerts with
-- a tier). Time to acknowledge counts the first acknowledgement, as noc_mtta_mttr_daily does.
CREATE VIEW noc_sla_mtta_weekly AS
SELECT e.tier,
  date_trunc('week', a.created_at AT TIME ZONE 'UTC') AS week,
  count(*) AS alerts,
  count(a.first_acknowledged_at) AS acknowledged,
  count(*) FILTER (WHERE a.first_acknowledged_at <= e.sla_deadline) AS acked_within_sla,
  count(e.sla_breached_at) AS breached,
  extract(epoch FROM avg(a.first_acknowledged_at - a.created_at)) AS mtta_seconds,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.first_acknowledged_at - a.created_at)) AS p90_tta_seconds,
  max(e.sla_response_seconds) AS sla_seconds
FROM alerts a
JOIN alert_escalations e ON e.alert_id = a.id
WHERE e.tier IS NOT NULL
GROUP BY e.tier, 2;

-- Down Migration
DROP VIEW noc_sla_mtta_weekly;
DROP VIEW incident_timeline;
DROP VIEW alerts_with_escalation;
CREATE VIEW alerts_with_escalation AS
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
DROP TABLE incidents;
DROP INDEX alert_escalations_incident;
ALTER TABLE alert_escalations DROP COLUMN sla_breached_at;
ALTER TABLE alert_escalations DROP COLUMN sla_deadline;
ALTER TABLE alert_escalations DROP COLUMN sla_response_seconds;
ALTER TABLE alert_escalations DROP COLUMN tier;
ALTER TABLE alert_escalations DROP COLUMN flapping_since;
ALTER TABLE alert_escalations DROP COLUMN flapping;
ALTER TABLE alert_escalations DROP COLUMN released_at;
ALTER TABLE alert_escalations DROP COLUMN inhibited_at;
ALTER TABLE alert_escalations DROP COLUMN inhibited_rule;
ALTER TABLE alert_escalations DROP COLUMN inhibited_by;
ALTER TABLE alert_escalations DROP COLUMN inhibited;
ALTER TABLE alert_escalations DROP COLUMN incident_id;
ALTER TABLE alert_escalations DROP COLUMN group_key;
ALTER TABLE alert_escalations DROP COLUMN site;
