import { z } from 'zod';
import {
  ContactChannel,
  REQUIRED_TICKET_FIELDS,
  SecretRef,
  Severity,
  TicketAuth,
  TicketProviderType,
  TicketState,
  TimeOfDay,
  Weekday,
  type EscalationTarget,
  type TemplateChannels,
} from '@oncall/contracts';
import {
  compileTicketFields,
  isValidDate,
  isValidTimeZone,
  ruleCache,
  RuleCompileError,
  sha256Hex,
  TicketFieldError,
  toZonedIso,
} from '../index.js';
import { customerTiers, inhibitRule, LabelName, Placement, responseTiers, Site, TierId } from './noc.js';

/**
 * Schemas of the elements of the configuration file. Strict everywhere: an unknown key is an
 * error, so a typo never silently drops a setting. What an element means once parsed is close
 * to the file (ids, not event names), with durations in seconds and times as ISO 8601 with an
 * offset; `planApply` turns elements into configuration events.
 */

/** Service and heartbeat ids (kept as they were: dashes only). */
export const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use 1-63 lower-case letters, digits and dashes');
/** Ids of schedules, rotations, policies, calendars, templates and maintenance windows. Underscores allowed so `calendars.noc_hours` reads in CEL. */
export const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use 1-63 lower-case letters, digits, dashes and underscores');
/** Ids of users as the user directory knows them; whether they exist is checked separately. */
const UserId = z.string().min(1).max(128);
const Name = z.string().min(1).max(200);

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** "30s", "5m", "25h", "7d" → seconds, within [min, max]. */
export function duration(minSeconds: number, maxSeconds: number, rangeMessage: string) {
  return z
    .string()
    .regex(DURATION, 'use a number and a unit: 30s, 5m, 25h, 7d')
    .transform((v) => {
      const [, n, unit] = DURATION.exec(v)!;
      return Number(n) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
    })
    .refine((s) => s >= minSeconds && s <= maxSeconds, rangeMessage);
}

/** Heartbeat interval. */
export const Interval = duration(10, 30 * 86400, 'must be between 10s and 30d');

const TimeZone = z
  .string()
  .refine(isValidTimeZone, (zone) => ({ message: `unknown time zone "${zone}" (use an IANA name like Europe/Berlin or UTC)` }));

/** One compile cache for the file: references are checked later from the same compiled rules. */
export const compiled = ruleCache();

/** A CEL condition; compile errors carry their position inside the source. */
const Condition = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    try {
      compiled(source);
    } catch (err) {
      if (!(err instanceof RuleCompileError)) throw err;
      ctx.addIssue({ code: 'custom', message: `line ${err.line}, column ${err.column}: ${err.message}` });
    }
  });

/** A time with an offset, or local wall-clock time in `zone`; as ISO 8601 with the zone's offset. */
function zonedTime(text: string, zone: string | null, path: Array<string | number>, ctx: z.RefinementCtx): string {
  if (zone === null) {
    if (!/(Z|[+-]\d{2}:\d{2})$/.test(text)) {
      ctx.addIssue({ code: 'custom', path, message: 'add an offset (2026-03-02T22:00:00+01:00) or set timeZone to write local time' });
      return text;
    }
    const checked = toZonedIso(text, 'UTC');
    if (!checked.ok) ctx.addIssue({ code: 'custom', path, message: checked.message });
    return text;
  }
  const result = toZonedIso(text, zone);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', path, message: result.message });
    return text;
  }
  return result.iso;
}

function endAfterStart(start: string, end: string, path: Array<string | number>, ctx: z.RefinementCtx): void {
  const s = Date.parse(start);
  const e = Date.parse(end);
  if (!Number.isNaN(s) && !Number.isNaN(e) && e <= s)
    ctx.addIssue({ code: 'custom', path: [...path, 'end'], message: `must be after start (${start})` });
}

// ─── Services and heartbeats ──────────────────────────────────────────────────────────────────

/**
 * A key as written (`key`), or as the log stores it (`keyHash`, hex SHA-256: what `oncall export`
 * writes, since the key itself is never stored), so an exported file applies unchanged.
 */
