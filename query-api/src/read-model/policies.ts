import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';
import { EscalationTarget } from '@oncall/contracts';
import type { PolicyRecord } from '../policy-mapping.js';

const PolicyRow = z.object({
  id: z.string(),
  name: z.string(),
  repeats: z.number(),
  configured_at: z.number(),
  steps: z.array(z.object({ delay_seconds: z.number(), until_all_ack: z.boolean(), targets: z.array(EscalationTarget) })),
});

const SELECT = sql.fragment`
  SELECT p.id, p.name, p.repeats, p.configured_at,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('delay_seconds', s.delay_seconds, 'until_all_ack', s.until_all_ack, 'targets', s.targets)
      ORDER BY s.step) FROM escalation_steps s WHERE s.policy_id = p.id), '[]') AS steps
  FROM escalation_policies p`;

const record = (r: z.infer<typeof PolicyRow>): PolicyRecord => ({
  id: r.id,
  name: r.name,
  repeat: r.repeats,
  configuredAt: r.configured_at,
  steps: r.steps.map((s) => ({ delaySeconds: s.delay_seconds, untilAllAck: s.until_all_ack, targets: s.targets })),
});

export async function getPolicy(pool: DatabasePool, id: string): Promise<PolicyRecord | null> {
  const row = await maybeRow(pool, sql.type(PolicyRow)`${SELECT} WHERE p.id = ${id}`);
  return row && record(row);
}

/** Policies by id. */
export async function listPolicies(pool: DatabasePool, afterId: string | null, limit: number): Promise<PolicyRecord[]> {
  const after = afterId === null ? sql.fragment`TRUE` : sql.fragment`p.id > ${afterId}`;
  return (await rows(pool, sql.type(PolicyRow)`${SELECT} WHERE ${after} ORDER BY p.id LIMIT ${limit}`)).map(record);
}
