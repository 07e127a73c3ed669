import type { NatsConnection } from '@nats-io/transport-node';
import {
  holdLease,
  leaseBucket,
  SnapshotStore,
  systemClock,
  watchConfig,
  type Clock,
  type Logger,
  type UserDirectory,
} from '@oncall/shared';
import { escalationContext } from './adapters/context.js';
import { HandoffWatcher } from './adapters/handoffs.js';
import { HeartbeatWatcher } from './adapters/heartbeats.js';
import { EscalatorPartition } from './adapters/partition.js';
import { DEFAULT_SNAPSHOT_POLICY, type SnapshotPolicy } from './adapters/snapshot-taker.js';
import { PartitionSnapshots } from './adapters/snapshots.js';
import { StormView } from './adapters/storm-view.js';

export { loadEscalatorConfig, type EscalatorConfig } from './config.js';
export { decide, evolve, foldAlert, dueAt, type Escalation, type EscalationContext } from './domain/escalation.js';
export { DEFAULT_SNAPSHOT_POLICY, type SnapshotPolicy } from './adapters/snapshot-taker.js';

export type Stoppable = { stop: () => Promise<void> };

/**
 * Starts the escalator: for each alert partition, and for heartbeat monitoring, a lease holder
 * that runs the work while this replica owns it. Replicas share the work by leases; one that
 * dies is replaced when its leases expire. `clock` drives escalation timers (tests pass a
 * manual one); leases always run on real time, since the server expires them. Partitions start
 * from their latest snapshot (`snapshots`: when to take them; false: never take or read any).
 */
export async function startEscalator(opts: {
  nc: NatsConnection;
  partitions: number;
  users: UserDirectory;
  log: Logger;
  owner: string;
  clock?: Clock;
  replicas?: number;
  snapshots?: Partial<SnapshotPolicy> | false;
  /** Skip contact methods not verified (docs/notification-rules.md). Default false. */
  requireVerified?: boolean;
}): Promise<Stoppable> {
  const clock = opts.clock ?? systemClock;
  const config = await watchConfig(opts.nc);
  const kv = await leaseBucket(opts.nc, opts.replicas);
  const snapshots =
    opts.snapshots === false ? null : new PartitionSnapshots(await SnapshotStore.open(opts.nc, opts.replicas), opts.nc, opts.log);
  const snapshotPolicy = { ...DEFAULT_SNAPSHOT_POLICY, ...(opts.snapshots || {}) };
  const stop = new AbortController();
  // Every replica knows the firing inhibition sources and open incidents before it decides anything.
  const storm = await StormView.open(opts.nc, opts.log, opts.replicas);
  const context = escalationContext(config, opts.log, { requireVerified: opts.requireVerified, storm: (cfg) => storm.context(cfg) });
  const leaseOpts = { clock: systemClock, log: opts.log, stop: stop.signal };
  const runs = Array.from({ length: opts.partitions }, (_, partition) =>
    holdLease(
      kv,
      `escalator.p${partition}`,
      opts.owner,
      (lost, lease) =>
        new EscalatorPartition({
          nc: opts.nc,
          partition,
          clock,
          context,
          users: opts.users,
          log: opts.log,
          snapshots,
          snapshotPolicy,
          storm,
        }).run(lost, lease),
      leaseOpts,
    ),
  );
  runs.push(
    holdLease(
      kv,
      'escalator.heartbeats',
      opts.owner,
      (lost) => new HeartbeatWatcher({ nc: opts.nc, partitions: opts.partitions, config, clock, log: opts.log }).run(lost),
      leaseOpts,
    ),
  );
  runs.push(
    holdLease(
      kv,
      'escalator.handoffs',
      opts.owner,
      (lost) =>
        new HandoffWatcher({
          nc: opts.nc,
          config,
          users: opts.users,
          clock,
          log: opts.log.child({ part: 'handoffs' }),
          requireVerified: opts.requireVerified ?? false,
        }).run(lost),
      leaseOpts,
    ),
  );
  opts.log.info({ partitions: opts.partitions, owner: opts.owner }, 'escalator running');
  return {
    stop: async () => {
      stop.abort();
      await Promise.allSettled(runs);
      storm.stop();
      await config.stop();
    },
  };
}
