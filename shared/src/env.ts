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

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration setting: `30d`, `12h`, `90m`, `45s`, `250ms`, or `0` (none) → milliseconds. */
export const envDuration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const m = DURATION.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a duration: use 30d, 12h, 90m, 45s or 0` });
        return z.NEVER;
      }
      return Number(m[1]) * DURATION_MS[(m[2] ?? 'ms') as keyof typeof DURATION_MS];
    });

const BYTES = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/i;
const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A size setting: `16GiB`, `500MB`, `2000000` → bytes. */
export const envBytes = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const m = BYTES.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${v}" is not a size: use 16GiB, 500MB or a number of bytes` });
        return z.NEVER;
      }
      return Math.floor(Number(m[1]) * BYTE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
    });

/** What the streams may hold (see StreamLimits in contracts); every service creating the topology must agree. */
export const StreamLimitsEnv = z.object({
  ONCALL_STREAM_MAX_BYTES: envBytes('16GiB'),
  ONCALL_INTAKE_RETENTION: envDuration('30d'),
  ONCALL_LOG_RETENTION: envDuration('0'),
});
