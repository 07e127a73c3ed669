import { z } from 'zod';
import { commonEnv, envDuration, parseEnv, port } from '@oncall/shared';

export const ProjectorConfig = z.object({
  NATS_URL: commonEnv.NATS_URL,
  DATABASE_URL: commonEnv.DATABASE_URL,
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
  METRICS_PORT: port(9102),
  /** Resolved alerts older than this move to the archive schema (0: never); see docs/reliability.md. */
  ONCALL_ARCHIVE_AFTER: envDuration('90d'),
  /** How often the archiver looks. */
  ONCALL_ARCHIVE_EVERY: envDuration('10m'),
});
export type ProjectorConfig = z.infer<typeof ProjectorConfig>;
export const loadProjectorConfig = (env?: NodeJS.ProcessEnv) => parseEnv(ProjectorConfig, env);
