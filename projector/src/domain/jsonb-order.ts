/**
 * PostgreSQL's jsonb stores object keys sorted: shorter keys first, keys of one length by their
 * bytes. Parsing JSON into jsonb sorts every object's keys with a generic sort that swaps whole
 * key/value pairs, which for alert event data is about a quarter of the parse; keys that arrive
 * in that order already are only compared. `jsonbOrdered` returns a value that serializes
 * (JSON.stringify) with its objects' keys in jsonb order.
 *
 * Only the parse's work changes, never the jsonb value: key order is not part of it, and a key
 * this order gets wrong (non-ASCII keys are compared by UTF-16 code units and length, not UTF-8
 * bytes; JavaScript puts integer-like keys first whatever the insertion order) is sorted by
 * PostgreSQL as before. Objects and arrays already in order are returned as they are.
 */
export function jsonbOrdered<T>(value: T): T {
  return ordered(value) as T;
}

/** jsonb's key order for ASCII keys: length, then bytes. */
export function jsonbKeyOrder(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function ordered(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const o = ordered(item);
      if (o !== item) (copy ??= value.slice())[i] = o;
    }
    return copy ?? value;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  let inOrder = true;
  for (let i = 1; i < keys.length && inOrder; i++) inOrder = jsonbKeyOrder(keys[i - 1]!, keys[i]!) < 0;
  if (inOrder) {
    let copy: Record<string, unknown> | undefined;
    for (const k of keys) {
      const o = ordered(object[k]);
      if (o !== object[k]) (copy ??= { ...object })[k] = o;
    }
    return copy ?? value;
  }
  keys.sort(jsonbKeyOrder);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = ordered(object[k]);
  return out;
}
