import type { FastifyInstance } from 'fastify';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { HealthView } from '@oncall/contracts';
import { rows } from '../read-model/db.js';
import type { ConsoleAuth } from './auth.js';

const num = z.coerce.number();
const time = z.number();
const iso = (ms: number): string => new Date(ms).toISOString();

// Each part one bounded query over the NOC views and tables (docs/read-models.md).
const OPEN_BY_SITE = sql.type(z.object({ site: z.string(), open: num, critical: num }))`
  SELECT site, sum(open_alerts) AS open, coalesce(sum(open_alerts) FILTER (WHERE severity = 'critical'), 0) AS critical
  FROM noc_open_alerts_by_site GROUP BY site ORDER BY open DESC, site LIMIT 200`;

// Weekly from the daily view: the means weighted by the alerts acknowledged / resolved each day.
const MTTA_WEEKLY = sql.type(
  z.object({ service_id: z.string(), week: z.string(), alerts: num, mtta: num.nullable(), mttr: num.nullable() }),
)`
  SELECT service_id, to_char(date_trunc('week', day), 'IYYY-"W"IW') AS week, sum(alerts) AS alerts,
    sum(mtta_seconds * acknowledged) / nullif(sum(acknowledged) FILTER (WHERE mtta_seconds IS NOT NULL), 0) AS mtta,
    sum(mttr_seconds * resolved) / nullif(sum(resolved) FILTER (WHERE mttr_seconds IS NOT NULL), 0) AS mttr
  FROM noc_mtta_mttr_daily
  WHERE day >= date_trunc('week', (now() AT TIME ZONE 'UTC') - interval '7 weeks')
  GROUP BY service_id, 2 ORDER BY 2, service_id LIMIT 2000`;

const VOLUME = sql.type(z.object({ hour: time, alerts: num }))`
  SELECT h.hour, count(a.id) AS alerts
  FROM generate_series(date_trunc('hour', now()) - interval '47 hours', date_trunc('hour', now()), interval '1 hour') AS h(hour)
  LEFT JOIN alerts a ON a.created_at >= h.hour AND a.created_at < h.hour + interval '1 hour'
  GROUP BY h.hour ORDER BY h.hour`;

const NOISY = sql.type(z.object({ id: z.string(), service_id: z.string(), summary: z.string(), repeat_count: num }))`
  SELECT id, service_id, summary, repeat_count FROM alerts
  WHERE repeat_count > 0 AND (status <> 'resolved' OR resolved_at > now() - interval '7 days')
  ORDER BY repeat_count DESC, id LIMIT 10`;

const PARKED = sql.type(z.object({ consumer: z.string(), count: num, oldest: time }))`
  SELECT consumer, count(*) AS count, min(parked_at) AS oldest FROM parked_messages
  WHERE retry_outcome IS DISTINCT FROM 'applied' GROUP BY consumer ORDER BY count DESC, consumer LIMIT 50`;

// Failed deliveries of the last 24 hours by channel, with the latest error.
const FAILING = sql.type(z.object({ channel: z.string(), failed: num, last_error: z.string().nullable(), last_at: time }))`
  SELECT channel, count(*) AS failed, (array_agg(coalesce(error, reason) ORDER BY occurred_at DESC))[1] AS last_error,
    max(occurred_at) AS last_at
  FROM notification_deliveries WHERE outcome = 'failed' AND occurred_at > now() - interval '24 hours'
  GROUP BY channel ORDER BY failed DESC, channel LIMIT 50`;

export async function readHealth(pool: DatabasePool): Promise<HealthView> {
  const [sites, mtta, volume, noisy, parked, failing] = await Promise.all([
    rows(pool, OPEN_BY_SITE),
    rows(pool, MTTA_WEEKLY),
    rows(pool, VOLUME),
    rows(pool, NOISY),
    rows(pool, PARKED),
    rows(pool, FAILING),
  ]);
  return {
    openBySite: sites.map((s) => ({ site: s.site, open: s.open, critical: s.critical })),
    mtta: mtta.map((m) => ({ serviceId: m.service_id, week: m.week, alerts: m.alerts, mttaSeconds: m.mtta, mttrSeconds: m.mttr })),
    volume: volume.map((v) => ({ hour: iso(v.hour), alerts: v.alerts })),
    noisy: noisy.map((n) => ({ alertId: n.id, serviceId: n.service_id, summary: n.summary, repeats: n.repeat_count })),
    parked: parked.map((p) => ({ consumer: p.consumer, count: p.count, oldest: iso(p.oldest) })),
    failingDeliveries: failing.map((f) => ({ channel: f.channel, failed: f.failed, lastError: f.last_error, lastAt: iso(f.last_at) })),
  };
}

/** `GET /api/health`. */
export function registerHealthRoutes(app: FastifyInstance, deps: { auth: ConsoleAuth; pool: DatabasePool }): void {
  app.get('/api/health', async (req, reply): Promise<HealthView> => {
    await deps.auth.require(req, reply, 'read');
    return readHealth(deps.pool);
  });
}
