import { describe, expect, it } from 'vitest';
import { isUnstorable, mayHoldUnstorableText, storableText, toStorable, unstorablePath } from './text.js';

describe('text PostgreSQL cannot store', () => {
  it.each([
    ['plain', 'disk full', false, 'disk full'],
    ['NUL', 'a\u0000b', true, 'a\ufffdb'],
    ['two NULs', '\u0000\u0000', true, '\ufffd\ufffd'],
    ['lone high surrogate', 'x\ud800', true, 'x\ufffd'],
    ['lone low surrogate', '\udc00y', true, '\ufffdy'],
    ['surrogates in the wrong order', '\ude00\ud83d', true, '\ufffd\ufffd'],
    ['a valid pair (emoji)', '\ud83d\ude00', false, '\ud83d\ude00'],
    ['U+FFFD itself', '\ufffd', false, '\ufffd'],
  ])('%s', (_name, input, unstorable, storable) => {
    expect(isUnstorable(input)).toBe(unstorable);
    expect(storableText(input)).toBe(storable);
  });

  it('scans JSON text for the escapes that can produce it', () => {
    expect(mayHoldUnstorableText(JSON.stringify({ a: 'plain', b: 'é' }))).toBe(false);
    expect(mayHoldUnstorableText('{"a":"\\u0000"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\uD800"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\udfff"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\u00e9"}')).toBe(false);
  });

  it('replaces in every string and key of a value, and counts them', () => {
    const input = { s: 'a\u0000', list: ['ok', 'b\ud800'], nested: { 'k\u0000': 'v' }, n: 3, t: true, z: null };
    const { value, replaced } = toStorable(input);
    expect(value).toEqual({ s: 'a\ufffd', list: ['ok', 'b\ufffd'], nested: { 'k\ufffd': 'v' }, n: 3, t: true, z: null });
    expect(replaced).toBe(3);
    expect(toStorable({ a: 'fine' })).toEqual({ value: { a: 'fine' }, replaced: 0 });
  });

  it('names the path of the first unstorable string or key', () => {
    expect(unstorablePath({ a: ['x', { b: 'y\u0000' }] })).toBe('a.1.b');
    expect(unstorablePath({ labels: { 'k\ud800': 'v' } })).toBe('labels.k\ud800');
    expect(unstorablePath('\u0000')).toBe('(root)');
    expect(unstorablePath({ a: 'fine', b: [1, 2] })).toBeNull();
  });
});
