-- Up Migration

-- ListAlerts pages in keyset order, created_at then id, both descending (docs/query-api.md): each
-- index below serves one filter in that order, so a page reads about as many index entries as it
-- returns instead of sorting every match. Measured with `npm run bench:query` (docs/performance.md).
--   - no filter, time ranges, labels common enough to be found by walking: alerts_created_id
--     (replaces alerts_created, which lacked the id that breaks ties between equal times);
--   - open statuses (triggered, acknowledged, snoozed: a few percent of a long-lived table):
--     alerts_open_created_id, partial, so a status filter does not walk the resolved alerts;
--   - services: alerts_service_created_id (replaces alerts_service_status_created, which could
--     not give the order for a service without a status and no reader filters by both).
CREATE INDEX alerts_created_id ON alerts (created_at DESC, id DESC);
DROP INDEX alerts_created;
CREATE INDEX alerts_open_created_id ON alerts (created_at DESC, id DESC) WHERE status <> 'resolved';
CREATE INDEX alerts_service_created_id ON alerts (service_id, created_at DESC, id DESC);
DROP INDEX alerts_service_status_created;

-- Down Migration
CREATE INDEX alerts_service_status_created ON alerts (service_id, status, created_at DESC);
DROP INDEX alerts_service_created_id;
DROP INDEX alerts_open_created_id;
CREATE INDEX alerts_created ON alerts (created_at DESC);
DROP INDEX alerts_created_id;
