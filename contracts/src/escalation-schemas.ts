import { z } from 'zod';
import { isoTime, LabelMap, Link, Severity, Surface } from './common-schemas.js';

/**
 * Escalation, notification and ticket events. The escalator writes `escalations.<p>.<alertId>`,
 * the dispatcher `deliveries.<p>.<alertId>`, the ticket bridge `tickets.<p>.<alertId>`: each
 * alert's history per concern is one subject, and every decision that depended on time or
 * outside state (rule matched, who was on call, contact methods, template version) is recorded.
 */

const ref = { alertId: z.string().uuid(), serviceId: z.string() };

/**
 * A provider's later word on a message it accepted: SMS sent/delivered/undelivered/failed; calls
 * answered/completed/busy/no-answer/failed/canceled.
 */
export const ProviderStatus = z.enum([
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'answered',
  'completed',
  'busy',
  'no-answer',
  'canceled',
]);
export type ProviderStatus = z.infer<typeof ProviderStatus>;

/** What a person (or the escalator) can ask of an alert. */
export const AlertCommandKind = z.enum(['acknowledge', 'resolve', 'snooze', 'escalate', 'unacknowledge']);
export type AlertCommandKind = z.infer<typeof AlertCommandKind>;

/** What the dispatcher renders: the alert as the escalator knew it when it decided. */
export const AlertSnapshot = z.object({
  alertId: z.string().uuid(),
  serviceId: z.string(),
  serviceName: z.string(),
  fingerprint: z.string(),
  status: z.enum(['triggered', 'acknowledged', 'resolved']),
  summary: z.string(),
  details: z.string(),
  severity: Severity,
  labels: LabelMap,
  annotations: LabelMap,
  links: z.array(Link),
  source: z.string(),
  triggeredAt: isoTime,
  /**
   * The severity the source gave, when `severity` is the effective one (equipment type, routing
   * rule): set on NotificationRequested; absent elsewhere and in events older than the field.
   */
  sourceSeverity: Severity.optional(),
});
export type AlertSnapshot = z.infer<typeof AlertSnapshot>;

export const ContactChannel = z.enum(['sms', 'voice', 'email', 'slack', 'teams', 'webhook']);
export type ContactChannel = z.infer<typeof ContactChannel>;
export const ContactMethod = z.object({
  channel: ContactChannel,
  address: z.string(),
  /** Whether the user proved they own it; absent = the directory does not say (treated as verified). */
  verified: z.boolean().optional(),
});
export type ContactMethod = z.infer<typeof ContactMethod>;

/** Who a step pages: a user (with the schedule or rotation that put them there), a channel, a webhook. */
export const Recipient = z.discriminatedUnion('type', [
  z.object({ type: z.literal('user'), userId: z.string(), via: z.string() }),
  z.object({ type: z.literal('slack'), channel: z.string() }),
  z.object({ type: z.literal('webhook'), url: z.string() }),
]);
export type Recipient = z.infer<typeof Recipient>;

/** An alert as a handoff summary lists it. */
const HandoffAlert = z.object({
  alertId: z.string(),
  serviceId: z.string(),
  summary: z.string(),
  severity: z.string(),
  status: z.string(),
});

export const Priority = z.enum(['critical', 'high', 'normal', 'low']);
export type Priority = z.infer<typeof Priority>;

