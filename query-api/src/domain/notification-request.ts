import type { ContactChannel, ContactMethod, EventData, Priority, Severity } from '@oncall/contracts';
import { InvalidArgument } from '../errors.js';
import { addressOf, channelOf, ownerOf } from './destinations.js';
import { MANUAL_LIMITS } from './manual-alert.js';

export const MAX_DESTINATIONS = 6;

/** One destination of a SendNotification: an address, or (null) the one registered for owner and channel. */
export type DestinationRef = Readonly<{ field: string; ownerId: string; channel: ContactChannel; address: string | null }>;

/** What the message says: the render context's alert part, labels, annotations and user name. */
export type NotificationContent = Readonly<{
  summary: string;
  details: string;
  severity: Severity;
  serviceId: string;
  serviceName: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  userName: string | null;
}>;

/** A validated SendNotificationRequest. */
export type AdHocNotification = Readonly<{
  requestId: string | null;
  templateId: string | null;
  /** 0 = the latest published version. */
  templateVersion: number;
  priority: Priority;
  content: NotificationContent;
  destinations: readonly DestinationRef[];
}>;

type Request = Readonly<{
  requestId: string;
  templateId: string;
  templateVersion: number;
  renderContext: { [key: string]: unknown } | undefined;
  destinations: ReadonlyArray<Readonly<{ userId: string; channel: number; channelAddress: string }>>;
  priority: number;
}>;

const PRIORITIES: ReadonlyMap<number, Priority> = new Map([
  [0, 'normal'],
  [1, 'low'],
  [2, 'normal'],
  [3, 'high'],
  [4, 'critical'],
]);
const SEVERITY_WORDS: ReadonlySet<string> = new Set(['critical', 'error', 'warning', 'info']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function string(field: string, v: unknown, max: number): string {
  if (typeof v !== 'string') throw new InvalidArgument(field, 'must be a string');
  if (v.length > max) throw new InvalidArgument(field, `must be at most ${max} characters`);
  return v;
}

function object(field: string, v: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) throw new InvalidArgument(field, 'must be an object');
  const unknown = Object.keys(v).find((k) => !keys.includes(k));
  if (unknown !== undefined) throw new InvalidArgument(`${field}.${unknown}`, `is not a field here (${keys.join(', ')})`);
  return v;
}

function stringMap(field: string, v: unknown, maxValue: number): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new InvalidArgument(field, 'must be an object of strings');
  const entries = Object.entries(v);
  if (entries.length > MANUAL_LIMITS.mapEntries) throw new InvalidArgument(field, `must have at most ${MANUAL_LIMITS.mapEntries} entries`);
  for (const [k, value] of entries) {
    if (k === '' || k.length > MANUAL_LIMITS.key) throw new InvalidArgument(field, `keys must be 1-${MANUAL_LIMITS.key} characters`);
    string(`${field}.${k}`, value, maxValue);
  }
  return v as Record<string, string>;
}

/** The render context: `alert` (summary required), `labels`, `annotations`, `user`; nothing else. */
function contentOf(ctx: { [key: string]: unknown } | undefined): NotificationContent {
  const root = object('render_context', ctx ?? {}, ['alert', 'labels', 'annotations', 'user']);
  const alert = object('render_context.alert', root.alert ?? {}, ['summary', 'details', 'severity', 'service_id', 'service_name']);
  const summary = string('render_context.alert.summary', alert.summary ?? '', MANUAL_LIMITS.summary);
  if (summary.trim() === '') throw new InvalidArgument('render_context.alert.summary', 'is required: it is what the message says');
  const severity = string('render_context.alert.severity', alert.severity ?? 'info', 16);
  if (!SEVERITY_WORDS.has(severity)) throw new InvalidArgument('render_context.alert.severity', 'must be critical, error, warning or info');
  const user = root.user === undefined ? null : object('render_context.user', root.user, ['name']);
  return {
    summary,
    details: string('render_context.alert.details', alert.details ?? '', MANUAL_LIMITS.details),
    severity: severity as Severity,
    serviceId: string('render_context.alert.service_id', alert.service_id ?? '', 63),
    serviceName: string('render_context.alert.service_name', alert.service_name ?? '', 256),
    labels: stringMap('render_context.labels', root.labels, MANUAL_LIMITS.labelValue),
    annotations: stringMap('render_context.annotations', root.annotations, MANUAL_LIMITS.annotationValue),
    userName: user?.name === undefined ? null : string('render_context.user.name', user.name, 256),
  };
}

