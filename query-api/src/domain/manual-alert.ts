import type { Severity } from '@oncall/contracts';
import { InvalidArgument } from '../errors.js';

/** Limits of a manual alert (CreateAlert); docs/query-api.md lists them. */
export const MANUAL_LIMITS = {
  summary: 1024,
  details: 64 * 1024,
  mapEntries: 64,
  key: 128,
  labelValue: 1024,
  annotationValue: 16 * 1024,
  /** The fingerprint bound of a signal (contracts `Signal`). */
  dedupKey: 512,
  userId: 128,
  requestId: 256,
} as const;

/** Service ids as the configuration file allows them (shared/config-file `Id`). */
const SERVICE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A validated CreateAlertRequest. */
export type ManualAlert = Readonly<{
  serviceId: string;
  summary: string;
  details: string;
  severity: Severity;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** The fingerprint, when the client gave one: a second alert with it joins the open one. */
  dedupKey: string | null;
  createdByUserId: string | null;
  /** The client's idempotency key, or null. */
  requestId: string | null;
}>;

type Request = Readonly<{
  serviceId: string;
  summary: string;
  details: string;
  severity: number;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  dedupKey: string;
  createdByUserId: string;
  requestId: string;
}>;

function text(field: string, value: string, max: number, opts: { required?: boolean; singleLine?: boolean } = {}): string {
  if (opts.required && value.trim() === '') throw new InvalidArgument(field, 'is required');
  if (value.length > max) throw new InvalidArgument(field, `must be at most ${max} characters`);
  if (opts.singleLine && CONTROL.test(value)) throw new InvalidArgument(field, 'must not hold control characters (line breaks, tabs, …)');
  return value;
}

function map(field: string, value: Readonly<Record<string, string>>, maxValue: number): Record<string, string> {
  const entries = Object.entries(value);
  if (entries.length > MANUAL_LIMITS.mapEntries) throw new InvalidArgument(field, `must have at most ${MANUAL_LIMITS.mapEntries} entries`);
  for (const [k, v] of entries) {
    if (k.trim() === '') throw new InvalidArgument(field, 'keys must not be empty');
    text(`${field}[${k.slice(0, 64)}]`, k, MANUAL_LIMITS.key, { singleLine: true });
    text(`${field}[${k}]`, v, maxValue);
  }
  return Object.fromEntries(entries);
}

/** The proto's Severity numbers (alerting.v1) as the log's severities; UNSPECIFIED (0) is not one. */
const SEVERITIES: ReadonlyMap<number, Severity> = new Map([
  [1, 'info'],
  [2, 'warning'],
  [3, 'error'],
  [4, 'critical'],
]);

/** Validates a CreateAlertRequest (the service's existence is the adapter's); throws InvalidArgument naming the field. */
export function toManualAlert(req: Request): ManualAlert {
  const serviceId = text('service_id', req.serviceId, 63, { required: true });
  if (!SERVICE_ID.test(serviceId)) throw new InvalidArgument('service_id', 'must be a service id (lower-case letters, digits, - and _)');
  const severity = SEVERITIES.get(req.severity);
  if (!severity) throw new InvalidArgument('severity', 'must be SEVERITY_INFO, SEVERITY_WARNING, SEVERITY_ERROR or SEVERITY_CRITICAL');
  const dedupKey = text('dedup_key', req.dedupKey, MANUAL_LIMITS.dedupKey, { singleLine: true });
  const createdBy = text('created_by_user_id', req.createdByUserId, MANUAL_LIMITS.userId, { singleLine: true });
  const requestId = text('request_id', req.requestId, MANUAL_LIMITS.requestId, { singleLine: true });
  return {
    serviceId,
    summary: text('summary', req.summary, MANUAL_LIMITS.summary, { required: true }),
    details: text('details', req.details, MANUAL_LIMITS.details),
    severity,
    labels: map('labels', req.labels, MANUAL_LIMITS.labelValue),
    annotations: map('annotations', req.annotations, MANUAL_LIMITS.annotationValue),
    dedupKey: dedupKey === '' ? null : dedupKey,
    createdByUserId: createdBy === '' ? null : createdBy,
    requestId: requestId === '' ? null : requestId,
  };
}

/** The intake event's id for a request id: a retried request is the same event (and message id). */
export const manualEventKey = (serviceId: string, requestId: string): string => `query-api:create-alert:${serviceId}:${requestId}`;