const IntegrationKey = z
  .object({
    name: z.string().min(1).max(100),
    key: z.string().min(16, 'integration keys need at least 16 characters').max(256).regex(/^\S+$/, 'no white space').optional(),
    keyHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'use the hex SHA-256 of the key (64 characters 0-9a-f)')
      .optional(),
    /** The key stops working then: the old key of a rotation keeps working until its overlap ends. */
    notAfter: z.string().datetime({ offset: true, message: 'use an ISO time with an offset, e.g. 2026-03-02T22:00:00Z' }).optional(),
  })
  .strict()
  .superRefine((k, ctx) => {
    if ((k.key === undefined) === (k.keyHash === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of key or keyHash (the hex SHA-256 of the key)' });
  })
  .transform((k): ({ name: string; key: string } | { name: string; keyHash: string }) & { notAfter?: string } => ({
    ...(k.key !== undefined ? { name: k.name, key: k.key } : { name: k.name, keyHash: k.keyHash ?? '' }),
    ...(k.notAfter !== undefined && { notAfter: k.notAfter }),
  }));

/** What the log stores of an integration key. */
export const keyHashOf = (k: { key: string } | { keyHash: string }): string => ('key' in k ? sha256Hex(k.key) : k.keyHash);

/** Alerts of one service with the same values of `by` form one incident (docs/noc.md). */
const Grouping = z
  .object({ by: z.array(LabelName).min(1, 'list at least one label') })
  .strict()
  .superRefine((g, ctx) => {
    const seen = new Set<string>();
    g.by.forEach((label, i) => {
      if (seen.has(label)) ctx.addIssue({ code: 'custom', path: ['by', i], message: `label "${label}" is listed twice` });
      seen.add(label);
    });
  });

/** `flips` triggers of one alert within `window` make it flapping until it has been quiet for `quiet` (default: the window). */
const Flapping = z
  .object({
    flips: z.number().int().min(2, 'flapping needs at least 2 flips').max(1000),
    window: duration(10, 7 * 86400, 'must be between 10s and 7d'),
    quiet: duration(10, 7 * 86400, 'must be between 10s and 7d').optional(),
  })
  .strict()
  .transform((f) => ({ flips: f.flips, windowSeconds: f.window, quietSeconds: f.quiet ?? f.window }));

const RoutingRule = z
  .object({
    name: z.string().min(1).max(100),
    when: Condition,
    escalationPolicy: Id.nullish().transform((v) => v ?? null),
    template: Id.nullish().transform((v) => v ?? null),
    severity: Severity.nullish().transform((v) => v ?? null),
    ticket: z
      .string()
      .min(1)
      .max(100)
      .nullish()
      .transform((v) => v ?? null),
    suppress: z.boolean().default(false),
    continue: z.boolean().default(false),
    grouping: Grouping.nullish().transform((v) => v ?? null),
    flapping: Flapping.nullish().transform((v) => v ?? null),
  })
  .strict();

const Routing = z
  .object({
    escalationPolicy: Id.nullish().transform((v) => v ?? null),
    template: Id.nullish().transform((v) => v ?? null),
    /** An acknowledged alert not resolved within this time triggers again; absent = never. */
    ackTimeout: duration(60, 7 * 86400, 'must be between 1m and 7d')
      .nullish()
      .transform((v) => v ?? null),
    rules: z.array(RoutingRule).default([]),
    grouping: Grouping.nullish().transform((v) => v ?? null),
    flapping: Flapping.nullish().transform((v) => v ?? null),
  })
  .strict()
  .superRefine((r, ctx) => {
    const names = new Map<string, number>();
    r.rules.forEach((rule, i) => {
      const first = names.get(rule.name);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}" (also rules[${first}])` });
      else names.set(rule.name, i);
    });
  });

export const Service = z
  .object({
    id: Slug,
    name: Name,
    description: z.string().max(2000).default(''),
    integrationKeys: z.array(IntegrationKey).default([]),
    routing: Routing.nullish().transform((v) => v ?? null),
  })
  .strict();

export const Heartbeat = z
  .object({
    id: Slug,
    name: Name,
    service: Slug,
    interval: Interval,
  })
  .strict();

// ─── Schedules ────────────────────────────────────────────────────────────────────────────────

const Restriction = z
  .object({
    days: z.array(Weekday).min(1, 'list at least one day (mon … sun)'),
    from: TimeOfDay,
    to: TimeOfDay,
  })
  .strict();

const Rotation = z
  .object({
    id: Id,
    name: Name.optional(),
    type: z.enum(['hourly', 'daily', 'weekly', 'monthly']),
    /** Units of `type` per shift. */
    shiftLength: z.number().int().positive().max(1000).default(1),
    /** First handoff: with an offset, or local time in the schedule's zone. */
    start: z.string(),
    members: z.array(UserId).min(1, 'list at least one member'),
    restrictions: z.array(Restriction).default([]),
  })
  .strict()
  .transform((r) => ({ ...r, name: r.name ?? r.id }));

const Override = z
  .object({
    kind: z.enum(['add', 'remove', 'replace']),
    user: UserId,
    replaces: UserId.nullish().transform((v) => v ?? null),
    start: z.string(),
    end: z.string(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.kind === 'replace' && o.replaces === null)
      ctx.addIssue({ code: 'custom', path: ['replaces'], message: 'a replace override names the user it replaces' });
    if (o.kind !== 'replace' && o.replaces !== null)
      ctx.addIssue({
        code: 'custom',
        path: ['replaces'],
        message: `only a replace override names a user it replaces (this one is ${o.kind})`,
      });
  });

const Temporary = z
  .object({
    start: z.string(),
    end: z.string(),
    users: z.array(UserId).min(1, 'list at least one user'),
  })
  .strict();

export const Schedule = z
  .object({
    id: Id,
    name: Name,
    timeZone: TimeZone,
    rotations: z.array(Rotation).default([]),
    overrides: z.array(Override).default([]),
    temporary: z.array(Temporary).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ids = new Map<string, number>();
    s.rotations.forEach((r, i) => {
      const first = ids.get(r.id);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rotations', i, 'id'],
          message: `duplicate rotation id "${r.id}" (also rotations[${first}])`,
        });
      else ids.set(r.id, i);
    });
    if (s.rotations.length === 0 && s.temporary.length === 0)
      ctx.addIssue({ code: 'custom', path: ['rotations'], message: 'a schedule needs at least one rotation (or a temporary schedule)' });
  })
  .superRefine((s, ctx) => void zonedSchedule(s, ctx))
  .transform((s, ctx) => zonedSchedule(s, ctx));

