import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidArgument } from './errors.js';

/**
 * Page tokens of the list RPCs: an opaque keyset cursor, base64url of JSON holding the last row's
 * sort key (`k`) and a digest of the filters the page was made for (`f`): a token is only good for
 * the request it continues. Decoding checks both; anything else is INVALID_ARGUMENT `page_token`.
 */
const Token = z.object({ k: z.array(z.string().max(256)).min(1).max(4), f: z.string().max(64) });

/** The trailing metadata key a server-streamed list sends the next page's token in. */
export const NEXT_PAGE_TOKEN = 'x-next-page-token';

/** A digest of a request's normalised filters (lists sorted and deduplicated by the caller). */
export function filterDigest(filters: unknown): string {
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 22);
}

export function encodePageToken(key: readonly string[], digest: string): string {
  return Buffer.from(JSON.stringify({ k: key, f: digest })).toString('base64url');
}

const NOT_OURS = 'is not a token this server gave out';

/** The sort key a token holds; null for the empty token (the first page). `check` validates each part. */
export function decodePageToken(token: string, digest: string, check: (key: readonly string[]) => boolean): string[] | null {
  if (token === '') return null;
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw new InvalidArgument('page_token', NOT_OURS);
  let parsed: z.infer<typeof Token>;
  try {
    parsed = Token.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidArgument('page_token', NOT_OURS);
  }
  if (!check(parsed.k)) throw new InvalidArgument('page_token', NOT_OURS);
  if (parsed.f !== digest) throw new InvalidArgument('page_token', 'was given for other filters: send the same filters as the first page');
  return parsed.k;
}

/** A page size: 0 = `fallback`; throws InvalidArgument naming the field outside 0..max. */
export function pageSize(field: string, value: number, fallback: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new InvalidArgument(field, `must be between 0 and ${max}`);
  return value || fallback;
}

export const DEFAULT_ID_PAGE_SIZE = 1000;
export const MAX_ID_PAGE_SIZE = 10_000;

/** A page of a list ordered by id (schedules, templates, escalation policies): its size and the id it starts after. */
export type IdPage = { pageSize: number; afterId: string | null; token: (lastId: string) => string };

/** Validates `page_size` and `page_token` of a list by id; `list` names it, so one list's token is refused by another. */
export function idPage(list: string, req: { pageSize: number; pageToken: string }): IdPage {
  const size = pageSize('page_size', req.pageSize, DEFAULT_ID_PAGE_SIZE, MAX_ID_PAGE_SIZE);
  const digest = filterDigest({ list });
  const key = decodePageToken(req.pageToken, digest, (k) => k.length === 1 && k[0] !== '');
  return { pageSize: size, afterId: key && key[0]!, token: (lastId) => encodePageToken([lastId], digest) };
}
