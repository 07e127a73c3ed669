import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Client, credentials, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { DatabasePool } from 'slonik';
import { alertingV1 } from '@oncall/contracts/grpc';
import { createReadModelPool } from '@oncall/shared';
import { NEXT_PAGE_TOKEN, startGrpcServer } from '@oncall/query-api';
import { createTestDatabase, offlineAdminToken, testLog } from './harness.js';

const { AlertStatus } = alertingV1;
type Request = Parameters<typeof alertingV1.ListAlertsRequest.fromPartial>[0];
type Seed = { id: string; service: string; status: string; site: string; createdAt: string; updatedAt: string };

const BASE = Date.parse('2026-11-23T10:00:00.000Z');
const at = (seconds: number): string => new Date(BASE + seconds * 1000).toISOString();

/** Newest first, ties by id (descending), as ListAlerts promises. */
const listOrder = (a: Seed, b: Seed): number =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1;

describe('ListAlerts pages over gRPC', () => {
  let db: pg.Client;
  let pool: DatabasePool;
  let server: Awaited<ReturnType<typeof startGrpcServer>>;
  const admin = offlineAdminToken();
  let client: alertingV1.AlertServiceClient;
  const seeded: Seed[] = [];

  /** Alerts straight into the read model (the projector's table), with the times given. */
  async function insert(alerts: Seed[]): Promise<void> {
    for (const a of alerts) {
      await db.query(
        `INSERT INTO alerts (id, service_id, fingerprint, status, source, summary, details, severity, labels, annotations, links, custom,
           created_at, updated_at, repeat_count, last_seen_at, last_event_seq)
         VALUES ($1, $2, $3, $4, 'alertmanager', 'down', '', 'critical', $5, '{}', '[]', '{}', $6, $7, 0, $7, 1)`,
        [a.id, a.service, `fp-${a.id}`, a.status, JSON.stringify({ site: a.site, alertname: 'InstanceDown' }), a.createdAt, a.updatedAt],
      );
    }
  }

  /** One page: the alerts' ids and the next page token ('' on the last page). */
  async function page(req: Request): Promise<{ ids: string[]; token: string }> {
    const stream = client.listAlerts(alertingV1.ListAlertsRequest.fromPartial(req));
    let token = '';
    stream.on('status', (s: StatusObject) => (token = s.metadata.get(NEXT_PAGE_TOKEN).join('')));
    const ids: string[] = [];
    for await (const a of stream as AsyncIterable<alertingV1.Alert>) ids.push(a.id);
    return { ids, token };
  }

  /** Every page of a list; `between` runs after each page but the last. */
  async function allPages(req: Request, between: () => Promise<void> = async () => undefined): Promise<string[][]> {
    const pages: string[][] = [];
    let pageToken = '';
    for (;;) {
      const { ids, token } = await page({ ...req, pageToken });
      pages.push(ids);
      if (token === '') return pages;
      pageToken = token;
      await between();
    }
  }

  async function failure(req: Request): Promise<ServiceError> {
    try {
      await page(req);
    } catch (err) {
      return err as ServiceError;
    }
    throw new Error('expected ListAlerts to fail');
  }

  beforeAll(async () => {
    const { url, schema } = await createTestDatabase();
    db = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await db.connect();
    pool = await createReadModelPool(url, schema);
    server = await startGrpcServer({ pool, port: 0, host: '127.0.0.1', log: testLog, tokens: admin.tokens });
    client = new alertingV1.AlertServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure(), admin.clientOptions);
    // 30 alerts, three at each instant (the order between them is the id's), over two services,
    // three sites and every status.
    const statuses = ['triggered', 'acknowledged', 'snoozed', 'resolved', 'triggered'];
    for (let i = 0; i < 30; i++) {
      seeded.push({
        id: randomUUID(),
        service: i % 2 ? 'payments' : 'network',
        status: statuses[i % statuses.length]!,
        site: ['ams2', 'fra1', 'lon3'][i % 3]!,
        createdAt: at(Math.floor(i / 3)),
        updatedAt: at(100 + i),
      });
    }
    await insert(seeded);
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
    await pool?.end();
    await db?.end();
  });

  it('pages in a stable order, ties broken by id, with no alert twice or missing while new ones arrive', async () => {
    const before = [...seeded];
    const pages = await allPages({ pageSize: 4 }, async () => {
      // Newer alerts arrive between pages, one of them at the same instant as the newest seeded ones.
      const arrived: Seed[] = [
        { id: randomUUID(), service: 'network', status: 'triggered', site: 'ams2', createdAt: at(50 + seeded.length), updatedAt: at(200) },
        { id: randomUUID(), service: 'network', status: 'triggered', site: 'ams2', createdAt: at(9), updatedAt: at(200) },
      ];
      await insert(arrived);
      seeded.push(...arrived);
    });
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 4, 4, 2]);
    // A tie at the newest instant arrived after the first page, whose cursor is past that instant:
    // the pages hold exactly the alerts there were when paging began, newest first.
    const all = pages.flat();
    expect(all).toEqual(before.sort(listOrder).map((a) => a.id));
    expect(seeded.length).toBe(before.length + 2 * 7);
    expect(new Set(all).size).toBe(all.length);
  });

  it.each<[string, Request, (a: Seed) => boolean]>([
    ['status triggered', { statuses: [AlertStatus.ALERT_STATUS_TRIGGERED] }, (a) => a.status === 'triggered'],
    [
      'open statuses and a site',
      { statuses: [AlertStatus.ALERT_STATUS_ACKNOWLEDGED, AlertStatus.ALERT_STATUS_SNOOZED], labelSelector: { site: 'fra1' } },
      (a) => (a.status === 'acknowledged' || a.status === 'snoozed') && a.site === 'fra1',
    ],
    [
      'a service and a site',
      { serviceIds: ['payments'], labelSelector: { site: 'ams2' } },
      (a) => a.service === 'payments' && a.site === 'ams2',
    ],
    [
      'a created range',
      { createdAfter: new Date(at(2)), createdBefore: new Date(at(7)) },
      (a) => a.createdAt > at(2) && a.createdAt < at(7),
    ],
    [
      'an updated range',
      { updatedAfter: new Date(at(110)), updatedBefore: new Date(at(121)) },
      (a) => a.updatedAt > at(110) && a.updatedAt < at(121),
    ],
  ])('pages a filter: %s', async (_, filter, matches) => {
    const expected = seeded
      .filter(matches)
      .sort(listOrder)
      .map((a) => a.id);
    expect(expected.length).toBeGreaterThan(2);
    const pages = await allPages({ ...filter, pageSize: 2 });
    expect(pages.flat()).toEqual(expected);
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
  });

  it('sends no token after the last page, and no alerts for a filter nothing matches', async () => {
    expect(await page({ pageSize: 1000 })).toMatchObject({ token: '' });
    expect((await page({ labelSelector: { site: 'nowhere' } })).ids).toEqual([]);
  });

  it('refuses a token given for other filters, or none at all, with page_token named', async () => {
    const { token } = await page({ pageSize: 2, statuses: [AlertStatus.ALERT_STATUS_TRIGGERED] });
    expect(token).not.toBe('');
    for (const req of [
      { pageSize: 2, pageToken: token, statuses: [AlertStatus.ALERT_STATUS_RESOLVED] },
      { pageSize: 2, pageToken: token },
      { pageToken: 'garbage' },
      { pageToken: Buffer.from('{"k":["2026-11-23T10:00:00+00:00","x"],"f":"y"}').toString('base64url') },
    ]) {
      const err = await failure(req);
      expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
      expect(err.metadata.get('invalid-field')).toEqual(['page_token']);
    }
  });

  it('lists an alert with every field as GetAlert answers it (rows read as text, bytes encoded by hand)', async () => {
    // After the cases that count the seeded alerts (its service is its own). Every column the API maps is set,
    // with an escalation (severity map, suppression, storm sense, SLA) and a ticket; a label whose
    // key is a number and non-ASCII text; a time with microseconds.
    const id = randomUUID();
    await db.query(
      `INSERT INTO alerts (id, service_id, fingerprint, status, source, summary, details, severity, labels, annotations, links, custom,
         generator_url, created_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, snoozed_until, snoozed_by,
         escalated_at, escalated_by, external_ticket_id, repeat_count, last_seen_at, last_event_seq)
       VALUES ($1, 'full', 'fp-full', 'snoozed', 'grafana', 'Störung – 東京 🚨', $2, 'warning', $3, '{"runbook": "https://r.example.net/x"}',
         '[]', '{}', 'http://prometheus.example.net/graph', '2026-11-23 10:00:00.123456+00', '2026-11-23 10:05:00+00',
         '2026-11-23 10:01:00.5+00', 'user-a', '2026-11-23 10:04:00+00', 'user-b', '2026-11-23 11:00:00+00', 'user-c',
         '2026-11-23 10:02:00+00', 'user-d', 'EXT-9', 4, '2026-11-23 10:05:00+00', 9007199254740000)`,
      [id, 'x'.repeat(300), JSON.stringify({ site: 'ams2', '42': 'answer', alertname: 'InstanceDown', é: 'ü' })],
    );
    await db.query(
      `INSERT INTO alert_escalations (alert_id, service_id, alert_seq, routed_at, routes, policy_id, escalation_step, escalation_round,
         escalation_page, step_reached_at, next_escalation_at, escalation_stopped_reason, notifications_requested, updated_at,
         last_event_seq, suppressed_by, suppressed_until, severity_map, site, group_key, incident_id, inhibited, inhibited_by,
         inhibited_rule, flapping, tier, sla_deadline, sla_breached_at)
       VALUES ($1, 'full', 1, '2026-11-23 10:00:01+00', 1, 'policy-1', 2, 1, 0, '2026-11-23 10:03:00+00', '2026-11-23 10:08:00+00',
         'snoozed', 3, '2026-11-23 10:05:00+00', 7, 'rule', '2026-11-23 12:00:00+00', '{"warning": "critical"}', 'ams2', 'full/1',
         $2, true, $3, 'site-down', 'started', 'gold', '2026-11-23 10:15:00+00', '2026-11-23 10:15:00.25+00')`,
      [id, randomUUID(), randomUUID()],
    );
    await db.query(
      `INSERT INTO tickets (alert_id, provider_id, ticket_key, service_id, url, status, created_at, updated_at, last_event_seq)
       VALUES ($1, 'jira', 'OPS-9', 'full', 'https://jira.example.net/browse/OPS-9', 'open', now(), now(), 1)`,
      [id],
    );
    const listed: alertingV1.Alert[] = [];
    for await (const a of client.listAlerts(
      alertingV1.ListAlertsRequest.fromPartial({ serviceIds: ['full'] }),
    ) as AsyncIterable<alertingV1.Alert>)
      listed.push(a);
    const got = await new Promise<alertingV1.Alert>((resolve, reject) =>
      client.getAlert({ id }, (err, a) => (err ? reject(err) : resolve(a))),
    );
    expect(listed).toEqual([got]);
    expect(got).toMatchObject({
      severity: alertingV1.Severity.SEVERITY_CRITICAL,
      sourceSeverity: alertingV1.Severity.SEVERITY_WARNING,
      externalTicketId: 'OPS-9',
      escalationSuppressed: true,
      inhibited: true,
      lastEventSequence: 9007199254740000,
      createdAt: new Date('2026-11-23T10:00:00.123Z'),
      labels: { site: 'ams2', '42': 'answer', alertname: 'InstanceDown', é: 'ü' },
    });
  });

  it('refuses a time beyond JavaScript’s numbers as INVALID_ARGUMENT, not INTERNAL', async () => {
    // created_after (field 4) { seconds (field 1): 2^60 }: ts-proto's decoder throws on it.
    const bytes = new BinaryWriter()
      .uint32(34)
      .fork()
      .uint32(8)
      .int64(2n ** 60n)
      .join()
      .finish();
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure(), admin.clientOptions);
    const stream = raw.makeServerStreamRequest(
      '/alerting.v1.AlertService/ListAlerts',
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      bytes,
    );
    const err = await new Promise<ServiceError>((resolve, reject) => {
      stream.on('error', resolve);
      stream.on('data', () => reject(new Error('expected no alerts')));
      stream.on('end', () => reject(new Error('expected the call to fail')));
    });
    raw.close();
    expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('invalid-field')).toEqual(['(request)']);
    expect(err.details).toContain('cannot be decoded');
  });

  it.each<[string, Request, string]>([
    ['a negative page size', { pageSize: -5 }, 'page_size'],
    ['a huge page size', { pageSize: 2 ** 31 - 1 }, 'page_size'],
    ['a NUL in a label value', { labelSelector: { site: 'ams\u00002' } }, 'label_selector.site'],
    ['21 labels', { labelSelector: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`l${i}`, 'v'])) }, 'label_selector'],
    ['an empty label name', { labelSelector: { '': 'ams2' } }, 'label_selector'],
    ['a range that ends before it starts', { createdAfter: new Date(at(5)), createdBefore: new Date(at(1)) }, 'created_after'],
    ['a time past the year 9999', { updatedBefore: new Date('+010000-01-01T00:00:00Z') }, 'updated_before'],
    ['an unknown status', { statuses: [42 as alertingV1.AlertStatus] }, 'statuses[0]'],
    ['an unknown severity', { severities: [-3 as alertingV1.Severity] }, 'severities[0]'],
    ['an empty service id', { serviceIds: [''] }, 'service_ids[0]'],
  ])('refuses %s as INVALID_ARGUMENT naming %s', async (_, req, field) => {
    const err = await failure(req);
    expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('invalid-field')).toEqual([field]);
  });
});
