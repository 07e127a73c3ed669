import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once with a zod schema and reports every problem together,
 * e.g. `invalid configuration: NATS_URL: Invalid url; INGEST_PORT: Expected number`.
 */
export function parseEnv<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data as z.infer<S>;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Settings every service shares. */
export const commonEnv = {
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  DATABASE_URL: z.string().url().default('postgres://postgres:postgres@127.0.0.1:54329/oncall'),
  READ_MODEL_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case SQL identifier')
    .default('oncall'),
  ONCALL_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(8),
  ONCALL_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
};
