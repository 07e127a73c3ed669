import { describe, expect, it } from 'vitest';
import { hopFrom, hopFromHttp, hopFromMessage, inHop, NO_HOP, startTracing, traceIdOf, traceOf, tracingOn, type Hop } from './tracing.js';

describe('traceIdOf', () => {
  it.each([
    ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '0af7651916cd43dd8448eb211c80319c'],
    [' 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00 ', '0af7651916cd43dd8448eb211c80319c'],
    ['00-00000000000000000000000000000000-b7ad6b7169203331-01', null], // the all-zero id is invalid
    ['00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', null], // W3C: lower case only
    ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-01', null],
    ['not-a-traceparent', null],
    ['', null],
    [undefined, null],
  ])('%j → %j', (value, expected) => {
    expect(traceIdOf(value)).toBe(expected);
  });
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  const throwingHeaders = {
    get headers(): { get(key: string): string } {
      throw new Error('the headers were read');
    },
  };

  it('starts nothing, and its helpers neither read headers nor make spans', async () => {
    expect(await startTracing('test', {})).toBe(false);
    expect(tracingOn()).toBe(false);
    expect(traceOf(throwingHeaders)).toBeUndefined();
    expect(hopFromMessage('decide', throwingHeaders)).toBe(NO_HOP);
    expect(hopFrom('escalate', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).toBe(NO_HOP);
    expect(hopFromHttp('ingest webhook', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).toBe(NO_HOP);
    expect(NO_HOP.headers).toBeUndefined();
  });
});

describe('inHop', () => {
  const recording = () => {
    const calls: string[] = [];
    const hop: Hop = {
      headers: undefined,
      set: (k, v) => calls.push(`set ${k}=${v}`),
      fail: () => calls.push('fail'),
      end: () => calls.push('end'),
    };
    return { hop, calls };
  };

  it('sets what the result says, then ends the span, and returns the value', async () => {
    const { hop, calls } = recording();
    expect(
      await inHop(
        hop,
        async () => 'sent',
        (v) => hop.set('outcome', v),
      ),
    ).toBe('sent');
    expect(calls).toStrictEqual(['set outcome=sent', 'end']);
  });

  it('fails the span and rethrows when the work throws', async () => {
    const { hop, calls } = recording();
    const boom = new Error('boom');
    await expect(
      inHop(
        hop,
        () => Promise.reject(boom),
        () => hop.set('never', 1),
      ),
    ).rejects.toBe(boom);
    expect(calls).toStrictEqual(['fail']);
  });
});
