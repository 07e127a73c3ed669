import { Metadata } from '@grpc/grpc-js';
import { CONSUMERS } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import type { ProjectionFeed } from './adapters/projection-feed.js';
import { InvalidArgument, Unavailable } from './errors.js';
import type { CallContext } from './handlers.js';

/** Response header of a configuration write: the CONFIG stream sequence it produced, `config:<seq>`. */
export const LOG_SEQUENCE_HEADER = 'x-oncall-log-sequence';
/** Request header of a read: answer only once the read model holds CONFIG sequence `<seq>` (`config:<seq>`). */
export const MIN_SEQUENCE_HEADER = 'x-oncall-min-sequence';
/**
 * A wait ends this long before the call's deadline, so the caller gets the UNAVAILABLE that says
 * why (and which sequence) rather than its own DEADLINE_EXCEEDED. 50 ms was too little on a busy
 * machine: the answer arrived after the deadline in a full test run.
 */
const ANSWER_MARGIN_MS = 250;

const CALLERS_REMEMBERED = 10_000;

/** Who a call comes from, for "the caller's own writes" and the actor of configuration writes: its token (the peer address without one). */
export const callerOf = (ctx: CallContext): string | null => (ctx.caller ? `token:${ctx.caller.tokenId}` : (ctx.peer ?? null));

/**
 * Read-your-writes for configuration: a write answers with the CONFIG sequence it produced (header
 * `x-oncall-log-sequence: config:<seq>`); a read waits until the config projection has applied
 * the sequence the caller names (`x-oncall-min-sequence: config:<seq>`), and by default the
 * caller's own last write. Waits are bounded by `maxWaitMs` and the call's deadline.
 */
export class Consistency {
  /** Last write per caller, oldest first (a Map keeps insertion order). */
  private readonly lastWrite = new Map<string, number>();

  constructor(
    private readonly feed: ProjectionFeed | null,
    private readonly log: Logger,
    private readonly maxWaitMs = 5_000,
  ) {}

  /** After a write: the sequence goes in the response headers and is remembered for the caller. */
  wrote(ctx: CallContext, seq: number): void {
    const md = new Metadata();
    md.set(LOG_SEQUENCE_HEADER, `config:${seq}`);
    ctx.sendMetadata?.(md);
    const caller = callerOf(ctx);
    if (caller === null) return;
    const last = Math.max(seq, this.lastWrite.get(caller) ?? 0);
    this.lastWrite.delete(caller); // re-inserted as the newest
    this.lastWrite.set(caller, last);
    if (this.lastWrite.size > CALLERS_REMEMBERED) this.lastWrite.delete(this.lastWrite.keys().next().value as string);
  }

  /**
   * Before a read: waits for the asked sequence (UNAVAILABLE if not reached in time) and the
   * caller's own last write (served anyway if not reached in time, with a warning logged).
   */
  async before(ctx: CallContext): Promise<void> {
    const asked = minSequence(ctx);
    const caller = callerOf(ctx);
    const own = caller === null ? 0 : (this.lastWrite.get(caller) ?? 0);
    const seq = Math.max(asked, own);
    if (seq === 0 || !this.feed) return;
    const budget = Math.min(this.maxWaitMs, ctx.deadline === null ? Infinity : ctx.deadline - Date.now() - ANSWER_MARGIN_MS);
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(0, budget))]);
    try {
      await this.feed.waitFor(CONSUMERS.projectorConfig, seq, signal);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (asked >= seq) throw new Unavailable(`the read model has not reached config:${seq} yet; try again`, { cause: err });
      this.log.warn({ err, seq }, "read served before the caller's own write was projected");
    }
  }

  /** A unary read handler that first waits as `before` does. */
  read<Req, Res>(run: (request: Req, ctx: CallContext) => Promise<Res>) {
    return async (request: Req, ctx: CallContext): Promise<Res> => {
      await this.before(ctx);
      return run(request, ctx);
    };
  }
}

function minSequence(ctx: CallContext): number {
  const [value] = ctx.metadata?.get(MIN_SEQUENCE_HEADER) ?? [];
  if (value === undefined) return 0;
  const m = /^config:(\d{1,15})$/.exec(String(value));
  if (!m) throw new InvalidArgument(MIN_SEQUENCE_HEADER, 'use config:<sequence>, as a write returned it in x-oncall-log-sequence');
  return Number(m[1]);
}
