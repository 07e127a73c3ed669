-- Up Migration

-- Messages a consumer could not apply or decide (invariant 7), from the PARKED stream: one row per
-- parked message, with the latest retry's outcome. `data` is the message as stored (bytea: it may
-- hold exactly the bytes PostgreSQL refuses as text).
CREATE TABLE parked_messages (
  consumer text NOT NULL,
  stream text NOT NULL,
  seq bigint NOT NULL,
  subject text NOT NULL,
  reason text NOT NULL,
  error text NOT NULL,
  data bytea NOT NULL,
  truncated boolean NOT NULL,
  parked_at timestamptz NOT NULL,
  retries integer NOT NULL DEFAULT 0,
  retried_at timestamptz,
  retry_outcome text,
  retry_error text,
  last_event_seq bigint NOT NULL,
  PRIMARY KEY (consumer, stream, seq)
);
-- Open ones first on the console: not retried, or retried and failed.
CREATE INDEX parked_messages_open ON parked_messages (parked_at) WHERE retry_outcome IS DISTINCT FROM 'applied';

-- Down Migration
DROP TABLE parked_messages;
