import { describe, expect, it } from 'vitest';
import { traceUrlOf } from './trace-url.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('trace links', () => {
  it.each([
    ['http://jaeger:16686/trace/{traceId}', TRACE, `http://jaeger:16686/trace/${TRACE}`],
    ['http://tempo/explore?q={traceId}&again={traceId}', TRACE, `http://tempo/explore?q=${TRACE}&again=${TRACE}`],
    [null, TRACE, null],
    ['http://jaeger:16686/trace/{traceId}', null, null],
    ['http://jaeger:16686/trace/{traceId}', '0'.repeat(32), null],
    ['http://jaeger:16686/trace/{traceId}', 'XYZ', null],
    ['http://jaeger:16686/trace/{traceId}', TRACE.toUpperCase(), null],
  ])('%s with %s', (template, traceId, url) => {
    expect(traceUrlOf(template, traceId)).toBe(url);
  });
});
