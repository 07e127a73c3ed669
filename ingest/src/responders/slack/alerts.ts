import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { CommandTarget } from '@oncall/shared';
import type { OpenAlertRow } from './slash.js';

const OpenRow = z.object({
  id: z.string(),
  service_id: z.string(),
  severity: z.string(),
  site: z.string().nullable(),
  status: z.string(),
  summary: z.string(),
});
const Count = z.object({ n: z.coerce.number() });
const TargetRow = z.object({ id: z.string(), service_id: z.string(), fingerprint: z.string() });

/** The read model as the slash commands need it: open alerts, and an alert by a prefix of its id. */
export class OpenAlerts {
  constructor(private readonly pool: DatabasePool) {}

  /** Open alerts, worst effective severity first (the view applies the route's); `total` counts them all. */
  async list(limit: number): Promise<{ rows: OpenAlertRow[]; total: number }> {
    const [found, count] = await Promise.all([
      this.pool.any(sql.type(OpenRow)`
        SELECT id::text, service_id, severity, labels->>'site' AS site, status, summary
        FROM noc_open_alerts
        ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 WHEN 'warning' THEN 2 WHEN 'info' THEN 3 ELSE 4 END, created_at DESC
        LIMIT ${limit}`),
      this.pool.one(sql.type(Count)`SELECT count(*) AS n FROM alerts WHERE status <> 'resolved'`),
    ]);
    const rows = found
      .map((r) => OpenRow.parse(r))
      .map((r) => ({ id: r.id, serviceId: r.service_id, severity: r.severity, site: r.site, status: r.status, summary: r.summary }));
    return { rows, total: Count.parse(count).n };
  }

  /** Open alerts whose id starts with `prefix` (at most 5: more than one is ambiguous anyway). */
  async byPrefix(prefix: string): Promise<CommandTarget[]> {
    const pattern = `${prefix.replace(/[^0-9a-f-]/g, '')}%`;
    const found = await this.pool.any(
      sql.type(
        TargetRow,
      )`SELECT id::text, service_id, fingerprint FROM alerts WHERE status <> 'resolved' AND id::text LIKE ${pattern} ORDER BY created_at DESC LIMIT 5`,
    );
    return found.map((r) => TargetRow.parse(r)).map((r) => ({ alertId: r.id, serviceId: r.service_id, fingerprint: r.fingerprint }));
  }
}
