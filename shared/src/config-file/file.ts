import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { unstorablePaths } from '@oncall/contracts';
import { SECTIONS, SINGLES } from './schemas.js';
import {
  checkTemplates,
  checkUsers,
  crossCheck,
  type BrokenIds,
  type Issue,
  type KnownUsers,
  type ParsedSections,
  type ParsedSingles,
  type SectionName,
  type SingleName,
  type TemplateValidator,
} from './references.js';

export type {
  Issue,
  KnownUsers,
  Path,
  SectionName,
  SingleName,
  TemplateValidator,
  TemplateProblem,
  TemplateToValidate,
} from './references.js';

const list = <T extends z.ZodTypeAny>(element: T) =>
  z
    .array(element)
    .nullish()
    .transform((v): Array<z.output<T>> => v ?? []);
const single = <T extends z.ZodTypeAny>(element: T) => element.nullish().transform((v): z.output<T> | null => v ?? null);

/**
 * The declarative configuration file (`oncall apply -f`): services (with their routing),
 * heartbeat monitors, business-hours calendars, notification templates, on-call schedules,
 * escalation policies, maintenance windows, users' notification rules equipment types and the NOC
 * model (sites and placement, inhibit rules, customer and response tiers: docs/noc.md). Unknown keys are errors, so a typo does not
 * silently drop a setting. The format is documented in docs/configuration.md.
 *
 * This schema describes the whole file; `parseConfigFile` parses it element by element so that
 * one broken element does not hide the problems of the others, and adds the checks across
 * elements (duplicate ids, references, calendars named in CEL).
 */
export const ConfigFile = z
  .object({
    services: list(SECTIONS.services),
    heartbeats: list(SECTIONS.heartbeats),
    calendars: list(SECTIONS.calendars),
    templates: list(SECTIONS.templates),
    schedules: list(SECTIONS.schedules),
    escalationPolicies: list(SECTIONS.escalationPolicies),
    maintenanceWindows: list(SECTIONS.maintenanceWindows),
    notificationRules: list(SECTIONS.notificationRules),
    sites: list(SECTIONS.sites),
    inhibitRules: list(SECTIONS.inhibitRules),
    /** Ticket providers (docs/tickets.md) that routing rules' `ticket:` name. */
    ticketProviders: list(SECTIONS.ticketProviders),
    placement: single(SINGLES.placement),
    customerTiers: single(SINGLES.customerTiers),
    responseTiers: single(SINGLES.responseTiers),
    /** One set of equipment types for every service; null = the file has none. */
    equipmentTypes: single(SINGLES.equipmentTypes),
  })
  .strict();
export type ConfigFile = z.infer<typeof ConfigFile>;

/** Every problem of a file, one per line: `<file>: <path>: <message>`. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[], options?: ErrorOptions) {
    const list = typeof problems === 'string' ? problems.split('\n') : problems;
    super(list.join('\n'), options);
    this.problems = list;
  }
}

/** Formats a path like `services[0].integrationKeys[1].key`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];
const SINGLE_NAMES = Object.keys(SINGLES) as SingleName[];
const UNSTORABLE = 'holds a NUL character or a lone surrogate, which PostgreSQL cannot store';
const TopLevel = z.object(Object.fromEntries([...SECTION_NAMES, ...SINGLE_NAMES].map((s) => [s, z.unknown()]))).strict();
const SectionList = z.array(z.unknown()).nullish();

type Analysis = { parsed: ParsedSections; singles: ParsedSingles; issues: Issue[] };

/** YAML, then `analyseValue`. */
function analyse(text: string, fileName: string): Analysis {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
    throw new ConfigFileError([`${fileName}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`], { cause: err });
  }
  return analyseValue(raw);
}

/** Every element on its own, then the checks across elements. `raw` is the file as written (parsed YAML). */
function analyseValue(raw: unknown): Analysis {
  // YAML's "\0" and "\ud800" escapes are legal, but PostgreSQL cannot store them: a person wrote them, and can fix them.
  const issues: Issue[] = unstorablePaths(raw).map((path) => ({ path, message: UNSTORABLE }));
  const top = TopLevel.safeParse(raw);
  if (!top.success) issues.push(...top.error.issues.map((i) => ({ path: i.path, message: i.message })));
  const record = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};

  const parsed = Object.fromEntries(SECTION_NAMES.map((s) => [s, []])) as unknown as ParsedSections;
  const broken = Object.fromEntries(SECTION_NAMES.map((s) => [s, new Set<string>()])) as unknown as BrokenIds;
  for (const section of SECTION_NAMES) {
    const items = SectionList.safeParse(record[section]);
    if (!items.success) {
      issues.push(...items.error.issues.map((i) => ({ path: [section, ...i.path], message: i.message })));
      continue;
    }
    (items.data ?? []).forEach((item, at) => {
      const result = SECTIONS[section].safeParse(item);
      if (result.success) {
        (parsed[section] as Array<{ at: number; value: unknown }>).push({ at, value: result.data });
        return;
      }
      issues.push(...result.error.issues.map((i) => ({ path: [section, at, ...i.path], message: i.message })));
      const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
      if (typeof id === 'string') broken[section].add(id);
    });
  }
  const singles = Object.fromEntries(SINGLE_NAMES.map((s) => [s, null])) as unknown as ParsedSingles;
  const brokenSingles = new Set<SingleName>();
  for (const name of SINGLE_NAMES) {
    if (record[name] === undefined || record[name] === null) continue;
    const result = SINGLES[name].safeParse(record[name]);
    if (result.success) (singles as Record<SingleName, unknown>)[name] = result.data;
    else {
      issues.push(...result.error.issues.map((i) => ({ path: [name, ...i.path], message: i.message })));
      brokenSingles.add(name);
    }
  }
  issues.push(...crossCheck(parsed, broken, singles, brokenSingles));
  return { parsed, singles, issues };
}

