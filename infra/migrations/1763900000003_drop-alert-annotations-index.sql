-- Up Migration

-- No reader filters alerts by annotations (ListAlerts and the NOC views filter by labels; an
-- annotation holds free text such as a summary or a runbook URL), so this index only cost the
-- projector: entries for every new alert and every update that is not HOT (a status change),
-- and a GIN build after every replay's bulk load. Filtering by labels keeps its index.
DROP INDEX alerts_annotations_gin;

-- Down Migration
CREATE INDEX alerts_annotations_gin ON alerts USING gin (annotations jsonb_path_ops);