/** Validates a SendNotificationRequest (templates and registered destinations are the adapter's); throws InvalidArgument naming the field. */
export function toAdHocNotification(req: Request): AdHocNotification {
  if (req.requestId.length > MANUAL_LIMITS.requestId)
    throw new InvalidArgument('request_id', `must be at most ${MANUAL_LIMITS.requestId} characters`);
  if (req.templateId.length > 128) throw new InvalidArgument('template_id', 'must be at most 128 characters');
  if (!Number.isInteger(req.templateVersion) || req.templateVersion < 0)
    throw new InvalidArgument('template_version', 'must be 0 (the latest) or a published version');
  if (req.templateId === '' && req.templateVersion !== 0) throw new InvalidArgument('template_version', 'needs a template_id');
  const priority = PRIORITIES.get(req.priority);
  if (!priority) throw new InvalidArgument('priority', 'must be PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_HIGH or PRIORITY_CRITICAL');
  if (req.destinations.length === 0) throw new InvalidArgument('destinations', 'at least one is required');
  if (req.destinations.length > MAX_DESTINATIONS)
    throw new InvalidArgument('destinations', `at most ${MAX_DESTINATIONS} (one per channel)`);
  const content = contentOf(req.renderContext);
  const seen = new Set<ContactChannel>();
  const destinations = req.destinations.map((d, i): DestinationRef => {
    const field = `destinations[${i}]`;
    const channel = channelOf(`${field}.channel`, d.channel);
    if (seen.has(channel)) throw new InvalidArgument(`${field}.channel`, `only one destination per channel (${channel} is already there)`);
    seen.add(channel);
    if (d.channelAddress === '') {
      // No address: the destination registered for this owner and channel.
      return { field, ownerId: ownerOf(`${field}.user_id`, d.userId), channel, address: null };
    }
    if (d.userId !== '') ownerOf(`${field}.user_id`, d.userId);
    return { field, ownerId: d.userId, channel, address: addressOf(`${field}.channel_address`, channel, d.channelAddress) };
  });
  return {
    requestId: req.requestId === '' ? null : req.requestId,
    templateId: req.templateId === '' ? null : req.templateId,
    templateVersion: req.templateVersion,
    priority,
    content,
    destinations,
  };
}

/**
 * The NotificationRequested the dispatcher sends an ad-hoc notification from. It stands for no
 * alert: its alert id is the notification id, so it lives on its own subjects
 * (`escalations.<p>.<notificationId>`, its outcomes on `deliveries.<p>.<notificationId>`) and
 * never on an alert's, which the escalator appends to expecting their last sequence. The
 * destinations are the recipient's contact methods: one delivery each (an SMS falls back to a
 * call when both are given, as for a page).
 */
export function adHocRequest(
  n: AdHocNotification,
  o: Readonly<{
    notificationId: string;
    contacts: readonly ContactMethod[];
    recipientId: string;
    templateVersion: number | null;
    now: string;
  }>,
): EventData<'NotificationRequested'> {
  const c = n.content;
  return {
    alertId: o.notificationId,
    serviceId: c.serviceId,
    notificationId: o.notificationId,
    kind: 'page',
    step: 0,
    round: 0,
    page: 0,
    recipient: { type: 'user', userId: o.recipientId, via: 'api' },
    contacts: [...o.contacts],
    userName: c.userName,
    templateId: n.templateId,
    templateVersion: o.templateVersion,
    priority: n.priority,
    alert: {
      alertId: o.notificationId,
      serviceId: c.serviceId,
      serviceName: c.serviceName,
      fingerprint: `notification:${o.notificationId}`,
      status: 'triggered',
      summary: c.summary,
      details: c.details,
      severity: c.severity,
      labels: { ...c.labels },
      annotations: { ...c.annotations },
      links: [],
      source: 'api',
      triggeredAt: o.now,
    },
    escalation: { policyId: '', policyName: '', step: 0, totalSteps: 0 },
  };
}
