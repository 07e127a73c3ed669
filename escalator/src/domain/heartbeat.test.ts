import { describe, expect, it } from 'vitest';
import { dueOf, formatInterval, onBeat, onTick, unsent, type Monitor, type MonitorState } from './heartbeat.js';

const M: Monitor = { monitorId: 'canary', serviceId: 'demo', name: 'Canary', intervalSeconds: 300 };
const T0 = Date.parse('2026-11-23T10:00:00Z');
const fresh: MonitorState = { lastBeat: null, since: T0, expired: false };

describe('heartbeat expiry', () => {
  it.each<[string, MonitorState, number, 'firing' | null, boolean]>([
    ['never beat, before the interval', fresh, T0 + 299_999, null, false],
    ['never beat, at the interval', fresh, T0 + 300_000, 'firing', true],
    ['beat a minute ago', { ...fresh, lastBeat: T0 + 600_000 }, T0 + 660_000, null, false],
    ['last beat 5 min ago', { ...fresh, lastBeat: T0 + 600_000 }, T0 + 900_000, 'firing', true],
    ['already expired: fires once only', { ...fresh, expired: true }, T0 + 9_000_000, null, true],
  ])('tick: %s', (_, state, now, status, expired) => {
    const out = onTick(M, state, now);
    expect(out.signal?.status ?? null).toBe(status);
    expect(out.state.expired).toBe(expired);
  });

  it('the firing signal starts at the due time and names the monitor; a beat resolves it', () => {
    const fired = onTick(M, fresh, T0 + 400_000);
    expect(fired.signal).toMatchObject({
      fingerprint: 'heartbeat:canary',
      severity: 'critical',
      startsAt: new Date(T0 + 300_000).toISOString(),
      labels: { alertname: 'HeartbeatMissed', monitor: 'canary' },
      summary: 'Heartbeat Canary missed: no beat for 5m',
    });
    const beat = onBeat(M, fired.state, T0 + 500_000);
    expect(beat.signal).toMatchObject({ status: 'resolved', endsAt: new Date(T0 + 500_000).toISOString() });
    expect(beat.state).toStrictEqual({ lastBeat: T0 + 500_000, since: T0, expired: false });
    expect(dueOf(M, beat.state)).toBe(T0 + 800_000);
  });

  it.each<[string, (s: MonitorState) => ReturnType<typeof onTick>, MonitorState, 'firing' | 'resolved']>([
    ['an expiry', (s) => onTick(M, s, T0 + 400_000), fresh, 'firing'],
    ['a recovery', (s) => onBeat(M, s, T0 + 500_000), { ...fresh, expired: true }, 'resolved'],
  ])('%s whose signal could not be sent is sent again by the next tick, with the same content', (_, step, before, status) => {
    const out = step(before);
    expect(out.signal?.status).toBe(status);
    const kept = unsent(before, out);
    expect(kept.expired).toBe(before.expired);
    const retry = onTick(M, kept, T0 + 501_000);
    expect(retry.signal).toStrictEqual(out.signal);
    expect(retry.state).toStrictEqual(out.state);
    // Stored this time: nothing more to send.
    expect(onTick(M, retry.state, T0 + 502_000).signal).toBeNull();
  });

  it('a beat on a healthy monitor signals nothing, and an older beat never moves the due time back', () => {
    const s = { ...fresh, lastBeat: T0 + 100_000 };
    expect(onBeat(M, s, T0 + 200_000).signal).toBeNull();
    expect(onBeat(M, s, T0 + 50_000).state.lastBeat).toBe(T0 + 100_000);
  });

  it.each([
    [30, '30s'],
    [300, '5m'],
    [7200, '2h'],
    [86400, '1d'],
    [90, '90s'],
  ])('formats %i s as %s', (s, text) => {
    expect(formatInterval(s)).toBe(text);
  });
});