/**
 * The schedule with every time as ISO 8601 in its zone. Run as a refinement (so time errors are
 * reported beside other errors of the schedule) and again as the transform once all is valid.
 */
function zonedSchedule<
  S extends {
    timeZone: string;
    rotations: Array<{ start: string }>;
    overrides: Array<{ start: string; end: string }>;
    temporary: Array<{ start: string; end: string }>;
  },
>(s: S, ctx: z.RefinementCtx) {
  const zone = isValidTimeZone(s.timeZone) ? s.timeZone : 'UTC';
  const rotations = s.rotations.map((r, i) => ({ ...r, start: zonedTime(r.start, zone, ['rotations', i, 'start'], ctx) }));
  const span = <T extends { start: string; end: string }>(x: T, path: Array<string | number>): T => {
    const start = zonedTime(x.start, zone, [...path, 'start'], ctx);
    const end = zonedTime(x.end, zone, [...path, 'end'], ctx);
    endAfterStart(start, end, path, ctx);
    return { ...x, start, end };
  };
  const overrides = s.overrides.map((o, i) => span(o, ['overrides', i]));
  const temporary = s.temporary.map((t, i) => span(t, ['temporary', i]));
  return { ...s, rotations, overrides, temporary };
}

// ─── Escalation policies ──────────────────────────────────────────────────────────────────────

const TARGET_KEYS = ['user', 'schedule', 'rotation', 'slack', 'webhook', 'tier'] as const;

const Target = z
  .object({
    user: UserId.optional(),
    schedule: Id.optional(),
    /** "schedule/rotation" */
    rotation: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}\/[a-z0-9][a-z0-9_-]{0,62}$/, 'use "<schedule id>/<rotation id>"')
      .optional(),
    slack: z
      .string()
      .regex(/^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,})$/, 'use a channel name like "#noc" or a channel id like C0123ABCD')
      .optional(),
    webhook: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'use an http or https URL')
      .optional(),
    /** An L0–L3 response tier of `responseTiers` (docs/noc.md). */
    tier: TierId.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const given = TARGET_KEYS.filter((k) => t[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `give exactly one of ${TARGET_KEYS.join(', ')}${given.length > 1 ? ` (found ${given.join(', ')})` : ''}`,
      });
  })
  .transform((t): EscalationTarget => {
    if (t.user !== undefined) return { type: 'user', userId: t.user };
    if (t.schedule !== undefined) return { type: 'schedule', scheduleId: t.schedule };
    if (t.rotation !== undefined) {
      const [scheduleId = '', rotationId = ''] = t.rotation.split('/');
      return { type: 'rotation', scheduleId, rotationId };
    }
    if (t.slack !== undefined) return { type: 'slack', channel: t.slack };
    if (t.tier !== undefined) return { type: 'tier', tierId: t.tier };
    return { type: 'webhook', url: t.webhook ?? '' };
  });

