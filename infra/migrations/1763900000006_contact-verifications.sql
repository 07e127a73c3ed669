-- Up Migration

-- Contact-method verification (docs/notification-rules.md#contact-verification), from the CONFIG
-- stream: one row per user and channel with the pending request (if any) and the last verified
-- address. Never the code, nor its hash.
CREATE TABLE contact_verifications (
  user_id text NOT NULL,
  channel text NOT NULL,
  pending_request_id uuid,
  pending_address text,
  requested_at timestamptz,
  expires_at timestamptz,
  verified_address text,
  verified_at timestamptz,
  verified_via text,
  last_event_seq bigint NOT NULL,
  PRIMARY KEY (user_id, channel)
);

-- Down Migration
DROP TABLE contact_verifications;
