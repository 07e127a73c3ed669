/**
 * The NOC console's HTTP API (query-api, CONSOLE_PORT; docs/console.md): JSON shapes shared by the
 * server (query-api/src/console) and the browser (console/src). The browser imports this file with
 * `import type` only, so nothing of it is bundled; request bodies are checked on the server with
 * the zod schemas below (unknown keys refused).
 *
 * Every time is an ISO 8601 UTC string; every user is a kneutral-api user id, with its display name
 * beside it where the page shows it.
 */
import { z } from 'zod';

export type AlertStatusWord = 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';

/** One row of the live board: small, since a storm puts 10,000 of them in a page. */
export type BoardAlert = Readonly<{
  id: string;
  serviceId: string;
  status: AlertStatusWord;
  /** The effective severity (after equipment and rule changes), as GetAlert shows it. */
  severity: string;
  summary: string;
  /** The site the alert is placed at (storm sense placement), else the `site` label, else null. */
  site: string | null;
  /** Every label, for filtering by any of them (site, pop, tier, device, carrier, …). */
  labels: Readonly<Record<string, string>>;
  createdAt: string;
  updatedAt: string;
  /** Zero-based escalation step reached; null before the first page (or when never paged). */
  step: number | null;
  /** Users paged at the current step. */
  paged: readonly string[];
  acknowledgedBy: string | null;
  snoozedUntil: string | null;
  incidentId: string | null;
  inhibited: boolean;
  flapping: boolean;
  repeatCount: number;
}>;

/**
 * `GET /api/board`: every open alert (triggered, acknowledged, snoozed). `cursor` is where the
 * live stream continues from (pass it as `Last-Event-ID`, or `?cursor=` on `GET /api/board/events`).
 */
export type BoardSnapshot = Readonly<{ cursor: string; alerts: readonly BoardAlert[] }>;

/**
 * One server-sent event `delta` of `GET /api/board/events` (the SSE `id:` is `cursor`): the alerts
 * that changed since the previous one, batched (at most a few per second in a storm). A resolved
 * alert is in `removed`. An SSE event `reset` (no data) tells the page to fetch the snapshot again
 * (the server lost track, e.g. its PostgreSQL LISTEN reconnected or the cursor is unknown); the
 * server then ends the stream, and the page connects again with `?cursor=` of the new snapshot
 * (EventSource's own reconnect would send the old Last-Event-ID and get `reset` again).
 */
export type BoardDelta = Readonly<{ cursor: string; upserts: readonly BoardAlert[]; removed: readonly string[] }>;

export type TimelineEntry = Readonly<{
  at: string;
  /** Which log the event is from. */
  stream: 'alerts' | 'escalations' | 'deliveries' | 'tickets';
  type: string;
  actor: string;
  /** One readable line: "routed by rule core-network to policy noc", "paged alice by sms: delivered". */
  message: string;
}>;

export type TicketView = Readonly<{ providerId: string; key: string | null; url: string | null; state: string; lastError: string | null }>;

export type AlertDetail = BoardAlert &
  Readonly<{
    source: string;
    details: string;
    sourceSeverity: string;
    annotations: Readonly<Record<string, string>>;
    links: readonly Readonly<{ href: string; text: string }>[];
    generatorUrl: string | null;
    acknowledgedAt: string | null;
    resolvedAt: string | null;
    resolvedBy: string | null;
    policyId: string | null;
    routingRules: readonly string[];
    nextEscalationAt: string | null;
    slaDeadline: string | null;
  }>;

export const CONSOLE_ACTIONS = ['acknowledge', 'unacknowledge', 'resolve', 'escalate', 'snooze'] as const;
export type ConsoleAction = (typeof CONSOLE_ACTIONS)[number];

/** `GET /api/alerts/<id>`: the alert page. */
export type AlertPage = Readonly<{
  alert: AlertDetail;
  timeline: readonly TimelineEntry[];
  tickets: readonly TicketView[];
  /** The actions the signed-in user may take now (none for a read-only token or a resolved alert). */
  actions: readonly ConsoleAction[];
  /** The pipeline trace of the alert in the tracing UI (ONCALL_TRACE_URL), when configured and known. */
  traceUrl: string | null;
}>;

