import { z } from 'zod';
import { Severity, Surface } from './common-schemas.js';
import { ContactChannel } from './escalation-schemas.js';

/**
 * Configuration events beyond services and heartbeat monitors: schedules, escalation policies,
 * routing, maintenance windows, business-hours calendars and templates. Each lives on its own
 * subject `config.<kind>.<id>`, so its whole history is one subject.
 */

const isoTime = z.string().datetime({ offset: true });
/** Local wall-clock time of day, "HH:mm" (24 h). */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:mm (24 h)');
export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof Weekday>;

/** Days and a time-of-day span; `to` at or before `from` wraps past midnight (22:00–06:00). */
export const TimeWindow = z.object({ days: z.array(Weekday).min(1), from: TimeOfDay, to: TimeOfDay });
export type TimeWindow = z.infer<typeof TimeWindow>;

export const Rotation = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['hourly', 'daily', 'weekly', 'monthly']),
  /** Units of `type` per shift: a 12-hour shift is hourly × 12. */
  shiftLength: z.number().int().positive(),
  /** First handoff. Later handoffs keep its local wall-clock time in the schedule's zone. */
  start: isoTime,
  /** Kneutral user ids in rotation order. */
  members: z.array(z.string()).min(1),
  /** When set, the rotation only covers these windows (local time); empty = always. */
  restrictions: z.array(TimeWindow),
});
export type Rotation = z.infer<typeof Rotation>;

export const Override = z.object({
  /** add: `userId` is on call too; remove: `userId` is not; replace: `userId` takes `replaces`'s place. */
  kind: z.enum(['add', 'remove', 'replace']),
  userId: z.string(),
  replaces: z.string().nullable(),
  start: isoTime,
  end: isoTime,
});
export type Override = z.infer<typeof Override>;

/** A temporary schedule: between start and end these users are on call instead of the rotations. */
export const TemporarySchedule = z.object({ start: isoTime, end: isoTime, users: z.array(z.string()).min(1) });
export type TemporarySchedule = z.infer<typeof TemporarySchedule>;

export const EscalationTarget = z.discriminatedUnion('type', [
  z.object({ type: z.literal('user'), userId: z.string() }),
  z.object({ type: z.literal('schedule'), scheduleId: z.string() }),
  z.object({ type: z.literal('rotation'), scheduleId: z.string(), rotationId: z.string() }),
  z.object({ type: z.literal('slack'), channel: z.string() }),
  z.object({ type: z.literal('webhook'), url: z.string().url() }),
  /** An L0–L3 response tier of the NOC model (noc-schemas: ResponseTiersConfigured), resolved when the step is reached. */
  z.object({ type: z.literal('tier'), tierId: z.string() }),
]);
export type EscalationTarget = z.infer<typeof EscalationTarget>;

export const EscalationStep = z.object({
  /** Time to wait after reaching this step before moving to the next one. */
  delaySeconds: z.number().int().nonnegative(),
  targets: z.array(EscalationTarget).min(1),
  /** Keep re-paging this step's users every `delaySeconds` until each of them has acknowledged. */
  untilAllAck: z.boolean(),
});
export type EscalationStep = z.infer<typeof EscalationStep>;

/**
 * Alerts of one group key form one incident: the first pages, later ones join it (docs/noc.md).
 * The key is the service and the values of the `by` labels (a missing label is the empty string).
 */
export const Grouping = z.object({ by: z.array(z.string()).min(1) });
export type Grouping = z.infer<typeof Grouping>;

/** A fingerprint that fires `flips` times within `windowSeconds` is flapping until it has been quiet for `quietSeconds`. */
export const Flapping = z.object({
  flips: z.number().int().min(2),
  windowSeconds: z.number().int().positive(),
  quietSeconds: z.number().int().positive(),
});
export type Flapping = z.infer<typeof Flapping>;

export const RoutingRule = z.object({
  name: z.string(),
  /** CEL over `labels`, `annotations`, `alert`, `now`, `calendars`; must yield a bool. */
  when: z.string(),
  policyId: z.string().nullable(),
  templateId: z.string().nullable(),
  severity: Severity.nullable(),
  /** Ticket provider id to open a ticket with, or null. */
  ticket: z.string().nullable(),
  suppress: z.boolean(),
  /** Keep evaluating later rules after this one matched (their actions override). */
  continue: z.boolean(),
  /** Grouping and flapping for the alerts this rule matches (absent = the service's). */
  grouping: Grouping.nullable().optional(),
  flapping: Flapping.nullable().optional(),
});
export type RoutingRule = z.infer<typeof RoutingRule>;

