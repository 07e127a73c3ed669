import { Ajv, type SchemaObject } from 'ajv';
import type { z, ZodError } from 'zod';
import { RFC3339 } from './common.js';

/**
 * One ajv instance for the webhook schemas, set up to agree with zod 3 on every body:
 * `unicode: false` counts string lengths in UTF-16 units as zod's `max()` does (ajv counts code
 * points by default), `useDefaults` fills in what zod's `.default()` would, and the `rfc3339`
 * format is the very regex `IsoTime` uses (a JSON Schema `pattern` cannot carry its `i` flag).
 * Strict numbers (ajv 8's default) refuse 1e400 (Infinity) as `integer`, as zod's `int()` does.
 */
const ajv = new Ajv({
  useDefaults: true,
  unicode: false,
  formats: { rfc3339: RFC3339 },
  // ajv 8 calls `unicode: false` deprecated (it still honours it): that one warning is dropped.
  logger: {
    log: console.log,
    warn: (...args: unknown[]) => void (String(args[0]).includes('option unicode') || console.warn(...args)),
    error: console.error,
  },
});

export type CheckedParse<T> = ((body: unknown) => { success: true; data: T } | { success: false; error: ZodError }) & {
  /** Whether the compiled check alone accepts a body (left unchanged); for the agreement tests. */
  compiledAccepts: (body: unknown) => boolean;
};

/**
 * A webhook body's parse on the hot path: the compiled JSON Schema check (ajv generates a
 * function per schema; zod 3 interprets its schema tree on every call: docs/performance.md,
 * bench:ingest) and, only when it refuses, the zod schema — which gives
 * today's exact error message. A body ajv accepts is used as parsed (defaults filled in,
 * unknown keys left in place: the normalisers read only known fields). Both must accept the
 * same bodies (compiled.test.ts checks that with generated bodies); should ajv ever be the
 * stricter one, zod's answer wins, so the price of a mismatch is speed, not a refused alert.
 */
export function checkedParse<S extends z.ZodTypeAny>(zod: S, json: SchemaObject): CheckedParse<z.output<S>> {
  const validate = ajv.compile(json);
  const parse = (body: unknown) => {
    if (validate(body)) return { success: true as const, data: body as z.output<S> };
    const parsed = zod.safeParse(body);
    return parsed.success ? { success: true as const, data: parsed.data as z.output<S> } : { success: false as const, error: parsed.error };
  };
  return Object.assign(parse, { compiledAccepts: (body: unknown) => validate(structuredClone(body)) });
}

/** JSON Schema of `Labels` (common.ts): string keys of 1–1024 units to strings of at most 64 Ki units. */
export const LABELS_JSON: SchemaObject = {
  type: 'object',
  propertyNames: { type: 'string', minLength: 1, maxLength: 1024 },
  additionalProperties: { type: 'string', maxLength: 64 * 1024 },
};

export const ISO_TIME_JSON: SchemaObject = { type: 'string', format: 'rfc3339' };