export const escalationSchemas = {
  /** A user or the escalator asked to change an alert; the decider turns it into a lifecycle event. */
  AlertCommandReceived: {
    1: z.object({
      ...ref,
      fingerprint: z.string(),
      command: AlertCommandKind,
      userId: z.string().nullable(),
      note: z.string(),
      /** snooze: until when. */
      until: isoTime.nullable(),
      /** unacknowledge: why (ack-timeout, snooze-ended, user). */
      reason: z.string(),
      /** Where the person acted; absent in commands older than the field. */
      via: Surface.optional(),
    }),
  },
  /**
   * The decider's answer to a command that changed nothing, on the alert's subject like the
   * lifecycle event a command that changes something causes: every command gets exactly one
   * answer in the log (causationId = the command's id), so every surface can tell the person.
   */
  AlertCommandDeclined: {
    1: z.object({
      ...ref,
      fingerprint: z.string(),
      command: AlertCommandKind,
      userId: z.string().nullable(),
      via: Surface.optional(),
      /**
       * - closed: the alert is not open (resolved, or never was);
       * - unchanged: the alert already is as the command wants (an ack repeated by the same person);
       * - invalid: the command cannot apply (a snooze that ends in the past).
       */
      reason: z.enum(['closed', 'unchanged', 'invalid']),
      message: z.string(),
      /** The alert's status when the command was decided ('resolved' when closed). */
      status: z.enum(['triggered', 'acknowledged', 'snoozed', 'resolved']),
      /** Who changed the alert last and how, when the decider knows. */
      lastChange: z.object({ action: z.string(), userId: z.string().nullable(), via: Surface.optional() }).nullable(),
    }),
  },
  AlertSnoozed: {
    1: z.object({
      ...ref,
      fingerprint: z.string(),
      userId: z.string().nullable(),
      until: isoTime,
      note: z.string(),
      via: Surface.optional(),
    }),
  },
  /** Manual escalation: jump to the next step now. */
  AlertEscalated: {
    1: z.object({ ...ref, fingerprint: z.string(), userId: z.string().nullable(), note: z.string(), via: Surface.optional() }),
  },
  /** An acknowledged or snoozed alert is open again (ack timeout, snooze end, or a user). */
  AlertUnacknowledged: {
    1: z.object({ ...ref, fingerprint: z.string(), userId: z.string().nullable(), reason: z.string(), via: Surface.optional() }),
  },

  /** The routing decision for a triggered alert. */
  AlertRouted: {
    1: z.object({
      ...ref,
      alert: AlertSnapshot,
      /** Names of the rules that matched, in order; empty = service defaults. */
      rules: z.array(z.string()),
      policyId: z.string().nullable(),
      templateId: z.string().nullable(),
      templateVersion: z.number().int().positive().nullable(),
      /** The effective severity: the source's (`alert.severity`), then the equipment type, then the rules. */
      severity: Severity,
      /**
       * The equipment type's change of the source's severity before the rules ran (`by`:
       * `equipment:<type>`; `boost`/`severity` as configured, to apply again to a later source
       * severity); null = no type matched. Absent in events older than the field.
       */
      severityBoost: z
        .object({
          from: Severity,
          to: Severity,
          by: z.string(),
          boost: z.number().int().nullable(),
          severity: Severity.nullable(),
        })
        .nullable()
        .optional(),
      /** The last matching rule that set the severity (it then stays whatever the source says later); null = none. */
      severityRule: z.string().nullable().optional(),
      ticket: z.string().nullable(),
      ackTimeoutSeconds: z.number().int().positive().nullable(),
      /** Why nobody is paged now: a rule, or a maintenance window until its end. */
      suppressed: z.object({ by: z.enum(['rule', 'maintenance']), windowId: z.string().nullable(), until: isoTime.nullable() }).nullable(),
      /** Maintenance windows in annotate mode covering the alert. */
      maintenance: z.array(z.string()),
      /** ALERTS stream sequence of the AlertTriggered this decision answers. */
      alertSeq: z.number().int().positive(),
      /** Storm sense (absent before issue 16; docs/noc.md): where the alert is, how it groups, what it may inhibit or be inhibited by. */
      site: z.string().nullable().optional(),
      groupKey: z.string().nullable().optional(),
      groupLabels: LabelMap.optional(),
      /** Inhibit rules whose source this alert matches. */
      inhibits: z.array(z.string()).optional(),
      /** Inhibit rules whose target this alert matches, with the longest wait among them. */
      inhibitableBy: z.array(z.string()).optional(),
      inhibitWaitSeconds: z.number().int().nonnegative().optional(),
      flapping: z
        .object({ flips: z.number().int(), windowSeconds: z.number().int(), quietSeconds: z.number().int() })
        .nullable()
        .optional(),
      /** The customer tier's SLA: acknowledge within `responseSeconds`. */
      sla: z
        .object({ tier: z.string(), responseSeconds: z.number().int().positive(), escalateBeforeSeconds: z.number().int().nonnegative() })
        .nullable()
        .optional(),
    }),
  },
  EscalationStepReached: {
    1: z.object({
      ...ref,
      policyId: z.string(),
      /** Zero-based step index and zero-based round (repeats of the whole policy). */
      step: z.number().int().nonnegative(),
      round: z.number().int().nonnegative(),
      /** Re-pages of the same step (untilAllAck). */
      page: z.number().int().nonnegative(),
      recipients: z.array(Recipient),
      /** The step keeps re-paging its users until each has acknowledged. */
      untilAllAck: z.boolean(),
      /** When the next step (or re-page) is due; null = last step of the last round. */
      nextAt: isoTime.nullable(),
      reason: z.enum(['triggered', 'timeout', 'manual', 'reopened', 'maintenance-ended', 'repage', 'released', 'sla', 'takeover']),
    }),
  },
  /** One recipient of one step, with the contact methods and template version chosen. */
  NotificationRequested: {
    1: z.object({
      ...ref,
      notificationId: z.string().uuid(),
      kind: z.enum(['page', 'resolved']),
      step: z.number().int().nonnegative(),
      round: z.number().int().nonnegative(),
      page: z.number().int().nonnegative(),
      recipient: Recipient,
      /** A user's contact methods as UserService listed them at decision time (empty for channels). */
      contacts: z.array(ContactMethod),
      userName: z.string().nullable(),
      templateId: z.string().nullable(),
      templateVersion: z.number().int().positive().nullable(),
      priority: Priority,
      alert: AlertSnapshot,
      escalation: z.object({ policyId: z.string(), policyName: z.string(), step: z.number().int(), totalSteps: z.number().int() }),
      /**
       * The user's notification rules this notification carries out: `index` into the rules
       * (the rules due when the step paged share the first notification; each later one is its
       * own), and the later ones still to come, due at `at` unless the alert is acknowledged,
       * resolved or the step is left before. Absent when the user has no rules.
       */
      rules: z
        .object({
          indexes: z.array(z.number().int().nonnegative()),
          later: z.array(z.object({ index: z.number().int().nonnegative(), channel: ContactChannel, at: isoTime })),
        })
        .optional(),
      /** Contact methods not used, and why (unverified while verification is required; a rule's method the user lacks). */
      skipped: z.array(z.object({ channel: ContactChannel, address: z.string(), reason: z.enum(['unverified', 'missing']) })).optional(),
      /** Storm sense (docs/noc.md): the page of a flapping fingerprint's first flapping alert; the incident this page stands for. */
      flapping: z.boolean().optional(),
      incidentId: z.string().uuid().optional(),
    }),
  },
  EscalationStopped: {
    1: z.object({
      ...ref,
      reason: z.enum(['acknowledged', 'snoozed', 'resolved', 'exhausted', 'no-policy']),
      userId: z.string().nullable(),
      /** When the escalator will reopen the alert (ack timeout, snooze end); null = never. */
      reopenAt: isoTime.nullable(),
    }),
  },
  /**
   * A schedule's on-call people changed (seed 004): the summary the incoming and the outgoing
   * person get by their preferred method, on `escalations.handoffs.<scheduleId>` (one subject per
   * schedule, outside the alert partitions). `text` is the summary as plain text for each role.
   */
  HandoffSummaryRequested: {
    1: z.object({
      scheduleId: z.string(),
      scheduleName: z.string(),
      at: isoTime,
      shiftStart: isoTime,
      outgoing: z.array(z.string()),
      incoming: z.array(z.string()),
      services: z.array(z.string()),
      recipients: z.array(
        z.object({
          userId: z.string(),
          role: z.enum(['incoming', 'outgoing']),
          channel: ContactChannel,
          contacts: z.array(ContactMethod),
        }),
      ),
      open: z.array(HandoffAlert),
      fired: z.array(HandoffAlert),
      acked: z.array(z.object({ alertId: z.string(), summary: z.string(), userId: z.string().nullable(), at: isoTime })),
      text: z.object({ incoming: z.string(), outgoing: z.string() }),
    }),
  },
  /** The ack timeout or snooze ran out; the escalator asked the decider to reopen the alert. */
  AlertReopenRequested: { 1: z.object({ ...ref, reason: z.enum(['ack-timeout', 'snooze-ended']) }) },

  NotificationDelivered: {
    1: z.object({
      ...ref,
      notificationId: z.string().uuid(),
      idempotencyKey: z.string(),
      channel: ContactChannel,
      /** Address as shown to operators (phone numbers and e-mail partly masked). */
      destination: z.string(),
      providerMessageId: z.string().nullable(),
      attempts: z.number().int().positive(),
      templateId: z.string().nullable(),
      templateVersion: z.number().int().positive().nullable(),
      /** Alerts bundled into this one message (storm to one person). */
      bundled: z.number().int().positive(),
    }),
  },
  NotificationFailed: {
    1: z.object({
      ...ref,
      notificationId: z.string().uuid(),
      idempotencyKey: z.string(),
      channel: ContactChannel,
      destination: z.string(),
      reason: z.string(),
      retryable: z.boolean(),
      attempts: z.number().int().positive(),
      error: z.string(),
      /** Channel tried next (SMS → voice), or null. */
      fallback: ContactChannel.nullable(),
    }),
  },
  /**
   * What the provider later said about a message it had accepted (Twilio status callbacks: an
   * SMS delivered or undelivered, a call answered, busy or not answered). Written by ingest, which
   * receives the callbacks; one per (provider message, status).
   */
  NotificationStatusReported: {
    1: z.object({
      ...ref,
      notificationId: z.string().uuid(),
      channel: ContactChannel,
      destination: z.string(),
      providerMessageId: z.string(),
      status: ProviderStatus,
      /** The provider's error code for undelivered/failed (Twilio ErrorCode), else null. */
      errorCode: z.string().nullable(),
    }),
  },
} as const;
