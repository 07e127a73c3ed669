import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS } from '@oncall/contracts';
import { apiActor, ConfigEditError, editConfig, validateTemplate, type KnownUsers, type PruneTarget } from '@oncall/shared/config-file';
import type { ProjectionFeed } from './adapters/projection-feed.js';
import { issuesToError, type Written } from './config-issues.js';
import type { ElementEdit } from './element-edits.js';
import { DeadlineExceeded, Unavailable } from './errors.js';
import type { CallContext } from './handlers.js';
import { callerOf, type Consistency } from './consistency.js';
import { knownUsersIn, type UserDirectory } from '@oncall/shared';

export type ConfigWriterDeps = {
  nc: NatsConnection;
  feed: ProjectionFeed;
  /** The user directory, as `oncall apply --users` checks it; without it users are not checked. */
  users: UserDirectory | null;
  consistency: Consistency;
  timeoutMs: number;
  now: () => number;
};

/**
 * Configuration writes of the API: the edit goes through `editConfig` (every check of `oncall
 * apply`, templates through the renderer), and the answer waits until the configuration read
 * model shows it, so the caller reads its own write.
 */
export class ConfigWriter {
  constructor(private readonly deps: ConfigWriterDeps) {}

  /** Resolves with the CONFIG sequence of the write once the read model has applied it. */
  async write(edit: ElementEdit, ctx: CallContext, prune: PruneTarget[] = []): Promise<number> {
    const last: { written: Written | null; directoryError: unknown } = { written: null, directoryError: null };
    const directory = this.deps.users;
    const users: KnownUsers | undefined = directory ? knownUsersIn(directory) : undefined;
    // A directory that does not answer is reported by the check as a problem of the file: here it is UNAVAILABLE.
    const knownUsers: KnownUsers | undefined =
      users &&
      (async (ids) => {
        try {
          return await users(ids);
        } catch (err) {
          last.directoryError = err;
          throw err;
        }
      });
    let seq: number;
    try {
      ({ seq } = await editConfig(
        this.deps.nc,
        (file) => {
          last.written = edit(file);
        },
        { actor: apiActor(callerOf(ctx) ?? 'unknown'), knownUsers, usersSource: 'the user directory', validateTemplate, prune },
      ));
    } catch (err) {
      if (err instanceof ConfigEditError && last.directoryError !== null)
        throw new Unavailable('the user directory did not answer; try again', { cause: last.directoryError });
      if (err instanceof ConfigEditError) throw issuesToError(err.issues, last.written);
      throw err;
    }
    const timeout = AbortSignal.timeout(Math.max(0, Math.min(this.deps.timeoutMs, (ctx.deadline ?? Infinity) - this.deps.now())));
    try {
      await this.deps.feed.waitFor(CONSUMERS.projectorConfig, seq, AbortSignal.any([ctx.signal, timeout]));
    } catch (err) {
      if (timeout.aborted && !ctx.signal.aborted)
        throw new DeadlineExceeded(`configuration written (sequence ${seq}) but not visible within the deadline`, { cause: err });
      throw err;
    }
    this.deps.consistency.wrote(ctx, seq);
    return seq;
  }
}

/** The writer, or UNAVAILABLE when the server runs without NATS or LISTEN. */
export function writerOrUnavailable(writer: ConfigWriter | null): ConfigWriter {
  if (!writer) throw new Unavailable('configuration writes need NATS and the read-model database (LISTEN)');
  return writer;
}
