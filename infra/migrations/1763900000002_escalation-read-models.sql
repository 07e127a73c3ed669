-- Up Migration

-- Read models for configuration (schedules, escalation policies, routing, maintenance windows,
-- calendars, templates), escalation state, notifications and tickets, and the NOC views over
-- them. Documented in docs/read-models.md. Every column is a function of the log (event times,
-- never wall-clock times), so a replay reproduces every row.

-- ---------------------------------------------------------------------------------------------
-- alerts: snoozes, manual escalations, and reopening (AlertSnoozed, AlertEscalated,
-- AlertUnacknowledged on ALERTS), still written by projector-alerts-v1 alone.

ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check CHECK (status IN ('triggered', 'acknowledged', 'snoozed', 'resolved'));
-- The first acknowledgement: acknowledged_at/_by are the latest one, which moves when a reopened
-- alert is acknowledged again; MTTA counts the first.
ALTER TABLE alerts ADD COLUMN first_acknowledged_at timestamptz;
-- Before this migration an alert could be acknowledged at most once.
UPDATE alerts SET first_acknowledged_at = acknowledged_at;
-- Set while the alert is snoozed (cleared by an acknowledgement, a reopen or the resolution).
ALTER TABLE alerts ADD COLUMN snoozed_until timestamptz;
ALTER TABLE alerts ADD COLUMN snoozed_by text;
-- The latest manual escalation.
ALTER TABLE alerts ADD COLUMN escalated_at timestamptz;
ALTER TABLE alerts ADD COLUMN escalated_by text;

CREATE OR REPLACE VIEW noc_mtta_mttr_daily AS
SELECT service_id,
  date_trunc('day', created_at AT TIME ZONE 'UTC') AS day,
  count(*) AS alerts,
  count(first_acknowledged_at) AS acknowledged,
  count(resolved_at) AS resolved,
  extract(epoch FROM avg(first_acknowledged_at - created_at)) AS mtta_seconds,
  extract(epoch FROM avg(resolved_at - created_at)) AS mttr_seconds
FROM alerts GROUP BY service_id, 2;

-- ---------------------------------------------------------------------------------------------
-- Configuration (projector-config-v1, CONFIG). A `…Configured` event replaces its aggregate
-- whole: the parent row is upserted, its child rows deleted and inserted again in list order
-- (`position`, from 0). A `…Removed` event deletes the parent; children go by cascade.
-- No foreign keys between aggregates: a policy may name a schedule configured later, and a
-- removed service keeps its routing until RoutingRemoved.

