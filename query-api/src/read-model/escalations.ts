import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';
import { Recipient } from '@oncall/contracts';

const EscalationRow = z.object({
  alert_id: z.string(),
  policy_id: z.string().nullable(),
  escalation_step: z.number().nullable(),
  escalation_round: z.number().nullable(),
  next_escalation_at: z.number().nullable(),
  escalation_stopped_reason: z.string().nullable(),
  reopen_at: z.number().nullable(),
  suppressed_by: z.string().nullable(),
  suppressed_until: z.number().nullable(),
});
export type EscalationRow = z.infer<typeof EscalationRow>;

export async function getEscalation(pool: DatabasePool, alertId: string): Promise<EscalationRow | null> {
  return maybeRow(
    pool,
    sql.type(EscalationRow)`
    SELECT alert_id, policy_id, escalation_step, escalation_round, next_escalation_at, escalation_stopped_reason, reopen_at,
      suppressed_by, suppressed_until
    FROM alert_escalations WHERE alert_id = ${alertId}`,
  );
}

const StepRow = z.object({
  occurred_at: z.number(),
  data: z.object({ step: z.number(), round: z.number(), page: z.number(), reason: z.string(), recipients: z.array(Recipient) }),
});
export type StepRow = z.infer<typeof StepRow>;

/** Every step the escalator reached for an alert, oldest first. */
export async function getSteps(pool: DatabasePool, alertId: string): Promise<readonly StepRow[]> {
  return rows(
    pool,
    sql.type(StepRow)`
    SELECT occurred_at, data FROM escalation_timeline
    WHERE alert_id = ${alertId} AND stream = 'ESCALATIONS' AND event_type = 'EscalationStepReached' ORDER BY seq`,
  );
}
