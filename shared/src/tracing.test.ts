import { describe, expect, it } from 'vitest';
import { hopFrom, hopFromHttp, hopFromMessage, NO_HOP, startTracing, traceIdOf, traceOf, tracingOn } from './tracing.js';

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