/** `POST /api/alerts/<id>/actions`: through the one command path, the signed-in user as actor, via `console`. */
export const ActionRequest = z
  .object({
    action: z.enum(CONSOLE_ACTIONS),
    /** snooze only: 1 minute to 24 hours. */
    minutes: z.number().int().min(1).max(1440).optional(),
    note: z.string().max(1000).optional(),
  })
  .strict();
export type ActionRequest = z.infer<typeof ActionRequest>;

/** The command's answer: `applied`, or why not (e.g. `already_resolved`, `not_found`, `conflict`) with a readable message. */
export type ActionResult = Readonly<{ outcome: string; status: AlertStatusWord | null; message: string }>;

/** A span of someone on call, clipped to the view. */
export type OnCallSegment = Readonly<{
  start: string;
  end: string;
  userId: string;
  userName: string;
  /** Overrides only: what it does (`replace` names the user replaced in `replaces`). */
  kind?: 'add' | 'remove' | 'replace';
  replaces?: string | null;
}>;

export type ScheduleTimeline = Readonly<{
  id: string;
  name: string;
  timeZone: string;
  /** Who is on call at the view's `at` (the same answer as GetOnCallUsers). */
  onCallNow: readonly string[];
  /** One per rotation, in the schedule's order: what each layer alone would give. */
  layers: readonly Readonly<{ id: string; name: string; segments: readonly OnCallSegment[] }>[];
  overrides: readonly OnCallSegment[];
  /** The final picture after layers, overrides and temporary schedules. */
  final: readonly OnCallSegment[];
  /** Times at which the final on-call set changes. */
  handoffs: readonly string[];
  /** Set when the schedule cannot be evaluated (its segments are then empty). */
  problem?: string;
}>;

/**
 * `GET /api/oncall?from=&days=&at=` (default now, 14 days (1 to 31), and `at` now): every schedule
 * (at most 500) over [from, from + days).
 */
export type OnCallView = Readonly<{ from: string; to: string; at: string; schedules: readonly ScheduleTimeline[] }>;

/** `POST /api/schedules/<id>/overrides`: through the same write as ScheduleService.CreateOverride. */
export const OverrideRequest = z
  .object({
    userId: z.string().min(1),
    /** The user replaced; omitted: added beside whoever is on call. */
    replaceUserId: z.string().min(1).optional(),
    start: z.string().datetime({ offset: true }),
    end: z.string().datetime({ offset: true }),
  })
  .strict();
export type OverrideRequest = z.infer<typeof OverrideRequest>;

/** The answer to an override: as stored (its id is CreateOverride's, usable with DeleteOverride). */
export type OverrideView = Readonly<{
  id: string;
  scheduleId: string;
  kind: 'add' | 'replace';
  userId: string;
  replaces: string | null;
  start: string;
  end: string;
}>;

/** `GET /api/health`: the NOC's health page. */
export type HealthView = Readonly<{
  openBySite: readonly Readonly<{ site: string; open: number; critical: number }>[];
  /** By service and ISO week, the last 8 weeks; seconds. */
  mtta: readonly Readonly<{ serviceId: string; week: string; alerts: number; mttaSeconds: number | null; mttrSeconds: number | null }>[];
  /** Alerts created per hour, the last 48 hours, oldest first. */
  volume: readonly Readonly<{ hour: string; alerts: number }>[];
  /** The alerts that repeat most (open or resolved in the last 7 days). */
  noisy: readonly Readonly<{ alertId: string; serviceId: string; summary: string; repeats: number }>[];
  parked: readonly Readonly<{ consumer: string; count: number; oldest: string }>[];
  failingDeliveries: readonly Readonly<{ channel: string; failed: number; lastError: string | null; lastAt: string }>[];
}>;

/** `POST /api/session`: a token login; answers with a session cookie. */
export const LoginRequest = z
  .object({
    token: z.string().min(1).max(512),
    /** Admin tokens bound to no user: the user to act as (checked against the UserService). */
    actAs: z.string().min(1).max(200).optional(),
  })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequest>;

/** `GET /api/session` (and the answer to a login). */
export type SessionView = Readonly<{ userId: string | null; tokenName: string; scopes: readonly string[]; expiresAt: string }>;

/** Every error answer: HTTP status plus this body. */
export type ConsoleError = Readonly<{ error: string; field?: string }>;
