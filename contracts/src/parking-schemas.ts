import { z } from 'zod';
import { isoTime } from './common-schemas.js';

/**
 * Messages a consumer could not apply or decide (invariant 7: one bad event never stops a stream).
 * The consumer parks the message on `parked.<consumer>` and goes on; `oncall parked` lists them and
 * asks the consumer to retry one. The original message stays where it is (its stream and sequence);
 * its bytes are kept here too, so the record explains itself even after that stream's retention.
 */
export const ParkReason = z.enum([
  /** Not JSON, or an envelope no schema knows (e.g. written by a newer release). */
  'undecodable',
  /** The read model's database refused it (a constraint, unstorable text). */
  'rejected-by-database',
  /** The pure decision threw (a bug, or an input the rules cannot decide). */
  'undecidable',
  /** The delivery pipeline failed on it in a way no retry can mend. */
  'undeliverable',
]);
export type ParkReason = z.infer<typeof ParkReason>;

const where = {
  /** The durable consumer or projection that parked it (`projector-alerts-v1`, `decider-p3-v1`, …). */
  consumer: z.string().min(1),
  stream: z.string().min(1),
  seq: z.number().int().positive(),
};

export const parkingSchemas = {
  MessageParked: {
    1: z.object({
      ...where,
      subject: z.string(),
      reason: ParkReason,
      /** The error, made storable and cut to 2000 characters. */
      error: z.string(),
      /** The message as stored, base64 (cut to 256 KiB; `truncated` says so). */
      data: z.string(),
      truncated: z.boolean(),
      parkedAt: isoTime,
    }),
  },
  /** The consumer was asked to take a parked message again: `applied`, or it failed again (`error`). */
  ParkedMessageRetried: {
    1: z.object({ ...where, outcome: z.enum(['applied', 'failed']), error: z.string().nullable(), retriedAt: isoTime }),
  },
} as const;
