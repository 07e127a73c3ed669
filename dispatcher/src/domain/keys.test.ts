import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { legacyRecordKey, recordKey } from './keys.js';

/** Reads an encoded key back; that it exists is what makes recordKey injective. */
function decode(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '=') {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(key.charCodeAt(i));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

const ID = '3f0e8a52-5d7c-4b8a-9a51-2f3c4d5e6f70';

describe('recordKey', () => {
  it.each([
    [`${ID}:slack`, `${ID}=3Aslack`],
    [`${ID}:voice`, `${ID}=3Avoice`],
    ['a:b', 'a=3Ab'],
    ['a.b', 'a=2Eb'],
    ['a=3Ab', 'a=3D3Ab'],
    ['a/b c', 'a=2Fb=20c'],
    ['é', '=C3=A9'],
    ['😀', '=F0=9F=98=80'],
    ['snake_case-key', 'snake_case-key'],
  ])('%j → %j', (key, encoded) => {
    expect(recordKey(key)).toBe(encoded);
    expect(decode(encoded)).toBe(key);
  });

  it('a lone surrogate and the replacement character stay apart', () => {
    expect(recordKey('\ud800')).toBe('=ED=A0=80');
    expect(recordKey('\ufffd')).toBe('=EF=BF=BD');
  });

  it('keys that collided under the old encoding get records of their own', () => {
    expect(legacyRecordKey('a:b')).toBe(legacyRecordKey('a.b'));
    expect(recordKey('a:b')).not.toBe(recordKey('a.b'));
  });

  it('is a valid KV key, one subject token, and reads back to the key it came from', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), (key) => {
        const encoded = recordKey(key);
        expect(encoded).toMatch(/^[A-Za-z0-9_=-]+$/);
        expect(decode(encoded)).toBe(key);
      }),
    );
  });

  it('the old key of a delivery is two tokens, the new one a single token', () => {
    expect(legacyRecordKey(`${ID}:sms`)).toBe(`${ID}.sms`);
    expect(recordKey(`${ID}:sms`).split('.')).toHaveLength(1);
  });
});
