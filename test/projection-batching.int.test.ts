import { afterAll, describe, expect, it } from 'vitest';
import { createPool, sql, type DatabasePool } from 'slonik';
import { buildEvent, encodeEvent, stableUuid, subjects, type AlertEvent, type EventData } from '@oncall/contracts';
import { createReadModelPool, withSearchPath } from '@oncall/shared';
import { alertsProjection, applyBatch, describeTimelineEvent, type Projection } from '@oncall/projector';
import { createTestDatabase, tableRows } from './harness.js';

type Message = { seq: number; subject: string; data: Uint8Array };
type Db = { url: string; schema: string; pool: DatabasePool };

const T0 = Date.parse('2026-11-23T10:00:00.000Z');

/** Builds ALERTS messages with consecutive sequences; `at` is minutes after T0. */
function logBuilder() {
  const messages: Message[] = [];
  let n = 0;
  const ref = (name: string) => ({
    alertId: stableUuid(`alert-${name}`),
    serviceId: name.startsWith('db') ? 'db' : 'edge',
    fingerprint: `fp-${name.split('#')[0]}`,
  });
  const push = <T extends AlertEvent['type']>(type: T, name: string, data: Omit<EventData<T>, 'alertId' | 'serviceId' | 'fingerprint'>) => {
    const seq = ++n;
    const occurredAt = new Date(T0 + seq * 1000).toISOString();
    const r = ref(name);
    const event = buildEvent(type, { ...r, ...data } as EventData<T>, {
      id: stableUuid(`event-${seq}`),
      occurredAt,
      causationId: null,
      correlationId: `test-${name}`,
    });
    messages.push({ seq, subject: subjects.alert(seq % 3, r.alertId), data: encodeEvent(event) });
  };
  const at = () => new Date(T0 + (n + 1) * 1000).toISOString();
  return {
    messages,
    triggered: (name: string, labels: Record<string, string> = {}) =>
      push('AlertTriggered', name, {
        source: 'alertmanager',
        summary: `${name} down`,
        details: `${name} is down`,
        severity: 'critical',
        labels: { alertname: 'InstanceDown', instance: name, ...labels },
        annotations: { summary: `${name} down` },
        links: [],
        custom: {},
        startsAt: at(),
        generatorUrl: `http://prometheus/${name}`,
        seenAt: at(),
      }),
    updated: (name: string, version: number, repeatCount: number) =>
      push('AlertUpdated', name, {
        summary: `${name} down (v${version})`,
        details: `still down, v${version}`,
        severity: version % 2 ? 'warning' : 'critical',
        labels: { alertname: 'InstanceDown', instance: name, v: String(version) },
        annotations: { summary: `${name} down (v${version})` },
        links: [{ href: `http://grafana/${name}?v=${version}`, text: 'Dashboard' }],
        custom: { version },
        changed: ['summary', 'details', 'labels'],
        repeatCount,
        seenAt: at(),
      }),
    repeated: (name: string, repeatCount: number) =>
      push('AlertRepeated', name, {
        repeatCount,
        seenAt: at(),
        links: [{ href: `http://grafana/${name}?r=${repeatCount}`, text: 'Panel' }],
        custom: { values: { A: repeatCount * 1.5 } },
      }),
    acknowledged: (name: string, userId: string | null) =>
      push('AlertAcknowledged', name, { by: userId ? 'user' : 'source', userId, note: userId ? 'on it' : '' }),
    resolved: (name: string, userId: string | null) =>
      push('AlertResolved', name, { by: userId ? 'user' : 'source', userId, note: userId ? 'fixed' : '', endsAt: userId ? null : at() }),
    snoozed: (name: string, userId: string | null, minutes: number) =>
      push('AlertSnoozed', name, { userId, until: new Date(T0 + minutes * 60_000).toISOString(), note: userId ? 'later' : '' }),
    escalated: (name: string, userId: string | null) => push('AlertEscalated', name, { userId, note: userId ? 'help' : '' }),
    unacknowledged: (name: string, userId: string | null) =>
      push('AlertUnacknowledged', name, { userId, reason: userId ? 'user' : 'ack-timeout' }),
  };
}

/**
 * The alerts projection as plain statements, one event at a time (what the batched projection
 * replaced): the independent reference the batched rows must equal.
 */
