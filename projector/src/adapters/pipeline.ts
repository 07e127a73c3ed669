import type { Prepared, Projection } from '../projections/types.js';
import type { DomainEvent } from '@oncall/contracts';
import type { DecodedMessage } from './apply.js';

/**
 * Applies messages in batches, one transaction after the other, in stream order.
 *
 * A batch is what arrived while the batch before it was applied (at least one message, at most
 * `max`), so quiet periods get small fast batches and storms large ones (as `batches` in shared).
 * One thing more: once a full batch is waiting (a backlog: a storm, a replay), it is taken at once
 * and prepared (`projection.prepare`: folding, building the statements' parameters) while the
 * batch before it is still in its transaction, so PostgreSQL does not wait for this process
 * between batches. Transactions never overlap: a batch is applied after the one before commits.
 *
 * Stops when the source ends (after applying what it delivered), after the batch whose last
 * message satisfies `isLast`, or at the first failure of the source or of `apply` (thrown once
 * the batch in flight has settled). Reading pauses while `2 × max` messages wait.
 */
export async function applyInBatches(
  source: AsyncIterable<DecodedMessage>,
  max: number,
  projection: Projection,
  apply: (batch: readonly DecodedMessage[], prepared: Prepared | undefined) => Promise<void>,
  isLast: (last: DecodedMessage) => boolean = () => false,
): Promise<void> {
  const queue: DecodedMessage[] = [];
  let ended = false;
  let sourceFailure: { err: unknown } | undefined;
  let applyFailure: { err: unknown } | undefined;
  /** The batch being applied; never rejects (its failure goes to applyFailure). */
  let inFlight: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let resumeReader: (() => void) | undefined;
  const nudge = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const reader = (async () => {
    try {
      for await (const m of source) {
        queue.push(m);
        nudge();
        if (queue.length >= 2 * max) await new Promise<void>((resolve) => (resumeReader = resolve));
      }
    } catch (err) {
      sourceFailure = { err };
    } finally {
      ended = true;
      nudge();
    }
  })();

  /** Reads the failure through a call: it is set by callbacks, after TypeScript's narrowing. */
  const throwIfApplyFailed = () => {
    if (applyFailure) throw applyFailure.err;
  };
  const ready = () => applyFailure !== undefined || queue.length >= max || (queue.length > 0 && !inFlight) || (ended && !inFlight);
  try {
    for (;;) {
      while (!ready()) await new Promise<void>((resolve) => (wake = resolve));
      throwIfApplyFailed();
      if (queue.length === 0) {
        if (sourceFailure) throw sourceFailure.err;
        return;
      }
      const batch = queue.splice(0, max);
      resumeReader?.();
      resumeReader = undefined;
      // Prepared ahead only when every message decoded (a batch with one that did not is applied without it).
      const prepared = projection.prepare && batch.every(isDecoded) ? projection.prepare(batch) : undefined;
      await inFlight;
      throwIfApplyFailed();
      inFlight = apply(batch, prepared).then(
        () => {
          inFlight = undefined;
          nudge();
        },
        (err: unknown) => {
          applyFailure = { err };
          inFlight = undefined;
          nudge();
        },
      );
      if (isLast(batch[batch.length - 1]!)) {
        await inFlight;
        throwIfApplyFailed();
        return;
      }
    }
  } finally {
    await inFlight;
    // The caller closes the source when it stops early; the reader then ends by itself.
    resumeReader?.();
    void reader;
  }
}

const isDecoded = (m: DecodedMessage): m is DecodedMessage & { event: DomainEvent } => m.event !== null;