export const TemplateChannels = z.object({
  slack: z.string().nullable(),
  teams: z.string().nullable(),
  emailSubject: z.string().nullable(),
  emailHtml: z.string().nullable(),
  emailText: z.string().nullable(),
  sms: z.string().nullable(),
  voice: z.string().nullable(),
  webhook: z.string().nullable(),
});
export type TemplateChannels = z.infer<typeof TemplateChannels>;

/**
 * What an equipment type does to the severity of its alerts before routing: `boost` moves it that
 * many levels along info → warning → error → critical (capped at both ends; `unknown` stays
 * unknown), `severity` sets it. Exactly one of the two is set.
 */
export const EquipmentTypeRule = z.object({
  boost: z.number().int().min(-3).max(3).nullable(),
  severity: Severity.nullable(),
});
export type EquipmentTypeRule = z.infer<typeof EquipmentTypeRule>;

/** "Reach me on `channel` `delaySeconds` after a step pages me" (GoAlert's and PagerDuty's notification rules). */
export const NotificationRule = z.object({ channel: ContactChannel, delaySeconds: z.number().int().nonnegative() });
export type NotificationRule = z.infer<typeof NotificationRule>;

/**
 * What an API token may do on the gRPC API (docs/query-api.md#authentication): `read` reads,
 * `respond` answers alerts (acknowledge, resolve, escalate, snooze, status, create), `write` changes
 * configuration, `admin` everything, including acting as any user.
 */
export const ApiScope = z.enum(['read', 'respond', 'write', 'admin']);
export type ApiScope = z.infer<typeof ApiScope>;

