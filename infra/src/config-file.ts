import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use 1-63 lower-case letters, digits and dashes');

const IntegrationKey = z
  .object({
    name: z.string().min(1).max(100),
    key: z.string().min(16, 'integration keys need at least 16 characters').max(256).regex(/^\S+$/, 'no white space'),
  })
  .strict();

const Service = z
  .object({
    id: Slug,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    integrationKeys: z.array(IntegrationKey).default([]),
  })
  .strict();

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** "30s", "5m", "25h", "7d" → seconds. */
const Interval = z
  .string()
  .regex(DURATION, 'use a number and a unit: 30s, 5m, 25h, 7d')
  .transform((v) => {
    const [, n, unit] = DURATION.exec(v)!;
    return Number(n) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  })
  .refine((s) => s >= 10 && s <= 30 * 86400, 'must be between 10s and 30d');

const Heartbeat = z
  .object({
    id: Slug,
    name: z.string().min(1).max(200),
    service: Slug,
    interval: Interval,
  })
  .strict();

/**
 * The declarative configuration file (`oncall apply -f`). Unknown keys are errors, so a typo
 * does not silently drop a setting. Later issues add schedules, policies, rules and templates.
 */
export const ConfigFile = z
  .object({
    services: z
      .array(Service)
      .nullish()
      .transform((s) => s ?? []),
    heartbeats: z
      .array(Heartbeat)
      .nullish()
      .transform((h) => h ?? []),
  })
  .strict()
  .superRefine((file, ctx) => {
    const ids = new Map<string, number>();
    const keys = new Map<string, string>();
    file.services.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['services', i, 'id'], message: `duplicate service id "${s.id}" (also services[${ids.get(s.id)}])` });
      if (!ids.has(s.id)) ids.set(s.id, i);
      s.integrationKeys.forEach((k, j) => {
        const where = `services[${i}].integrationKeys[${j}]`;
        const other = keys.get(k.key);
        if (other) ctx.addIssue({ code: 'custom', path: ['services', i, 'integrationKeys', j, 'key'], message: `the same key is used by ${other}` });
        if (!other) keys.set(k.key, where);
      });
    });
    const monitors = new Set<string>();
    file.heartbeats.forEach((h, i) => {
      if (monitors.has(h.id)) ctx.addIssue({ code: 'custom', path: ['heartbeats', i, 'id'], message: `duplicate heartbeat id "${h.id}"` });
      monitors.add(h.id);
      if (!ids.has(h.service)) ctx.addIssue({ code: 'custom', path: ['heartbeats', i, 'service'], message: `no service "${h.service}" in this file` });
    });
  });
export type ConfigFile = z.infer<typeof ConfigFile>;

export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
}

/** Formats a path like `services[0].integrationKeys[1].key`. */
function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

/** Parses YAML text; every problem is reported as `<file>: <field>: <message>`. */
export function parseConfigFile(text: string, fileName: string): ConfigFile {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
    throw new ConfigFileError(`${fileName}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = ConfigFile.safeParse(raw);
  if (!result.success) {
    throw new ConfigFileError(result.error.issues.map((i) => `${fileName}: ${formatPath(i.path)}: ${i.message}`).join('\n'));
  }
  return result.data;
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigFileError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfigFile(text, path);
}
