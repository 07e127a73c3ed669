-- Up Migration

-- One row per projection: the last stream sequence applied, advanced in the same transaction
-- as the rows it produced. updated_at is wall-clock bookkeeping (excluded from replay checks).
CREATE TABLE projection_checkpoints (
  projection text PRIMARY KEY,
  last_seq bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
  id text PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  configured_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

-- Integration keys are known only by their SHA-256.
CREATE TABLE integration_keys (
  key_hash text PRIMARY KEY,
  service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
  name text NOT NULL
);

CREATE TABLE alerts (
  id uuid PRIMARY KEY,
  service_id text NOT NULL,
  fingerprint text NOT NULL,
  status text NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
  source text NOT NULL,
  summary text NOT NULL,
  details text NOT NULL,
  severity text NOT NULL,
  labels jsonb NOT NULL,
  annotations jsonb NOT NULL,
  links jsonb NOT NULL,
  custom jsonb NOT NULL,
  generator_url text,
  starts_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at timestamptz,
  resolved_by text,
  external_ticket_id text,
  repeat_count integer NOT NULL,
  last_seen_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);
CREATE INDEX alerts_labels_gin ON alerts USING gin (labels jsonb_path_ops);
CREATE INDEX alerts_annotations_gin ON alerts USING gin (annotations jsonb_path_ops);
CREATE INDEX alerts_service_status_created ON alerts (service_id, status, created_at DESC);
CREATE INDEX alerts_created ON alerts (created_at DESC);
-- The decider opens at most one alert per (service, fingerprint) at a time.
CREATE UNIQUE INDEX alerts_one_open_per_fingerprint ON alerts (service_id, fingerprint) WHERE status <> 'resolved';

-- Every lifecycle event of every alert, keyed by its ALERTS stream sequence.
CREATE TABLE alert_timeline (
  seq bigint PRIMARY KEY,
  alert_id uuid NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  event_type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  actor text NOT NULL,
  message text NOT NULL,
  data jsonb NOT NULL
);
CREATE INDEX alert_timeline_alert ON alert_timeline (alert_id, seq);

CREATE TABLE heartbeat_monitors (
  id text PRIMARY KEY,
  service_id text NOT NULL,
  name text NOT NULL,
  interval_seconds integer NOT NULL,
  last_event_seq bigint NOT NULL
);

-- Kept apart from heartbeat_monitors so the two projections never depend on each other's order.
CREATE TABLE heartbeat_beats (
  monitor_id text PRIMARY KEY,
  last_beat_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

-- Down Migration
DROP TABLE heartbeat_beats;
DROP TABLE heartbeat_monitors;
DROP TABLE alert_timeline;
DROP TABLE alerts;
DROP TABLE integration_keys;
DROP TABLE services;
DROP TABLE projection_checkpoints;
