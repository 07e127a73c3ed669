import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Client, credentials, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { DatabasePool } from 'slonik';
import { alertingV1 } from '@oncall/contracts';
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
