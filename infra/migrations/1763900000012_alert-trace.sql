-- Up Migration

-- The trace id (32 hex digits) of the message that triggered the alert: the `traceparent` header
-- of its AlertTriggered message, present when tracing was on where the decider appended it
-- (docs/observability.md#tracing). The console links to the trace with it. A function of the log:
-- JetStream keeps headers with the message, so a replay writes the same value.
ALTER TABLE alerts ADD COLUMN trace_id text;

-- Down Migration
ALTER TABLE alerts DROP COLUMN trace_id;