const Step = z
  .object({
    /** Wait after paging this step before the next one (or the next round, or a re-page). */
    delay: duration(0, 7 * 86400, 'must be between 0s and 7d'),
    targets: z.array(Target).min(1, 'list at least one target'),
    untilAllAck: z.boolean().default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.untilAllAck && s.delay < 60)
      ctx.addIssue({ code: 'custom', path: ['delay'], message: 'untilAllAck re-pages every delay: use at least 1m' });
  });

export const EscalationPolicy = z
  .object({
    id: Id,
    name: Name,
    /** How many more times the whole policy runs after its last step. */
    repeat: z.number().int().min(0).max(20).default(0),
    steps: z.array(Step).min(1, 'list at least one step'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.repeat > 0 && p.steps.every((s) => s.delay === 0))
      ctx.addIssue({ code: 'custom', path: ['repeat'], message: 'repeating a policy whose steps all have delay 0s would page in a loop' });
  });

// ─── Calendars, maintenance windows, templates ────────────────────────────────────────────────

export const Calendar = z
  .object({
    id: Id,
    name: Name,
    timeZone: TimeZone,
    hours: z
      .array(
        z
          .object({
            days: z.array(Weekday).min(1, 'list at least one day (mon … sun)'),
            from: TimeOfDay,
            to: TimeOfDay,
          })
          .strict(),
      )
      .min(1, 'list at least one span of business hours'),
    /** Whole local days off. */
    holidays: z.array(z.string().refine(isValidDate, 'use a real date as YYYY-MM-DD')).default([]),
  })
  .strict();

export const MaintenanceWindow = z
  .object({
    id: Id,
    name: Name,
    /** With an offset, or local time in `timeZone`. */
    start: z.string(),
    end: z.string(),
    /** Zone of local `start`/`end`; not stored (the event holds offsets). */
    timeZone: TimeZone.optional(),
    services: z.array(Slug).default([]),
    labels: z.record(z.string().min(1), z.string()).default({}),
    when: Condition.nullish().transform((v) => v ?? null),
    mode: z.enum(['suppress', 'annotate']).default('suppress'),
  })
  .strict()
  .superRefine((w, ctx) => void zonedWindow(w, ctx))
  .transform((w, ctx) => zonedWindow(w, ctx));

function zonedWindow<W extends { start: string; end: string; timeZone?: string | undefined }>(
  w: W,
  ctx: z.RefinementCtx,
): Omit<W, 'timeZone'> {
  const zone = w.timeZone === undefined ? null : isValidTimeZone(w.timeZone) ? w.timeZone : 'UTC';
  const start = zonedTime(w.start, zone, ['start'], ctx);
  const end = zonedTime(w.end, zone, ['end'], ctx);
  endAfterStart(start, end, [], ctx);
  const { timeZone: _zone, ...rest } = w;
  return { ...rest, start, end };
}

const Variable = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'use a variable name like alert.summary');
const TemplateText = z.string().min(1).max(100_000);