export const configSchemas = {
  ScheduleConfigured: {
    1: z.object({
      scheduleId: z.string(),
      name: z.string(),
      /** IANA zone, e.g. Europe/Berlin. */
      timeZone: z.string(),
      /** Layers: where several rotations cover an instant, the last one listed wins. */
      rotations: z.array(Rotation),
      overrides: z.array(Override),
      temporary: z.array(TemporarySchedule),
    }),
  },
  ScheduleRemoved: { 1: z.object({ scheduleId: z.string() }) },
  EscalationPolicyConfigured: {
    1: z.object({
      policyId: z.string(),
      name: z.string(),
      steps: z.array(EscalationStep).min(1),
      /** How many more times the whole policy runs after its last step. */
      repeat: z.number().int().nonnegative(),
    }),
  },
  EscalationPolicyRemoved: { 1: z.object({ policyId: z.string() }) },
  /** How a service's alerts are routed: defaults, then CEL rules in priority order. */
  RoutingConfigured: {
    1: z.object({
      serviceId: z.string(),
      escalationPolicyId: z.string().nullable(),
      templateId: z.string().nullable(),
      /** An acknowledged alert not resolved within this time triggers again; null = never. */
      ackTimeoutSeconds: z.number().int().positive().nullable(),
      rules: z.array(RoutingRule),
      /** Absent in events written before issue 16: no grouping, no flapping detection. */
      grouping: Grouping.nullable().optional(),
      flapping: Flapping.nullable().optional(),
    }),
  },
  RoutingRemoved: { 1: z.object({ serviceId: z.string() }) },
  MaintenanceWindowConfigured: {
    1: z.object({
      windowId: z.string(),
      name: z.string(),
      start: isoTime,
      end: isoTime,
      /** Services covered; empty = every service. */
      services: z.array(z.string()),
      /** Labels an alert must all carry with these values (site, pop, device, …). */
      labels: z.record(z.string(), z.string()),
      /** Optional CEL condition on top of services and labels. */
      when: z.string().nullable(),
      /** suppress: no paging until the window ends; annotate: page, but mark the alert. */
      mode: z.enum(['suppress', 'annotate']),
    }),
  },
  MaintenanceWindowRemoved: { 1: z.object({ windowId: z.string() }) },
  /** Business hours for CEL rules (`calendars.<id>` is true inside them). */
  CalendarConfigured: {
    1: z.object({
      calendarId: z.string(),
      name: z.string(),
      timeZone: z.string(),
      hours: z.array(TimeWindow).min(1),
      /** Whole local days off, YYYY-MM-DD. */
      holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)),
    }),
  },
  CalendarRemoved: { 1: z.object({ calendarId: z.string() }) },
  /** An immutable template version; publishing a change appends version n+1. */
  TemplateVersionPublished: {
    1: z.object({
      templateId: z.string(),
      version: z.number().int().positive(),
      name: z.string(),
      description: z.string(),
      channels: TemplateChannels,
      variables: z.object({ required: z.array(z.string()), optional: z.array(z.string()) }),
      createdBy: z.string(),
    }),
  },
  TemplateRemoved: { 1: z.object({ templateId: z.string() }) },
  /**
   * One user's notification rules, ordered by delay (the first is the preferred method). Without
   * rules a page goes to every contact method of the user at once.
   */
  NotificationRulesConfigured: { 1: z.object({ userId: z.string(), rules: z.array(NotificationRule).min(1) }) },
  NotificationRulesRemoved: { 1: z.object({ userId: z.string() }) },
  /**
   * A verification code was sent (to be sent) to one of a user's contact methods
   * (docs/notification-rules.md#contact-verification). Only a salted SHA-256 of the code is in the
   * log: `codeHash` = hex sha256 of `<salt>:<code>`. The code itself reaches the dispatcher through
   * the short-lived KV bucket `oncall-verification-codes`. A later request for the same method
   * replaces this one.
   */
  ContactVerificationRequested: {
    1: z.object({
      requestId: z.string().uuid(),
      userId: z.string(),
      channel: ContactChannel,
      /** The method's address as the user directory gave it (the address the code goes to). */
      address: z.string(),
      salt: z.string().regex(/^[0-9a-f]{32}$/),
      codeHash: z.string().regex(/^[0-9a-f]{64}$/),
      expiresAt: isoTime,
      /** Wrong codes allowed before the request is void (counted outside the log). */
      maxAttempts: z.number().int().positive(),
    }),
  },
  /** The person proved they receive on `channel` at `address` (the right code, in time). */
  ContactMethodVerified: {
    1: z.object({
      userId: z.string(),
      channel: ContactChannel,
      address: z.string(),
      requestId: z.string().uuid(),
      /** Where the code was confirmed: `cli`, `sms` (a reply to the Twilio number), `api`. */
      via: Surface,
    }),
  },
  /**
   * Severity by equipment type, applied before routing rules (docs/routing.md): the alert label
   * `label` (e.g. `equipment_type`) names the type. One set for every service, on
   * `config.equipment.default`.
   */
  EquipmentTypesConfigured: {
    1: z.object({ label: z.string().min(1), types: z.record(z.string(), EquipmentTypeRule) }),
  },
  EquipmentTypesRemoved: { 1: z.object({}) },
  /**
   * A named, reusable destination (docs/query-api.md, "Destinations"): the address `owner` (a
   * user, or a team such as `noc`) receives `channel` at, on `config.destination.<owner>.<channel>`.
   * SendNotification sends to it by owner and channel; a later registration replaces it.
   */
  DestinationRegistered: {
    1: z.object({
      ownerId: z.string().min(1),
      channel: ContactChannel,
      address: z.string().min(1),
      /** Who registered it (the API caller's user), when known. */
      registeredBy: z.string().nullable(),
    }),
  },
  /**
   * An API token for the gRPC API, on `config.token.<tokenId>`. Only the SHA-256 (hex) of the
   * whole token is in the log; the token is shown once, when created. `userId`: the user the token
   * acts as (null: a service token, which needs `admin` to name any user).
   */
  ApiTokenCreated: {
    1: z.object({
      tokenId: z.string().regex(/^[a-z0-9]{8,32}$/),
      name: z.string().min(1).max(100),
      scopes: z.array(ApiScope).min(1),
      userId: z.string().min(1).nullable(),
      tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
      createdAt: isoTime,
      expiresAt: isoTime.nullable(),
    }),
  },
  ApiTokenRevoked: { 1: z.object({ tokenId: z.string() }) },
} as const;
