import type { NatsConnection } from '@nats-io/transport-node';
import type { DatabasePool } from 'slonik';
import { Parking, serveParkedRetries, StreamAppender, type Logger } from '@oncall/shared';
import { ProjectionRunner } from './adapters/runner.js';
import { applyOne } from './adapters/apply.js';
import { alertsProjection } from './projections/alerts.js';
import { configProjection } from './projections/config.js';
import { heartbeatsProjection } from './projections/heartbeats.js';
import { escalationsProjection } from './projections/escalations.js';
import { deliveriesProjection } from './projections/deliveries.js';
import { ticketsProjection } from './projections/tickets.js';
import { parkedProjection } from './projections/parked.js';

export { alertsProjection } from './projections/alerts.js';
export { configProjection } from './projections/config.js';
export { heartbeatsProjection } from './projections/heartbeats.js';
export { escalationsProjection } from './projections/escalations.js';
export { deliveriesProjection } from './projections/deliveries.js';
export { ticketsProjection } from './projections/tickets.js';
export { parkedProjection } from './projections/parked.js';
export { replayProjection, type ReplayProgress } from './replay.js';
export { applyBatch, applyOne, SWITCH_LOCK } from './adapters/apply.js';
export { PROJECTION_CHANNEL } from '@oncall/contracts';
export { waitForProjection, ProjectionTimeoutError } from './adapters/wait.js';
export { describe as describeTimelineEvent, describeOther as describeOtherTimelineEvent } from './domain/timeline.js';
export { loadProjectorConfig, type ProjectorConfig } from './config.js';
export { archiveResolved, archiveSchemaOf, dropArchivedFrom, ensureArchive, startArchiver, ARCHIVED_TABLES } from './archive.js';
export type { Projection } from './projections/types.js';

/**
 * Every projection: the live projector runs them side by side, a replay one after another. No
 * projection reads another's rows (tables two of them write have disjoint columns per writer), so
 * any interleaving gives the same rows.
 */
export const PROJECTIONS = [
  configProjection,
  alertsProjection,
  heartbeatsProjection,
  escalationsProjection,
  deliveriesProjection,
  ticketsProjection,
  parkedProjection,
] as const;

/**
 * Starts every projection; the pool's search path selects the schema. Events a projection cannot
 * apply are parked on `parked.<projection>` and can be retried (`oncall parked retry`) while it runs.
 */
export async function startProjector(opts: {
  nc: NatsConnection;
  pool: DatabasePool;
  log: Logger;
}): Promise<{ stop: () => Promise<void> }> {
  const appender = new StreamAppender(opts.nc);
  const parking = new Parking(appender, opts.log);
  const runners = PROJECTIONS.map((p) => new ProjectionRunner(opts.nc, opts.pool, p, parking, opts.log.child({ projection: p.name })));
  const retries = PROJECTIONS.map((p) => serveParkedRetries(opts.nc, p.name, appender, opts.log, (m) => applyOne(opts.pool, p, m)));
  const runs = runners.map((r) => r.run());
  opts.log.info({ projections: PROJECTIONS.map((p) => p.name) }, 'projector running');
  return {
    stop: async () => {
      for (const r of retries) r.unsubscribe();
      await Promise.all(runners.map((r) => r.stop()));
      await Promise.allSettled(runs);
      await appender.close();
    },
  };
}