export const Template = z
  .object({
    id: Id,
    name: Name,
    description: z.string().max(2000).default(''),
    variables: z
      .object({ required: z.array(Variable).default([]), optional: z.array(Variable).default([]) })
      .strict()
      .default({}),
    channels: z
      .object({
        slack: TemplateText.optional(),
        teams: TemplateText.optional(),
        email: z.object({ subject: TemplateText, html: TemplateText.optional(), text: TemplateText.optional() }).strict().optional(),
        sms: TemplateText.optional(),
        voice: TemplateText.optional(),
        webhook: TemplateText.optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const c = t.channels;
    if (Object.values(c).every((v) => v === undefined))
      ctx.addIssue({ code: 'custom', path: ['channels'], message: 'give at least one channel (slack, teams, email, sms, voice, webhook)' });
    if (c.email && c.email.html === undefined && c.email.text === undefined)
      ctx.addIssue({ code: 'custom', path: ['channels', 'email'], message: 'give html, text or both' });
    const required = new Set(t.variables.required);
    t.variables.optional.forEach((v, i) => {
      if (required.has(v)) ctx.addIssue({ code: 'custom', path: ['variables', 'optional', i], message: `"${v}" is also required` });
    });
  })
  .transform((t) => {
    const c = t.channels;
    const channels: TemplateChannels = {
      slack: c.slack ?? null,
      teams: c.teams ?? null,
      emailSubject: c.email?.subject ?? null,
      emailHtml: c.email?.html ?? null,
      emailText: c.email?.text ?? null,
      sms: c.sms ?? null,
      voice: c.voice ?? null,
      webhook: c.webhook ?? null,
    };
    return { id: t.id, name: t.name, description: t.description, variables: t.variables, channels };
  });

/** Where a channel of TemplateChannels is written in the file, under `templates[i].channels`. */
export const CHANNEL_PATH: Record<keyof TemplateChannels, string[]> = {
  slack: ['slack'],
  teams: ['teams'],
  emailSubject: ['email', 'subject'],
  emailHtml: ['email', 'html'],
  emailText: ['email', 'text'],
  sms: ['sms'],
  voice: ['voice'],
  webhook: ['webhook'],
};

// ─── Notification rules ───────────────────────────────────────────────────────────────────────

const METHODS = ContactChannel.options;

/** "0m", "90s", "5m"; a negative or missing unit is named as such. */
const After = z
  .string({ invalid_type_error: 'use a duration with a unit, like 0m, 90s or 5m' })
  .superRefine((v, ctx) => {
    if (v.startsWith('-')) ctx.addIssue({ code: 'custom', message: `a delay cannot be negative ("${v}")` });
  })
  .pipe(duration(0, 86400, 'must be between 0s and 1d'));

const NotificationRuleEntry = z
  .object({
    method: z.string().refine((m) => (METHODS as readonly string[]).includes(m), {
      message: `unknown method: use one of ${METHODS.join(', ')}`,
    }),
    after: After,
  })
  .strict()
  .transform((r) => ({ channel: r.method as ContactChannel, delaySeconds: r.after }));

/** One user's rules: "reach me on `method` `after` a step pages me", kept in the order of their delays. */
export const UserNotificationRules = z
  .object({
    user: UserId,
    rules: z.array(NotificationRuleEntry).min(1, 'list at least one rule (method and after)').max(20, 'at most 20 rules'),
  })
  .strict()
  .superRefine((u, ctx) => {
    const seen = new Map<string, number>();
    u.rules.forEach((r, i) => {
      const key = `${r.channel}@${r.delaySeconds}`;
      const first = seen.get(key);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i],
          message: `duplicate rule: ${r.channel} after ${r.delaySeconds}s (also rules[${first}])`,
        });
      else seen.set(key, i);
    });
  })
  .transform((u) => ({ user: u.user, rules: [...u.rules].sort((a, b) => a.delaySeconds - b.delaySeconds) }));

// ─── Equipment types ──────────────────────────────────────────────────────────────────────────

const EquipmentTypeEntry = z
  .object({
    boost: z
      .number({ invalid_type_error: 'use a whole number of levels, like 1 or -1' })
      .int('use a whole number of levels, like 1 or -1')
      .min(-3, 'at most 3 levels down')
      .max(3, 'at most 3 levels up')
      .refine((n) => n !== 0, 'a boost of 0 changes nothing')
      .optional(),
    severity: Severity.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.boost === undefined) === (t.severity === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of boost (levels, e.g. 1) or severity (e.g. critical)' });
  })
  .transform((t) => ({ boost: t.boost ?? null, severity: t.severity ?? null }));

/**
 * Severity by equipment type, applied to an alert before its service's routing rules: the alert
 * label `label` (default `equipment_type`) names the type.
 */
export const EquipmentTypes = z
  .object({
    label: z.string().min(1).max(1024).default('equipment_type'),
    types: z.record(z.string().min(1, 'a type name cannot be empty').max(1024), EquipmentTypeEntry),
  })
  .strict();
export type EquipmentTypes = z.output<typeof EquipmentTypes>;

// ─── Ticket providers (docs/tickets.md) ───────────────────────────────────────────────────────

