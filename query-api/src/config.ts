import { z } from 'zod';
import { commonEnv, parseEnv, port } from '@oncall/shared';

export const QueryApiConfig = z.object({
  DATABASE_URL: commonEnv.DATABASE_URL,
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
  GRPC_PORT: port(50051),
  GRPC_HOST: z.string().default('0.0.0.0'),
  METRICS_PORT: port(9103),
});
export type QueryApiConfig = z.infer<typeof QueryApiConfig>;
export const loadQueryApiConfig = (env?: NodeJS.ProcessEnv) => parseEnv(QueryApiConfig, env);
