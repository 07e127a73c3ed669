import { hostname } from 'node:os';
import { z } from 'zod';
import { actionSecretEnv, commonEnv, parseEnv, port } from '@oncall/shared';

export const IngestConfig = z.object({
  NATS_URL: commonEnv.NATS_URL,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
  INGEST_PORT: port(8080),
  INGEST_HOST: z.string().default('0.0.0.0'),
  INGEST_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  INGEST_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(1000),
  /** The base URL people reach this system at: action links, Slack and Twilio callbacks. */
  ONCALL_PUBLIC_URL: z.string().url().optional(),
  /** Checks the signature of Twilio's requests (SMS replies, call digits, status callbacks). */
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  /** Signs and checks action links (shared with the dispatcher); without it, /a/<token> refuses every link. */
  ONCALL_ACTION_SECRET: actionSecretEnv,
  /** The secret before a rotation: links it signed keep working until they expire. */
  ONCALL_ACTION_SECRET_PREVIOUS: actionSecretEnv,
  /** Slack app's signing secret; unset: the Slack routes answer 503. */
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  /** UserService (host:port): who a Slack member is. Unset: no Slack member is linked. */
  USER_SERVICE_URL: z.string().min(1).optional(),
  /** The read model, for `/oncall alerts|ack|resolve` from Slack. Unset: those say so. */
  DATABASE_URL: z.string().url().optional(),
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
});
export type IngestConfig = z.infer<typeof IngestConfig>;

export const DeciderConfig = z.object({
  NATS_URL: commonEnv.NATS_URL,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
  METRICS_PORT: port(9101),
  /** Names this replica in the partition leases; replicas on one host need different ids. */
  DECIDER_ID: z.string().min(1).default(`${hostname()}:decider`),
});
export type DeciderConfig = z.infer<typeof DeciderConfig>;

export const loadIngestConfig = (env?: NodeJS.ProcessEnv) => parseEnv(IngestConfig, env);
export const loadDeciderConfig = (env?: NodeJS.ProcessEnv) => parseEnv(DeciderConfig, env);