const SECRET_MESSAGE = 'write a secret as a reference, { env: NAME } (NAME in upper case) or { file: /path }, never the secret itself';
const FileSecret = z.custom<z.output<typeof SecretRef>>((v) => SecretRef.safeParse(v).success, SECRET_MESSAGE);
/** TicketAuth with a clear message for a secret written as a value. */
const FileTicketAuth = z.discriminatedUnion(
  'kind',
  TicketAuth.options.map((o) =>
    o.extend(Object.fromEntries(Object.entries(o.shape).flatMap(([k, v]) => (v === SecretRef ? [[k, FileSecret]] : [])))),
  ) as unknown as typeof TicketAuth.options,
);

/** What the bridge does to the ticket on an alert change; absent = nothing but a comment. */
const TicketAction = z
  .object({
    transition: z
      .string()
      .min(1)
      .nullish()
      .transform((v) => v ?? null),
    comment: z.boolean().default(true),
  })
  .strict();
const NO_TRANSITION = { transition: null, comment: true };

const TicketSyncFile = z
  .object({
    onAcknowledge: TicketAction.default(NO_TRANSITION),
    onResolve: TicketAction.default(NO_TRANSITION),
    onReopen: TicketAction.default(NO_TRANSITION),
    resolveAlertOn: z.array(TicketState).default([]),
    mirrorComments: z.boolean().default(false),
    pollSeconds: z
      .number()
      .int()
      .min(10, 'poll at most every 10 s')
      .nullish()
      .transform((v) => v ?? null),
  })
  .strict();

/**
 * A ticket provider: `TicketProvider` of the contracts with `id` for `providerId`; secrets only
 * as `{ env: NAME }` or `{ file: path }`. The field expressions are compiled here, and the fields
 * the provider's API needs must be mapped (REQUIRED_TICKET_FIELDS); the provider's own `settings`
 * are checked by the ticket bridge when it loads them (and by `oncall ticket preview`).
 */
export const TicketProviderEntry = z
  .object({
    id: Id,
    type: TicketProviderType,
    name: Name,
    settings: z.record(z.string(), z.unknown()).default({}),
    auth: FileTicketAuth,
    fields: z.record(z.string().min(1), z.string().min(1)).default({}),
    sync: TicketSyncFile.default({}),
    inboundSecret: FileSecret.nullish().transform((v) => v ?? null),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const [field, source] of Object.entries(p.fields)) {
      try {
        compileTicketFields({ [field]: source });
      } catch (err) {
        if (!(err instanceof TicketFieldError)) throw err;
        ctx.addIssue({ code: 'custom', path: ['fields', field], message: err.message.replace(/^field \S+: /, '') });
      }
    }
    for (const field of REQUIRED_TICKET_FIELDS[p.type])
      if (!(field in p.fields))
        ctx.addIssue({ code: 'custom', path: ['fields'], message: `a ${p.type} provider needs the field ${field}` });
  });

// ─── The NOC model (noc.ts) ───────────────────────────────────────────────────────────────────

export const InhibitRule = inhibitRule(Condition, Id, duration(0, 3600, 'must be between 0s and 1h'));

/** A response tier's targets: as a step's, but not another tier. */
const TierTarget = Target.superRefine((t, ctx) => {
  if (t.type === 'tier')
    ctx.addIssue({
      code: 'custom',
      path: ['tier'],
      message: 'a response tier names users, schedules, rotations and channels, not another tier',
    });
});

/** Top-level sections that are one element, not a list; absent = null. */
export const SINGLES = {
  placement: Placement,
  customerTiers: customerTiers(
    duration(60, 30 * 86400, 'must be between 1m and 30d'),
    duration(0, 30 * 86400, 'must be between 0s and 30d'),
  ),
  responseTiers: responseTiers(TierTarget),
  equipmentTypes: EquipmentTypes,
} as const;

/** Every top-level section and the schema of its elements, in the order errors are reported. */
export const SECTIONS = {
  services: Service,
  heartbeats: Heartbeat,
  calendars: Calendar,
  templates: Template,
  schedules: Schedule,
  escalationPolicies: EscalationPolicy,
  maintenanceWindows: MaintenanceWindow,
  notificationRules: UserNotificationRules,
  sites: Site,
  inhibitRules: InhibitRule,
  ticketProviders: TicketProviderEntry,
} as const;
