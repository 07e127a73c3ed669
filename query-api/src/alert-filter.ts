import type { alertingV1 } from '@oncall/contracts/grpc';
import { InvalidArgument } from './errors.js';
import { SEVERITY_FROM_PROTO, STATUS_FROM_PROTO } from './mapping.js';
import { decodePageToken, filterDigest, pageSize } from './page-token.js';
import type { AlertCursor, AlertQuery } from './read-model/alerts.js';
import { required } from './validate.js';

/** As ListIncidents: a screenful; a client that wants everything asks for a larger page or follows the tokens. */
export const DEFAULT_ALERT_PAGE_SIZE = 100;
/** A page is one stream: up to this many alerts, read from the read model in batches. */
export const MAX_ALERT_PAGE_SIZE = 100_000;
export const MAX_SERVICE_IDS = 100;
export const MAX_LABEL_PAIRS = 20;
const MAX_LABEL_KEY = 256;
const MAX_LABEL_VALUE = 1024;
/** Time bounds PostgreSQL and a JavaScript Date both hold: years 1 to 9999. */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

export type AlertListRequest = {
  query: AlertQuery;
  pageSize: number;
  /** Where the previous page ended; null = the first page. */
  after: AlertCursor | null;
  /** The digest of the filters, which the page token binds. */
  digest: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A timestamptz as PostgreSQL writes it in JSON (to_jsonb), e.g. 2026-11-23T10:00:00.123456+00:00. */
const PG_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){1,2}$/;

const sortedUnique = <T>(values: readonly T[]): T[] => [...new Set(values)].sort();

function bound(field: string, value: Date | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = value.getTime();
  if (!Number.isFinite(ms) || ms < EARLIEST || ms > LATEST) throw new InvalidArgument(field, 'must be between the years 1 and 9999');
  return value;
}

function range(after: string, before: string, from: Date | undefined, to: Date | undefined): void {
  if (from && to && from.getTime() >= to.getTime()) throw new InvalidArgument(after, `must be before ${before}`);
}

function labelSelector(selector: Record<string, string>): Record<string, string> {
  const pairs = Object.entries(selector);
  if (pairs.length > MAX_LABEL_PAIRS) throw new InvalidArgument('label_selector', `may hold at most ${MAX_LABEL_PAIRS} labels`);
  for (const [key, value] of pairs) {
    if (key === '') throw new InvalidArgument('label_selector', 'a label name is empty');
    if (key.length > MAX_LABEL_KEY) throw new InvalidArgument('label_selector', `label names are at most ${MAX_LABEL_KEY} characters`);
    if (value.length > MAX_LABEL_VALUE) throw new InvalidArgument(`label_selector[${key}]`, `is longer than ${MAX_LABEL_VALUE} characters`);
  }
  return Object.fromEntries(pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Validates a ListAlertsRequest into a read-model query and page; throws InvalidArgument naming the field. */
export function toAlertList(req: alertingV1.ListAlertsRequest): AlertListRequest {
  const size = pageSize('page_size', req.pageSize, DEFAULT_ALERT_PAGE_SIZE, MAX_ALERT_PAGE_SIZE);
  if (req.serviceIds.length > MAX_SERVICE_IDS) throw new InvalidArgument('service_ids', `may hold at most ${MAX_SERVICE_IDS} ids`);
  const serviceIds = req.serviceIds.map((id, i) => required(`service_ids[${i}]`, id));
  const statuses = req.statuses.map((s, i) => {
    const st = STATUS_FROM_PROTO.get(s);
    if (!st) throw new InvalidArgument(`statuses[${i}]`, `unknown status ${s}`);
    return st;
  });
  const severities = req.severities.map((s, i) => {
    const sev = SEVERITY_FROM_PROTO.get(s);
    if (!sev) throw new InvalidArgument(`severities[${i}]`, `unknown severity ${s}`);
    return sev;
  });
  const createdAfter = bound('created_after', req.createdAfter);
  const createdBefore = bound('created_before', req.createdBefore);
  const updatedAfter = bound('updated_after', req.updatedAfter);
  const updatedBefore = bound('updated_before', req.updatedBefore);
  range('created_after', 'created_before', createdAfter, createdBefore);
  range('updated_after', 'updated_before', updatedAfter, updatedBefore);
  const query: AlertQuery = {
    serviceIds: sortedUnique(serviceIds),
    statuses: sortedUnique(statuses),
    severities: sortedUnique(severities),
    labelSelector: labelSelector(req.labelSelector),
    createdAfter,
    createdBefore,
    updatedAfter,
    updatedBefore,
  };
  const digest = filterDigest(query);
  const key = decodePageToken(req.pageToken, digest, (k) => k.length === 2 && PG_TIME.test(k[0]!) && UUID.test(k[1]!));
  return { query, pageSize: size, after: key && { createdAt: key[0]!, id: key[1]! }, digest };
}
