import { z } from 'zod';
import { commonEnv, parseEnv, port } from '@oncall/shared';

export const QueryApiConfig = z.object({
  DATABASE_URL: commonEnv.DATABASE_URL,
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
  NATS_URL: commonEnv.NATS_URL,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
  GRPC_PORT: port(50051),
  GRPC_HOST: z.string().default('0.0.0.0'),
  METRICS_PORT: port(9105),
  /** Longest an alert command waits for its outcome to show in the read model. */
  COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** kneutral-api's UserService: configuration writes check the users they name against it (unset: not checked). */
  USER_SERVICE_URL: z.string().min(1).optional(),
});
export type QueryApiConfig = z.infer<typeof QueryApiConfig>;
export const loadQueryApiConfig = (env?: NodeJS.ProcessEnv) => parseEnv(QueryApiConfig, env);
