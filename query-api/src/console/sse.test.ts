import { describe, expect, it } from 'vitest';
import { nextSendAt, sseEvent } from './sse.js';

describe('server-sent events', () => {
  it('frames an event with its id and one data line', () => {
    expect(sseEvent('delta', '4.1', '{"a":1}')).toBe('event: delta\nid: 4.1\ndata: {"a":1}\n\n');
    expect(sseEvent('reset', null, null)).toBe('event: reset\ndata: \n\n');
  });

  it.each([
    [null, 1000, 1000],
    [500, 1000, 1000],
    [750, 1000, 1000],
    [900, 1000, 1150],
    [1000, 1000, 1250],
  ])('last sent at %s, now %s: next at %s (250 ms apart)', (last, now, at) => {
    expect(nextSendAt(last, now, 250)).toBe(at);
  });
});
