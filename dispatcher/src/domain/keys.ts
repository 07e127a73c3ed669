/**
 * KV keys of delivery records. A KV key allows letters, digits and `-/_=.`, and `.` separates
 * subject tokens, so an idempotency key needs an encoding, and it must be injective: two
 * deliveries must never share a record.
 *
 * `recordKey` keeps letters, digits, `-` and `_`, and writes every other character as `=` and
 * the upper-case hex of each of its UTF-8 bytes (`<uuid>:slack` → `<uuid>=3Aslack`; a lone
 * surrogate as the three bytes UTF-8 would give its code point). `=` is itself escaped, so the
 * text can be read back one way only: different keys, different records. Pure.
 */
const KEPT = /^[A-Za-z0-9_-]$/;

export function recordKey(idempotencyKey: string): string {
  let out = '';
  for (const ch of idempotencyKey) {
    if (KEPT.test(ch)) out += ch;
    else for (const byte of utf8(ch.codePointAt(0)!)) out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function utf8(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/**
 * The key releases before this encoding used: every character outside `[A-Za-z0-9_=/-]` became
 * `.`, so `a:b` and `a.b` shared a record. Read only to honour records written by those
 * releases (they expire with the bucket's TTL); never written.
 */
export function legacyRecordKey(idempotencyKey: string): string {
  return idempotencyKey.replace(/[^A-Za-z0-9_=/-]/g, '.');
}
