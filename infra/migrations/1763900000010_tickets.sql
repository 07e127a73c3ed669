-- Up Migration

-- Tickets (issue 18): the configured providers, what was asked of the ticket bridge per alert and
-- provider, and the tickets with their state. Documented in docs/tickets.md. Every column is a
-- function of the log.

-- Ticket providers (projector-config-v1, CONFIG: TicketProviderConfigured / TicketProviderRemoved).
-- `auth` and `inbound_secret` hold secret references ({env} / {file}), never secrets.
CREATE TABLE ticket_providers (
  id text PRIMARY KEY,
  type text NOT NULL,
  name text NOT NULL,
  settings jsonb NOT NULL,
  auth jsonb NOT NULL,
  fields jsonb NOT NULL,
  sync jsonb NOT NULL,
  inbound_secret jsonb,
  configured_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL
);

-- The bridge's work for one alert and provider (projector-tickets-v1, TICKETS): the first request,
-- then the outcome. status: 'requested' → 'created' | 'retrying' (a failed call will be tried again
-- at retry_at) | 'failed' (permanent). A sync failure after creation keeps 'created' and records the
-- error. Rows also start from TicketCreated / TicketSyncFailed / TicketUpdated when no request came
-- first (a rule's request is AlertRouted, on another stream).
CREATE TABLE ticket_requests (
  alert_id uuid NOT NULL,
  provider_id text NOT NULL,
  service_id text NOT NULL,
  status text NOT NULL,
  requested_at timestamptz,
  requested_by text,
  requested_user text,
  request_id text,
  ticket_key text,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  last_error_status integer,
  last_error_operation text,
  last_error_permanent boolean,
  last_failure_at timestamptz,
  retry_at timestamptz,
  last_success_at timestamptz,
  updated_at timestamptz NOT NULL,
  last_event_seq bigint NOT NULL,
  PRIMARY KEY (alert_id, provider_id)
);
-- ListProviders' health: the latest success and failure per provider.
CREATE INDEX ticket_requests_provider_success ON ticket_requests (provider_id, last_success_at DESC);
CREATE INDEX ticket_requests_provider_failure ON ticket_requests (provider_id, last_failure_at DESC);

-- Tickets gain our state word, the provider's own id, how they came (created by the bridge or
-- linked by a person), the last change the bridge made and who changed the status last.
ALTER TABLE tickets ADD COLUMN state text;
ALTER TABLE tickets ADD COLUMN external_id text;
ALTER TABLE tickets ADD COLUMN found boolean NOT NULL DEFAULT false;
ALTER TABLE tickets ADD COLUMN linked boolean NOT NULL DEFAULT false;
ALTER TABLE tickets ADD COLUMN linked_by text;
ALTER TABLE tickets ADD COLUMN last_change text;
ALTER TABLE tickets ADD COLUMN status_actor text;
ALTER TABLE tickets ADD COLUMN status_echo boolean;
-- GetTicket by key (a key is unique within a provider; an alert id is not needed).
CREATE INDEX tickets_provider_key ON tickets (provider_id, ticket_key);

-- Down Migration
DROP INDEX tickets_provider_key;
ALTER TABLE tickets DROP COLUMN status_echo;
ALTER TABLE tickets DROP COLUMN status_actor;
ALTER TABLE tickets DROP COLUMN last_change;
ALTER TABLE tickets DROP COLUMN linked_by;
ALTER TABLE tickets DROP COLUMN linked;
ALTER TABLE tickets DROP COLUMN found;
ALTER TABLE tickets DROP COLUMN external_id;
ALTER TABLE tickets DROP COLUMN state;
DROP TABLE ticket_requests;
DROP TABLE ticket_providers;
