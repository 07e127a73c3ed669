-- Up Migration

-- The console's live board (docs/console.md): after each projector commit it reads the alerts whose
-- row changed since its cursor, by the sequence of their last event in each projection.
CREATE INDEX alerts_last_event_seq ON alerts (last_event_seq);
CREATE INDEX alert_escalations_last_event_seq ON alert_escalations (last_event_seq);

-- Down Migration
DROP INDEX alert_escalations_last_event_seq;
DROP INDEX alerts_last_event_seq;
