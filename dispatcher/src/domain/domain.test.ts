import { describe, expect, it } from 'vitest';
import type { ContactMethod } from '@oncall/contracts';
import { bundle } from './bundle.js';
import { retryDelay, take } from './limits.js';
import { fallbackOf, maskAddress, planDeliveries, type NotificationRequested } from './plan.js';

const ID = '3f0e8a52-5d7c-4b8a-9a51-2f3c4d5e6f70';
const notification = (over: Partial<NotificationRequested> = {}): NotificationRequested => ({
  alertId: '7f1c2a4e-1111-4c6b-9d7e-0a1b2c3d4e5f',
  serviceId: 'api',
  notificationId: ID,
  kind: 'page',
  step: 0,
  round: 0,
  page: 0,
  recipient: { type: 'user', userId: 'alice', via: 'direct' },
  contacts: [],
  userName: 'Alice',
  templateId: null,
  templateVersion: null,
  priority: 'critical',
  alert: {
    alertId: '7f1c2a4e-1111-4c6b-9d7e-0a1b2c3d4e5f',
    serviceId: 'api',
    serviceName: 'API',
    fingerprint: 'f',
    status: 'triggered',
    summary: 'API down',
    details: '',
    severity: 'critical',
    labels: {},
    annotations: {},
    links: [],
    source: 'alertmanager',
    triggeredAt: '2026-11-23T10:00:00.000Z',
  },
  escalation: { policyId: 'p', policyName: 'P', step: 0, totalSteps: 2 },
  ...over,
});
const c = (channel: ContactMethod['channel'], address: string): ContactMethod => ({ channel, address });

describe('planDeliveries', () => {
  it.each<[string, Partial<NotificationRequested>, string[]]>([
    ['a Slack channel recipient', { recipient: { type: 'slack', channel: '#noc' }, contacts: [] }, ['slack #noc']],
    ['a webhook recipient', { recipient: { type: 'webhook', url: 'https://hooks.example/x' } }, ['webhook https://hooks.example/x']],
    [
      'a user with sms and voice: sms, voice only as its fallback',
      { contacts: [c('sms', '+1555'), c('voice', '+1555'), c('email', 'a@x')] },
      ['sms +1555 → voice', 'email a@x'],
    ],
    ['a user with voice only: a call', { contacts: [c('voice', '+1666')] }, ['voice +1666']],
    ['a resolution notice: never a call', { kind: 'resolved', contacts: [c('voice', '+1666'), c('slack', 'U1')] }, ['slack U1']],
    ['a user without contact methods: nothing', { contacts: [] }, []],
    ['the same channel twice: once', { contacts: [c('email', 'a@x'), c('email', 'b@x')] }, ['email a@x']],
  ])('%s', (_, over, expected) => {
    const plan = planDeliveries(notification(over));
    expect(plan.map((d) => `${d.channel} ${d.address}${d.fallback ? ` → ${d.fallback.channel}` : ''}`)).toStrictEqual(expected);
    for (const d of plan) expect(d.idempotencyKey).toBe(`${ID}:${d.channel}`);
  });

  it('the fallback is a delivery of its own with its own idempotency key', () => {
    const n = notification({ contacts: [c('sms', '+1555'), c('voice', '+1777')] });
    expect(fallbackOf(n, planDeliveries(n)[0]!)).toStrictEqual({
      channel: 'voice',
      address: '+1777',
      idempotencyKey: `${ID}:voice`,
      fallback: null,
    });
  });

  it.each<[ContactMethod['channel'], string, string]>([
    ['sms', '+15555550101', '••••••••0101'],
    ['email', 'alice@example.com', 'a•••@example.com'],
    ['webhook', 'https://hooks.example.com/secret-path?token=x', 'hooks.example.com'],
    ['slack', 'U0ALICE', 'U0ALICE'],
  ])('masks %s addresses', (channel, address, masked) => {
    expect(maskAddress(channel, address)).toBe(masked);
  });
});

describe('token bucket', () => {
  const cfg = { capacity: 2, perMinute: 6 };
  it('allows the burst, then one message per refill interval', () => {
    let r = take(undefined, cfg, 0);
    expect(r.ok).toBe(true);
    r = take(r.bucket, cfg, 0);
    expect(r.ok).toBe(true);
    r = take(r.bucket, cfg, 1000);
    expect(r).toMatchObject({ ok: false, nextTokenAt: 10_000 });
    r = take(r.bucket, cfg, 10_000);
    expect(r.ok).toBe(true);
  });
});

describe('retryDelay', () => {
  it.each([
    [1, 0, null, 500],
    [1, 0.999, null, 1000],
    [3, 0.5, null, 3000],
    [20, 0.5, null, 45_000],
    [1, 0, 30_000, 30_000],
  ])('attempt %i, random %d, retry-after %s → %i ms', (attempt, random, retryAfterMs, expected) => {
    expect(retryDelay(attempt, random, { baseMs: 1000, maxMs: 60_000, retryAfterMs })).toBe(expected);
  });
});

describe('bundle', () => {
  it('counts the alerts, lists their summaries, takes the worst severity', () => {
    const items = [
      notification({ alert: { ...notification().alert, summary: 'disk 91%', severity: 'warning' } }),
      notification({ alert: { ...notification().alert, summary: 'API down', severity: 'critical' } }),
      notification({ alert: { ...notification().alert, summary: 'cpu 95%', severity: 'error' } }),
    ];
    const b = bundle(items);
    expect(b.alert).toMatchObject({
      summary: '3 new alerts on API',
      severity: 'critical',
      details: '• [warning] disk 91%\n• [critical] API down\n• [error] cpu 95%',
    });
    expect(b.recipient).toStrictEqual(items[0]!.recipient);
  });

  it('one notification is itself', () => {
    const n = notification();
    expect(bundle([n])).toBe(n);
  });
});
