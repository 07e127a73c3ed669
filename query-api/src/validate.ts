import { InvalidArgument } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID field; `optional` lets it be empty (returned as null). */
export function uuid(field: string, value: string, optional?: 'optional'): string | null {
  if (value === '' && optional) return null;
  if (!UUID.test(value)) throw new InvalidArgument(field, value === '' ? 'is required' : 'must be a UUID');
  return value.toLowerCase();
}

export function requiredUuid(field: string, value: string): string {
  return uuid(field, value) as string;
}

/** A non-empty string of at most `max` characters. */
export function required(field: string, value: string, max = 256): string {
  if (value.trim() === '') throw new InvalidArgument(field, 'is required');
  return bounded(field, value, max);
}

/** A string of at most `max` characters (may be empty). */
export function bounded(field: string, value: string, max: number): string {
  if (value.length > max) throw new InvalidArgument(field, `must be at most ${max} characters`);
  return value;
}