CREATE TABLE schedules (
  id text PRIMARY KEY,
  name text NOT NULL,
  time_zone text NOT NULL,
  configured_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

-- Layers: where several rotations cover an instant, the highest position wins.
CREATE TABLE schedule_rotations (
  schedule_id text NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  position integer NOT NULL,
  rotation_id text NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  shift_length integer NOT NULL,
  starts_at timestamptz NOT NULL,
  -- user ids in rotation order
  members text[] NOT NULL,
  -- [{days, from, to}] in the schedule's zone; empty = always
  restrictions jsonb NOT NULL,
  PRIMARY KEY (schedule_id, position)
);
CREATE INDEX schedule_rotations_rotation ON schedule_rotations (schedule_id, rotation_id);

CREATE TABLE schedule_overrides (
  schedule_id text NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  position integer NOT NULL,
  kind text NOT NULL,
  user_id text NOT NULL,
  replaces text,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  PRIMARY KEY (schedule_id, position)
);

CREATE TABLE schedule_temporary (
  schedule_id text NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  position integer NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  users text[] NOT NULL,
  PRIMARY KEY (schedule_id, position)
);

CREATE TABLE escalation_policies (
  id text PRIMARY KEY,
  name text NOT NULL,
  -- how many more times the whole policy runs after its last step
  repeats integer NOT NULL,
  configured_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

CREATE TABLE escalation_steps (
  policy_id text NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
  -- zero-based, as in EscalationStepReached
  step integer NOT NULL,
  delay_seconds integer NOT NULL,
  until_all_ack boolean NOT NULL,
  -- [{type: user|schedule|rotation|slack|webhook, …}]
  targets jsonb NOT NULL,
  PRIMARY KEY (policy_id, step)
);

-- Per-service defaults; the rules below are tried in position order.
CREATE TABLE routing (
  service_id text PRIMARY KEY,
  escalation_policy_id text,
  template_id text,
  ack_timeout_seconds integer,
  configured_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

CREATE TABLE routing_rules (
  service_id text NOT NULL REFERENCES routing (service_id) ON DELETE CASCADE,
  position integer NOT NULL,
  name text NOT NULL,
  -- CEL source, as configured
  condition text NOT NULL,
  policy_id text,
  template_id text,
  severity text,
  ticket_provider text,
  suppress boolean NOT NULL,
  continue_matching boolean NOT NULL,
  PRIMARY KEY (service_id, position)
);

CREATE TABLE maintenance_windows (
  id text PRIMARY KEY,
  name text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  -- empty = every service
  services text[] NOT NULL,
  labels jsonb NOT NULL,
  -- optional CEL source
  condition text,
  mode text NOT NULL,
  configured_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

CREATE TABLE calendars (
  id text PRIMARY KEY,
  name text NOT NULL,
  time_zone text NOT NULL,
  hours jsonb NOT NULL,
  -- local days off, YYYY-MM-DD (text: the log is not re-validated here)
  holidays text[] NOT NULL,
  configured_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

-- latest_version is the last version published (the one the escalator uses).
CREATE TABLE templates (
  id text PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  latest_version integer NOT NULL,
  published_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

-- Immutable: every published version is a row, never updated (a re-publication of a version
-- number changes nothing). Deleted with its template.
CREATE TABLE template_versions (
  template_id text NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
  version integer NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  channels jsonb NOT NULL,
  required_variables text[] NOT NULL,
  optional_variables text[] NOT NULL,
  created_by text NOT NULL,
  published_at timestamptz NOT NULL,
  event_seq bigint NOT NULL,
  PRIMARY KEY (template_id, version)
);

-- ---------------------------------------------------------------------------------------------
-- Escalation state (projector-escalations-v1, ESCALATIONS). Keyed by alert id and independent
-- of the alerts row, which another projection writes from another stream: either may run ahead
-- of the other, and neither reads the other's rows. alerts_with_escalation joins them.

CREATE TABLE alert_escalations (
  alert_id uuid PRIMARY KEY,
  service_id text NOT NULL,
  -- ALERTS sequence of the AlertTriggered the routing answered
  alert_seq bigint,
  -- AlertRouted (the latest: a maintenance window's end routes the alert again)
  routed_at timestamptz,
  routes integer NOT NULL,
  policy_id text,
  template_id text,
  template_version integer,
  -- names of the rules that matched, in order; empty = the service's defaults
  routing_rules text[],
  routed_severity text,
  ticket_provider text,
  ack_timeout_seconds integer,
  suppressed_by text,
  suppressed_window_id text,
  suppressed_until timestamptz,
  maintenance text[],
  -- EscalationStepReached: zero-based step, round and re-page
  escalation_step integer,
  escalation_round integer,
  escalation_page integer,
  step_reached_at timestamptz,
  step_reason text,
  step_recipients jsonb,
  -- when the next step or re-page is due; null when stopped or at the last step of the last round
  next_escalation_at timestamptz,
  -- EscalationStopped; cleared when a step is reached again
  escalation_stopped_reason text,
  escalation_stopped_at timestamptz,
  escalation_stopped_by text,
  reopen_at timestamptz,
  -- AlertReopenRequested; cleared by the next step or stop
  reopen_requested_at timestamptz,
  reopen_reason text,
  notifications_requested integer NOT NULL,
  -- time of the latest escalation event
  updated_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);
CREATE INDEX alert_escalations_next ON alert_escalations (next_escalation_at) WHERE next_escalation_at IS NOT NULL;

-- Escalation, delivery and ticket events of every alert, keyed by (stream, stream sequence):
-- alert_timeline is keyed by ALERTS sequence alone. Insert-only, each stream written by its own
-- projection, so the rows never depend on how the projections interleave.
CREATE TABLE escalation_timeline (
  stream text NOT NULL,
  seq bigint NOT NULL,
  alert_id uuid NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  event_type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  actor text NOT NULL,
  message text NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (stream, seq)
);
CREATE INDEX escalation_timeline_alert ON escalation_timeline (alert_id, occurred_at);

-- One notification (one recipient of one step, or a resolution notice). Two projections write
-- disjoint columns of a row: projector-escalations-v1 the request (NotificationRequested),
-- projector-deliveries-v1 the outcome (NotificationDelivered/Failed). Whichever comes first
-- inserts the row; the other's columns then hold their initial values (null, or the defaults
-- below, which are the outcome state before any outcome), so the row never depends on their order.
CREATE TABLE notifications (
  notification_id uuid PRIMARY KEY,
  alert_id uuid NOT NULL,
  service_id text NOT NULL,
  -- request (projector-escalations-v1); null until the request is projected
  kind text,
  step integer,
  round integer,
  page integer,
  recipient jsonb,
  recipient_type text,
  user_id text,
  contacts jsonb,
  template_id text,
  template_version integer,
  priority text,
  requested_at timestamptz,
  request_seq bigint,
  -- outcome (projector-deliveries-v1)
  status text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'delivered', 'failed')),
  -- {"<channel>": {status, destination, attempts, at, providerMessageId | reason, retryable, error, fallback}}: the latest outcome per channel
  channels jsonb NOT NULL DEFAULT '{}',
  delivered_at timestamptz,
  outcomes integer NOT NULL DEFAULT 0,
  last_outcome_at timestamptz,
  delivery_seq bigint
);
CREATE INDEX notifications_alert ON notifications (alert_id);

-- Every NotificationDelivered / NotificationFailed.
CREATE TABLE notification_deliveries (
  seq bigint PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  notification_id uuid NOT NULL,
  alert_id uuid NOT NULL,
  service_id text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed')),
  channel text NOT NULL,
  destination text NOT NULL,
  idempotency_key text NOT NULL,
  provider_message_id text,
  attempts integer NOT NULL,
  template_id text,
  template_version integer,
  bundled integer,
  reason text,
  retryable boolean,
  error text,
  fallback text,
  occurred_at timestamptz NOT NULL
);
CREATE INDEX notification_deliveries_notification ON notification_deliveries (notification_id, seq);
CREATE INDEX notification_deliveries_occurred ON notification_deliveries (occurred_at);

-- Tickets (projector-tickets-v1, TICKETS).
CREATE TABLE tickets (
  alert_id uuid NOT NULL,
  provider_id text NOT NULL,
  ticket_key text NOT NULL,
  service_id text NOT NULL,
  url text,
  -- 'created' until the provider reports a status
  status text NOT NULL,
  -- null when a status change is all the log holds
  created_at timestamptz,
  updated_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL,
  PRIMARY KEY (alert_id, provider_id, ticket_key)
);

-- ---------------------------------------------------------------------------------------------
-- Views.

-- Alerts with their escalation state and first ticket.
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

-- The whole history of an alert across streams. Order by occurred_at, stream_rank, seq.
CREATE VIEW alert_timeline_all AS
SELECT 'ALERTS' AS stream, 0 AS stream_rank, seq, alert_id, event_id, event_type, occurred_at, actor, message, data FROM alert_timeline
UNION ALL
SELECT stream, CASE stream WHEN 'ESCALATIONS' THEN 1 WHEN 'DELIVERIES' THEN 2 ELSE 3 END, seq, alert_id, event_id, event_type, occurred_at,
  actor, message, data
FROM escalation_timeline;

-- Notification outcomes per channel and UTC day (every attempt series is one outcome).
CREATE VIEW noc_notifications_by_channel_day AS
SELECT date_trunc('day', occurred_at AT TIME ZONE 'UTC') AS day, channel,
  count(*) FILTER (WHERE outcome = 'delivered') AS sent,
  count(*) FILTER (WHERE outcome = 'failed') AS failed,
  count(*) FILTER (WHERE outcome = 'failed' AND fallback IS NULL) AS failed_without_fallback,
  sum(attempts) AS attempts
FROM notification_deliveries GROUP BY 1, channel;

-- Open alerts with where their escalation stands (null escalation columns: not routed yet).
CREATE VIEW noc_escalations_open AS
SELECT a.id AS alert_id, a.service_id, a.severity, a.status, a.summary, a.created_at, a.snoozed_until,
  e.policy_id, e.escalation_step, e.escalation_round, e.escalation_page, e.step_reached_at, e.next_escalation_at,
  e.escalation_stopped_reason, e.reopen_at, e.suppressed_by, e.suppressed_until
FROM alerts a LEFT JOIN alert_escalations e ON e.alert_id = a.id
WHERE a.status <> 'resolved';

-- Down Migration
DROP VIEW noc_escalations_open;
DROP VIEW noc_notifications_by_channel_day;
DROP VIEW alert_timeline_all;
DROP VIEW alerts_with_escalation;
DROP TABLE tickets;
DROP TABLE notification_deliveries;
DROP TABLE notifications;
DROP TABLE escalation_timeline;
DROP TABLE alert_escalations;
DROP TABLE template_versions;
DROP TABLE templates;
DROP TABLE calendars;
DROP TABLE maintenance_windows;
DROP TABLE routing_rules;
DROP TABLE routing;
DROP TABLE escalation_steps;
DROP TABLE escalation_policies;
DROP TABLE schedule_temporary;
DROP TABLE schedule_overrides;
DROP TABLE schedule_rotations;
DROP TABLE schedules;
CREATE OR REPLACE VIEW noc_mtta_mttr_daily AS
SELECT service_id,
  date_trunc('day', created_at AT TIME ZONE 'UTC') AS day,
  count(*) AS alerts,
  count(acknowledged_at) AS acknowledged,
  count(resolved_at) AS resolved,
  extract(epoch FROM avg(acknowledged_at - created_at)) AS mtta_seconds,
  extract(epoch FROM avg(resolved_at - created_at)) AS mttr_seconds
FROM alerts GROUP BY service_id, 2;
ALTER TABLE alerts DROP COLUMN escalated_by;
ALTER TABLE alerts DROP COLUMN escalated_at;
ALTER TABLE alerts DROP COLUMN snoozed_by;
ALTER TABLE alerts DROP COLUMN snoozed_until;
ALTER TABLE alerts DROP COLUMN first_acknowledged_at;
ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check CHECK (status IN ('triggered', 'acknowledged', 'resolved'));
