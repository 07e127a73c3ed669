-- Up Migration

-- NOC views over the read models, for dashboards (Grafana's PostgreSQL data source) and SQL users.
-- Documented in docs/read-models.md. Views only: they follow every replay for free.

CREATE VIEW noc_open_alerts AS
SELECT id, service_id, severity, status, summary, created_at, last_seen_at, repeat_count,
  labels ->> 'team' AS team, coalesce(labels ->> 'site', labels ->> 'pop') AS site, labels, annotations
FROM alerts
WHERE status <> 'resolved';

CREATE VIEW noc_open_alerts_by_severity AS
SELECT severity, count(*) AS open_alerts, count(*) FILTER (WHERE status = 'triggered') AS unacknowledged
FROM noc_open_alerts GROUP BY severity;

CREATE VIEW noc_open_alerts_by_service AS
SELECT service_id, severity, count(*) AS open_alerts, count(*) FILTER (WHERE status = 'triggered') AS unacknowledged
FROM noc_open_alerts GROUP BY service_id, severity;

CREATE VIEW noc_open_alerts_by_team AS
SELECT coalesce(team, '(none)') AS team, severity, count(*) AS open_alerts
FROM noc_open_alerts GROUP BY 1, severity;

CREATE VIEW noc_open_alerts_by_site AS
SELECT coalesce(site, '(none)') AS site, severity, count(*) AS open_alerts
FROM noc_open_alerts GROUP BY 1, severity;

-- Mean time to acknowledge / resolve, per service and UTC day the alerts were created.
CREATE VIEW noc_mtta_mttr_daily AS
SELECT service_id,
  date_trunc('day', created_at AT TIME ZONE 'UTC') AS day,
  count(*) AS alerts,
  count(acknowledged_at) AS acknowledged,
  count(resolved_at) AS resolved,
  extract(epoch FROM avg(acknowledged_at - created_at)) AS mtta_seconds,
  extract(epoch FROM avg(resolved_at - created_at)) AS mttr_seconds
FROM alerts GROUP BY service_id, 2;

-- A monitor is late when no beat came within its interval (or none ever came).
CREATE VIEW noc_heartbeat_health AS
SELECT m.id AS monitor_id, m.service_id, m.name, m.interval_seconds, b.last_beat_at,
  (b.last_beat_at IS NOT NULL AND b.last_beat_at > now() - make_interval(secs => m.interval_seconds)) AS healthy
FROM heartbeat_monitors m LEFT JOIN heartbeat_beats b ON b.monitor_id = m.id;

-- Down Migration
DROP VIEW noc_heartbeat_health;
DROP VIEW noc_mtta_mttr_daily;
DROP VIEW noc_open_alerts_by_site;
DROP VIEW noc_open_alerts_by_team;
DROP VIEW noc_open_alerts_by_service;
DROP VIEW noc_open_alerts_by_severity;
DROP VIEW noc_open_alerts;