const lines = (fileName: string, issues: Issue[]): string[] => issues.map((i) => `${fileName}: ${formatPath(i.path)}: ${i.message}`);

function fileOf(parsed: ParsedSections, singles: ParsedSingles): ConfigFile {
  const values = <S extends SectionName>(s: S) => parsed[s].map((e) => e.value);
  return {
    services: values('services'),
    heartbeats: values('heartbeats'),
    calendars: values('calendars'),
    templates: values('templates'),
    schedules: values('schedules'),
    escalationPolicies: values('escalationPolicies'),
    maintenanceWindows: values('maintenanceWindows'),
    notificationRules: values('notificationRules'),
    sites: values('sites'),
    inhibitRules: values('inhibitRules'),
    ticketProviders: values('ticketProviders'),
    ...singles,
  };
}

/**
 * Parses YAML text and checks everything that needs nothing but the file: shapes, durations,
 * time zones, times, CEL conditions (with their line and column), ids and references. Every
 * problem is reported as `<file>: <field>: <message>`, one per line. Users are not checked.
 */
export function parseConfigFile(text: string, fileName: string): ConfigFile {
  const { parsed, singles, issues } = analyse(text, fileName);
  if (issues.length > 0) throw new ConfigFileError(lines(fileName, issues));
  return fileOf(parsed, singles);
}

export type ConfigCheckOptions = {
  /** Which user ids exist; without it users are not checked and a warning says so. */
  knownUsers?: KnownUsers;
  /** Where the users come from, for messages (`users.yaml`, `UserService at host:port`). */
  usersSource?: string;
  /** The dispatcher's template validator (liquid syntax, variables). */
  validateTemplate?: TemplateValidator;
};

export type CheckedConfigFile = { file: ConfigFile; warnings: string[] };

/**
 * `parseConfigFile` plus the checks that need the outside: users against `knownUsers`, templates
 * against `validateTemplate`. All problems of the file are reported together, file checks first.
 */
export async function checkConfigFile(text: string, fileName: string, opts: ConfigCheckOptions = {}): Promise<CheckedConfigFile> {
  const analysis = analyse(text, fileName);
  const issues = await outsideChecks(analysis, opts);
  if (issues.length > 0) throw new ConfigFileError(lines(fileName, issues));
  const warnings = opts.knownUsers ? [] : [`${fileName}: users not checked: no user source given (oncall apply --users <file>)`];
  return { file: fileOf(analysis.parsed, analysis.singles), warnings };
}

/** The analysis's issues and those of the checks that need the outside (users, templates). */
async function outsideChecks({ parsed, singles, issues }: Analysis, opts: ConfigCheckOptions): Promise<Issue[]> {
  const all = [...issues];
  if (opts.knownUsers) all.push(...(await checkUsers(parsed, opts.knownUsers, opts.usersSource ?? 'the user directory', singles)));
  if (opts.validateTemplate) all.push(...(await checkTemplates(parsed.templates, opts.validateTemplate)));
  return all;
}

/**
 * Every check of `checkConfigFile` on a file as written (`fileInput(model)`, or parsed YAML):
 * the problems with their paths (`schedules[2].overrides[0].end` as an array), and the model of
 * the elements that parsed (all of them when there are no problems). Configuration writes
 * through the API check their edited file so.
 */
export async function checkConfigValue(raw: unknown, opts: ConfigCheckOptions = {}): Promise<{ issues: Issue[]; file: ConfigFile }> {
  const analysis = analyseValue(raw);
  return { issues: await outsideChecks(analysis, opts), file: fileOf(analysis.parsed, analysis.singles) };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigFileError([`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], { cause: err });
  }
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  return parseConfigFile(await readText(path), path);
}

/** `readConfigFile` with the checks of `checkConfigFile`. */
export async function readAndCheckConfigFile(path: string, opts: ConfigCheckOptions = {}): Promise<CheckedConfigFile> {
  return checkConfigFile(await readText(path), path, opts);
}
