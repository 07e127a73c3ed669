import { z } from 'zod';
import { isoTime, LabelMap } from './common-schemas.js';

/**
 * Storm sense (issue 16): the escalator's decisions about how an alert relates to others, on the
 * alert's `escalations.<p>.<alertId>` subject like its other decisions, so replay reproduces them.
 * docs/noc.md explains the rules.
 */

const ref = { alertId: z.string().uuid(), serviceId: z.string() };

export const correlationSchemas = {
  /** Not paged while `by` (a firing alert matching the rule's source) fires. */
  AlertInhibited: { 1: z.object({ ...ref, by: z.string().uuid(), rule: z.string(), bySummary: z.string() }) },
  /** The inhibiting alert resolved (or the rule went) while this one still fires: it pages now. */
  AlertReleased: { 1: z.object({ ...ref, by: z.string().uuid(), rule: z.string() }) },
  /** The first alert of a group key: it pages for the incident, whose id it names. */
  IncidentOpened: {
    1: z.object({ ...ref, incidentId: z.string().uuid(), groupKey: z.string(), groupLabels: LabelMap, summary: z.string() }),
  },
  /** More alerts joined the incident (at most every few seconds): its pages are edited to say so. On the first alert's subject. */
  IncidentUpdated: { 1: z.object({ ...ref, incidentId: z.string().uuid(), alerts: z.number().int().positive() }) },
  /** A later alert of an open incident's group key: it joins the incident and does not page. `firstAlertId`: the alert leading it then. */
  AlertGrouped: {
    1: z.object({ ...ref, incidentId: z.string().uuid(), groupKey: z.string(), firstAlertId: z.string().uuid() }),
  },
  /**
   * The incident's lead (the alert that pages for it: its first, until it hands over) resolved by
   * its source while other alerts of it still fired unacknowledged: `to`, one of those, took over
   * the incident's paging (it pages from step 0, reason `takeover`) and from now on writes the
   * incident's updates and resolution. Written on both alerts' subjects: `to`'s takes over, `from`'s
   * lets go.
   */
  IncidentTakenOver: {
    1: z.object({ ...ref, incidentId: z.string().uuid(), groupKey: z.string(), from: z.string().uuid(), to: z.string().uuid() }),
  },
  /** The incident's last alert resolved; written on the subject of the alert leading it (its first, or the one that took over). */
  IncidentResolved: { 1: z.object({ ...ref, incidentId: z.string().uuid(), groupKey: z.string() }) },
  /** The fingerprint fired `flips` times within the window: this alert pages once, saying so. */
  FlappingStarted: {
    1: z.object({ ...ref, fingerprint: z.string(), flips: z.number().int().positive(), windowSeconds: z.number().int().positive() }),
  },
  /** A flip of a flapping fingerprint: on the timeline, not paged. */
  AlertFlapped: { 1: z.object({ ...ref, fingerprint: z.string(), flappingSince: isoTime }) },
  /** The fingerprint was quiet for the quiet period: this alert pages as usual. */
  FlappingEnded: { 1: z.object({ ...ref, fingerprint: z.string(), flappingSince: isoTime }) },
  /** Nobody acknowledged within the customer tier's SLA. */
  SlaBreached: { 1: z.object({ ...ref, tier: z.string(), responseSeconds: z.number().int().positive(), deadline: isoTime }) },
} as const;

export const CORRELATION_EVENT_TYPES = Object.keys(correlationSchemas) as Array<keyof typeof correlationSchemas>;