const referenceProjection: Projection = {
  ...alertsProjection,
  applyMany: async (tx, events) => {
    for (const { event, at } of events) {
      const e = event as AlertEvent;
      const { actor, message } = describeTimelineEvent(e);
      await tx.query(sql.unsafe`
        INSERT INTO alert_timeline (seq, alert_id, event_id, event_type, occurred_at, actor, message, data)
        VALUES (${at.seq}, ${e.data.alertId}, ${e.id}, ${e.type}, ${e.occurredAt}, ${actor}, ${message}, ${JSON.stringify(e.data)})`);
      const t = e.occurredAt;
      const json = (v: unknown) => JSON.stringify(v);
      switch (e.type) {
        case 'AlertTriggered': {
          const d = e.data;
          await tx.query(sql.unsafe`
            INSERT INTO alerts (id, service_id, fingerprint, source, summary, details, severity, labels, annotations, links, custom,
              generator_url, starts_at, created_at, last_seen_at, last_event_seq, status, updated_at, repeat_count)
            VALUES (${d.alertId}, ${d.serviceId}, ${d.fingerprint}, ${d.source}, ${d.summary}, ${d.details}, ${d.severity},
              ${json(d.labels)}, ${json(d.annotations)}, ${json(d.links)}, ${json(d.custom)}, ${d.generatorUrl}, ${d.startsAt},
              ${t}, ${d.seenAt}, ${at.seq}, 'triggered', ${t}, 0)`);
          break;
        }
        case 'AlertUpdated': {
          const d = e.data;
          await tx.query(sql.unsafe`
            UPDATE alerts SET summary = ${d.summary}, details = ${d.details}, severity = ${d.severity}, labels = ${json(d.labels)},
              annotations = ${json(d.annotations)}, links = ${json(d.links)}, custom = ${json(d.custom)}, repeat_count = ${d.repeatCount},
              last_seen_at = ${d.seenAt}, updated_at = ${t}, last_event_seq = ${at.seq}
            WHERE id = ${d.alertId}`);
          break;
        }
        case 'AlertRepeated':
          await tx.query(sql.unsafe`
            UPDATE alerts SET repeat_count = ${e.data.repeatCount}, last_seen_at = ${e.data.seenAt}, links = ${json(e.data.links)},
              custom = ${json(e.data.custom)}, last_event_seq = ${at.seq}
            WHERE id = ${e.data.alertId}`);
          break;
        case 'AlertAcknowledged':
          await tx.query(sql.unsafe`
            UPDATE alerts SET status = 'acknowledged', acknowledged_at = ${t}, acknowledged_by = ${e.data.userId}, updated_at = ${t},
              first_acknowledged_at = COALESCE(first_acknowledged_at, ${t}), snoozed_until = NULL, snoozed_by = NULL,
              last_event_seq = ${at.seq}
            WHERE id = ${e.data.alertId}`);
          break;
        case 'AlertResolved':
          await tx.query(sql.unsafe`
            UPDATE alerts SET status = 'resolved', resolved_at = ${t}, resolved_by = ${e.data.userId}, updated_at = ${t},
              snoozed_until = NULL, snoozed_by = NULL, last_event_seq = ${at.seq}
            WHERE id = ${e.data.alertId}`);
          break;
        case 'AlertSnoozed':
          await tx.query(sql.unsafe`
            UPDATE alerts SET status = 'snoozed', snoozed_until = ${e.data.until}, snoozed_by = ${e.data.userId}, updated_at = ${t},
              last_event_seq = ${at.seq}
            WHERE id = ${e.data.alertId}`);
          break;
        case 'AlertEscalated':
          await tx.query(sql.unsafe`
            UPDATE alerts SET escalated_at = ${t}, escalated_by = ${e.data.userId}, updated_at = ${t}, last_event_seq = ${at.seq}
            WHERE id = ${e.data.alertId}`);
          break;
        case 'AlertUnacknowledged':
          await tx.query(sql.unsafe`
            UPDATE alerts SET status = 'triggered', snoozed_until = NULL, snoozed_by = NULL, updated_at = ${t}, last_event_seq = ${at.seq}
            WHERE id = ${e.data.alertId}`);
          break;
      }
    }
  },
};

async function freshDb(): Promise<Db> {
  const db = await createTestDatabase();
  return { ...db, pool: await createReadModelPool(db.url, db.schema) };
}

async function rows(db: Db) {
  return {
    alerts: await tableRows(db.url, db.schema, 'alerts', 'id'),
    timeline: await tableRows(db.url, db.schema, 'alert_timeline', 'seq'),
    checkpoints: await tableRows(db.url, db.schema, 'projection_checkpoints', 'projection', ['updated_at']),
  };
}

async function applyOneByOne(db: Db, messages: readonly Message[], projection = alertsProjection): Promise<void> {
  for (const m of messages) await applyBatch(db.pool, projection, [m]);
}

