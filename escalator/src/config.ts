import { hostname } from 'node:os';
import { z } from 'zod';
import { commonEnv, parseEnv, port } from '@oncall/shared';

export const EscalatorConfig = z.object({
  NATS_URL: commonEnv.NATS_URL,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
  /** kneutral-api's UserService (host:port). */
  USER_SERVICE_URL: z.string().min(1, 'set USER_SERVICE_URL to the UserService (host:port)'),
  /** Names this replica in partition leases; replicas on one host need different ids. */
  ESCALATOR_ID: z.string().min(1).default(`${hostname()}:escalator`),
  METRICS_PORT: port(9103),
  /** Page only on verified contact methods; unverified ones are skipped and the skip recorded. */
  ONCALL_REQUIRE_VERIFIED: z
    .enum(['true', 'false'], { message: 'use true or false' })
    .default('false')
    .transform((v) => v === 'true'),
});
export type EscalatorConfig = z.infer<typeof EscalatorConfig>;

export const loadEscalatorConfig = (env?: NodeJS.ProcessEnv) => parseEnv(EscalatorConfig, env);
