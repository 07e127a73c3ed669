/**
 * Text PostgreSQL cannot store: `text` and `jsonb` refuse U+0000, and `jsonb` refuses lone
 * surrogates (half of a UTF-16 pair), though both are legal in JSON. Inputs decide at the edge:
 * alert payloads are stored with each such character replaced by U+FFFD (an alert is never lost
 * for one byte), configuration and API requests are refused with the field named.
 */

/** JSON escapes that can produce unstorable text; a body without any needs no walk. */
const RISKY_ESCAPE = /\\u(0000|[dD][89a-fA-F])/;

/** Whether `s` holds a character PostgreSQL refuses (lone surrogates only; pairs are fine). */
export function isUnstorable(s: string): boolean {
  return s.includes('\u0000') || !s.isWellFormed();
}

/** `s` with every NUL and lone surrogate replaced by U+FFFD. */
export function storableText(s: string): string {
  return isUnstorable(s) ? s.toWellFormed().replaceAll('\u0000', '\ufffd') : s;
}

/** Whether JSON text may decode to unstorable strings (a cheap scan before any walk). */
export function mayHoldUnstorableText(json: string): boolean {
  return RISKY_ESCAPE.test(json);
}

/**
 * A copy of a parsed JSON value with every string (object keys included) made storable, and
 * how many strings changed. Values without such text come back as they are.
 */
export function toStorable<T>(value: T): { value: T; replaced: number } {
  let replaced = 0;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!isUnstorable(v)) return v;
      replaced++;
      return storableText(v);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[walk(k) as string] = walk(inner);
      return out;
    }
    return v;
  };
  const out = walk(value) as T;
  return { value: out, replaced };
}

/** The paths of every unstorable string or key in a value (a key's path ends with the key). */
export function unstorablePaths(value: unknown, path: readonly (string | number)[] = []): Array<Array<string | number>> {
  if (typeof value === 'string') return isUnstorable(value) ? [[...path]] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => unstorablePaths(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [...(isUnstorable(k) ? [[...path, k]] : []), ...unstorablePaths(v, [...path, k])]);
  }
  return [];
}

/** The path (`a.b.3.c`) of the first unstorable string or key in a value, or null. */
export function unstorablePath(value: unknown): string | null {
  const first = unstorablePaths(value)[0];
  return first === undefined ? null : first.length ? first.join('.') : '(root)';
}