describe('a batch of the alerts projection gives the rows of its events applied one at a time', () => {
  const dbs: Db[] = [];
  const db = async () => {
    const d = await freshDb();
    dbs.push(d);
    return d;
  };
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.pool.end()));
  });

  /**
   * First batch: alerts that exist before the storm. Second batch: one alert's whole lifecycle,
   * interleaved with new alerts, changes to existing alerts (several per alert and per column),
   * and a fingerprint that resolves and fires again as a new alert.
   */
  const log = logBuilder();
  log.triggered('old-1');
  log.triggered('old-2');
  log.triggered('db-1');
  log.triggered('old-3');
  log.acknowledged('old-3', 'alice');
  log.triggered('old-4');
  log.acknowledged('old-4', 'erin');
  const before = log.messages.length;
  log.triggered('A', { site: 'fra1' });
  log.repeated('old-1', 3);
  log.triggered('B');
  log.updated('A', 1, 1);
  log.acknowledged('old-2', 'bob');
  log.updated('old-1', 1, 4);
  log.triggered('C');
  log.repeated('A', 2);
  log.resolved('db-1', null); // frees fingerprint fp-db-1 …
  log.triggered('db-1#2'); // … which fires again as a new alert in the same batch
  log.updated('C', 1, 1);
  log.acknowledged('A', 'carol');
  log.repeated('old-1', 5); // after an update: repeat columns from here, content from the update
  log.resolved('old-2', null); // acknowledged by a user, resolved by the source: resolved_by null, acknowledged_by kept
  log.updated('C', 2, 2); // the later update of C wins
  log.repeated('B', 1);
  log.resolved('A', 'dave');
  log.resolved('old-3', 'erin');
  log.acknowledged('db-1#2', null);
  log.updated('old-1', 2, 6);
  // snoozes, reopens and manual escalations: old-4 is acknowledged before the batch and
  // reopened, re-acknowledged (first acknowledgement kept) and snoozed in it; D is snoozed,
  // escalated, reopened and acknowledged within the batch; B's snooze outlives the batch.
  log.snoozed('old-4', 'frank', 90);
  log.escalated('B', 'gina');
  log.triggered('D');
  log.snoozed('D', 'hank', 30);
  log.escalated('D', null);
  log.unacknowledged('old-4', null);
  log.unacknowledged('D', null);
  log.acknowledged('old-4', 'ivan');
  log.snoozed('B', 'gina', 60);
  log.acknowledged('D', 'judy');
  log.escalated('D', 'judy');
  log.snoozed('old-4', 'ivan', 120);

  it('one lifecycle in one batch, interleaved with others, gives the rows of one event at a time', async () => {
    const batched = await db();
    const single = await db();
    const reference = await db();
    const first = log.messages.slice(0, before);
    const storm = log.messages.slice(before);
    await applyBatch(batched.pool, alertsProjection, first);
    expect(await applyBatch(batched.pool, alertsProjection, storm)).toBe(storm.length);
    await applyOneByOne(single, log.messages);
    await applyOneByOne(reference, log.messages, referenceProjection);

    const got = await rows(batched);
    expect(got).toEqual(await rows(single));
    expect(got).toEqual(await rows(reference));
    expect(got.timeline).toHaveLength(log.messages.length);
    expect(got.checkpoints).toEqual([{ projection: alertsProjection.name, last_seq: String(log.messages.length) }]);

    const byId = new Map((got.alerts as Array<Record<string, unknown>>).map((a) => [a.id, a]));
    const a = byId.get(stableUuid('alert-A'))!;
    expect(a).toMatchObject({
      status: 'resolved',
      summary: 'A down (v1)',
      severity: 'warning',
      repeat_count: 2,
      labels: { alertname: 'InstanceDown', instance: 'A', v: '1' },
      links: [{ href: 'http://grafana/A?r=2', text: 'Panel' }],
      custom: { values: { A: 3 } },
      acknowledged_by: 'carol',
      resolved_by: 'dave',
    });
    expect((a.acknowledged_at as Date) < (a.resolved_at as Date)).toBe(true);
    expect(a.updated_at).toEqual(a.resolved_at);
    expect(byId.get(stableUuid('alert-old-1'))).toMatchObject({
      status: 'triggered',
      summary: 'old-1 down (v2)',
      repeat_count: 6,
      custom: { version: 2 },
    });
    expect(byId.get(stableUuid('alert-old-2'))).toMatchObject({ status: 'resolved', acknowledged_by: 'bob', resolved_by: null });
    expect(byId.get(stableUuid('alert-C'))).toMatchObject({ summary: 'C down (v2)', repeat_count: 2, severity: 'critical' });
    expect(byId.get(stableUuid('alert-db-1'))).toMatchObject({ status: 'resolved', fingerprint: 'fp-db-1' });
    expect(byId.get(stableUuid('alert-db-1#2'))).toMatchObject({ status: 'acknowledged', fingerprint: 'fp-db-1', acknowledged_by: null });
    const old4 = byId.get(stableUuid('alert-old-4'))!;
    expect(old4).toMatchObject({
      status: 'snoozed',
      acknowledged_by: 'ivan',
      snoozed_by: 'ivan',
      snoozed_until: new Date(T0 + 120 * 60_000),
    });
    expect((old4.first_acknowledged_at as Date) < (old4.acknowledged_at as Date)).toBe(true);
    const d = byId.get(stableUuid('alert-D'))!;
    expect(d).toMatchObject({
      status: 'acknowledged',
      acknowledged_by: 'judy',
      snoozed_until: null,
      snoozed_by: null,
      escalated_by: 'judy',
    });
    expect(d.first_acknowledged_at).toEqual(d.acknowledged_at);
    expect(byId.get(stableUuid('alert-B'))).toMatchObject({ status: 'snoozed', snoozed_by: 'gina', escalated_by: 'gina' });
  });

  it('costs the same few statements however many events and alerts a batch holds', async () => {
    const d = await freshDb();
    let statements = 0;
    const counting = await createPool(withSearchPath(d.url, d.schema), {
      captureStackTrace: false,
      // statements of the projection (not the checkpoint bookkeeping of applyBatch)
      interceptors: [
        { name: 'count', beforeQueryExecution: (_c, q) => ((statements += /\balert(s|_timeline)\b/.test(q.sql) ? 1 : 0), null) },
      ],
    });
    try {
      const first = log.messages.slice(0, before);
      await applyBatch(counting, alertsProjection, first);
      statements = 0;
      await applyBatch(counting, alertsProjection, log.messages.slice(before));
      // one UPDATE of the alerts that existed before, one INSERT of the timeline and the new alerts
      expect(statements).toBe(2);
    } finally {
      await counting.end();
      await d.pool.end();
    }
  });

  it('any split of a long random log into batches gives the rows of one event at a time', async () => {
    // A deterministic pseudo-random valid log: alerts open, change, resolve, and fingerprints fire again.
    let seed = 42;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const big = logBuilder();
    const open: Array<{ name: string; repeats: number; version: number; acked: boolean }> = [];
    const who = () => (rand() < 0.5 ? 'zoe' : null);
    let next = 0;
    for (let i = 0; i < 1500; i++) {
      const r = rand();
      if (open.length === 0 || r < 0.45) {
        // a tenth of new alerts re-use the fingerprint of an earlier one that resolved
        const reuse = next > 10 && rand() < 0.1 ? `n${Math.floor(rand() * next)}` : `n${next}`;
        const name = `${reuse}#${i}`;
        if (open.some((o) => o.name.split('#')[0] === reuse)) continue;
        open.push({ name, repeats: 0, version: 0, acked: false });
        next++;
        big.triggered(name);
        continue;
      }
      const k = Math.floor(rand() * open.length);
      const o = open[k]!;
      if (r < 0.7) big.repeated(o.name, (o.repeats += 1));
      else if (r < 0.8) big.updated(o.name, (o.version += 1), (o.repeats += 1));
      else if (r < 0.85 && !o.acked) {
        o.acked = true;
        big.acknowledged(o.name, who());
      } else if (r < 0.87) {
        o.acked = true;
        big.snoozed(o.name, who(), 10 + i);
      } else if (r < 0.88) {
        big.escalated(o.name, who());
      } else if (r < 0.9 && o.acked) {
        o.acked = false;
        big.unacknowledged(o.name, who());
      } else {
        open.splice(k, 1);
        big.resolved(o.name, rand() < 0.3 ? 'yan' : null);
      }
    }
    const batched = await db();
    const single = await db();
    const reference = await db();
    for (let i = 0; i < big.messages.length;) {
      const size = 1 + Math.floor(rand() * (rand() < 0.2 ? 400 : 40));
      await applyBatch(batched.pool, alertsProjection, big.messages.slice(i, i + size));
      i += size;
    }
    await Promise.all([applyOneByOne(single, big.messages), applyOneByOne(reference, big.messages, referenceProjection)]);
    const got = await rows(batched);
    expect(got.timeline).toHaveLength(big.messages.length);
    expect(got).toEqual(await rows(single));
    expect(got).toEqual(await rows(reference));
  }, 90_000); // some 3,000 transactions one event at a time: longer than 30 s on two busy cores
});
