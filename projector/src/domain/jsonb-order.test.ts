import { describe, expect, it } from 'vitest';
import { jsonbKeyOrder, jsonbOrdered } from './jsonb-order.js';

describe('jsonbOrdered', () => {
  it.each<[string, unknown, string]>([
    [
      'shorter keys first, then by bytes',
      { summary: 's', alertId: 'a', by: 'b', note: 'n' },
      '{"by":"b","note":"n","alertId":"a","summary":"s"}',
    ],
    [
      'nested objects and objects in arrays',
      { z: { bb: 1, a: 2 }, links: [{ text: 't', href: 'h' }] },
      '{"z":{"a":2,"bb":1},"links":[{"href":"h","text":"t"}]}',
    ],
    ['scalars, null and empty containers as they are', [null, 1, 'x', true, {}, []], '[null,1,"x",true,{},[]]'],
    ['undefined members dropped as JSON.stringify drops them', { b: undefined, a: 1 }, '{"a":1}'],
  ])('%s', (_name, value, json) => {
    expect(JSON.stringify(jsonbOrdered(value))).toBe(json);
    // the same JSON value
    expect(JSON.parse(JSON.stringify(jsonbOrdered(value)))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('returns values already in order as they are, and never changes its input', () => {
    const inOrder = { a: 1, bb: [{ c: 2 }] };
    expect(jsonbOrdered(inOrder)).toBe(inOrder);
    const input = { bb: 1, a: { d: 1, c: 2 } };
    const copy = structuredClone(input);
    jsonbOrdered(input);
    expect(input).toEqual(copy);
    expect(Object.keys(input)).toEqual(['bb', 'a']);
  });

  it('orders keys as jsonb does: length first, then bytes', () => {
    expect(['severity', 'job', 'alertname', 'pop', 'site', 'team'].sort(jsonbKeyOrder)).toEqual([
      'job',
      'pop',
      'site',
      'team',
      'severity',
      'alertname',
    ]);
  });
});
