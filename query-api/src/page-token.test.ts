import { describe, expect, it } from 'vitest';
import { InvalidArgument } from './errors.js';
import { decodePageToken, encodePageToken, filterDigest, idPage } from './page-token.js';

const any = () => true;

/** The InvalidArgument `run` throws, as field: description. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as InvalidArgument).message;
  }
  throw new Error('expected InvalidArgument');
}

describe('page tokens', () => {
  it.each<[string, string[]]>([
    ['a time and an id', ['2026-11-23T10:00:00.123456+00:00', '0b49c0f2-5a7e-4e8c-abd4-bbea11dfa803']],
    ['one id', ['primary']],
    ['text that needs escaping in JSON', ['a"b\\c', 'é ü 🚨']],
  ])('round-trip %s', (_, key) => {
    const token = encodePageToken(key, 'digest');
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, 'digest', any)).toStrictEqual(key);
  });

  it('the empty token is the first page', () => {
    expect(decodePageToken('', 'digest', any)).toBeNull();
  });

  it.each<[string, () => string, string]>([
    [
      'other filters',
      () => encodePageToken(['ok'], 'other'),
      'page_token: was given for other filters: send the same filters as the first page',
    ],
    ['a key the list refuses', () => encodePageToken(['k'], 'digest'), 'page_token: is not a token this server gave out'],
    ['not base64url', () => '%%%', 'page_token: is not a token this server gave out'],
    ['base64url of no JSON', () => Buffer.from('hello').toString('base64url'), 'page_token: is not a token this server gave out'],
    ['an empty key', () => Buffer.from('{"k":[],"f":"digest"}').toString('base64url'), 'page_token: is not a token this server gave out'],
    [
      'a key that is no list of strings',
      () => Buffer.from('{"k":[1],"f":"digest"}').toString('base64url'),
      'page_token: is not a token this server gave out',
    ],
    ['a very long token', () => 'A'.repeat(1025), 'page_token: is not a token this server gave out'],
  ])('refuses %s', (_, token, message) => {
    expect(refusal(() => decodePageToken(token(), 'digest', (k) => k[0] !== 'k'))).toBe(message);
  });

  it('digests JSON of the filters: equal filters, equal digests', () => {
    expect(filterDigest({ a: [1, 2] })).toBe(filterDigest({ a: [1, 2] }));
    expect(filterDigest({ a: [1, 2] })).not.toBe(filterDigest({ a: [2, 1] }));
  });
});

describe('idPage', () => {
  it('defaults the size and starts after the id of a token it gave', () => {
    const first = idPage('schedules', { pageSize: 0, pageToken: '' });
    expect(first).toMatchObject({ pageSize: 1000, afterId: null });
    expect(idPage('schedules', { pageSize: 2, pageToken: first.token('primary') })).toMatchObject({ pageSize: 2, afterId: 'primary' });
  });

  it.each<[string, { pageSize: number; pageToken: string }, string]>([
    ['a negative size', { pageSize: -1, pageToken: '' }, 'page_size: must be between 0 and 10000'],
    ['a size over 10000', { pageSize: 10_001, pageToken: '' }, 'page_size: must be between 0 and 10000'],
    [
      'a token of another list',
      { pageSize: 0, pageToken: idPage('templates', { pageSize: 0, pageToken: '' }).token('ops') },
      'page_token: was given for other filters: send the same filters as the first page',
    ],
    [
      'a token with an empty id',
      { pageSize: 0, pageToken: idPage('schedules', { pageSize: 0, pageToken: '' }).token('') },
      'page_token: is not a token this server gave out',
    ],
  ])('refuses %s', (_, req, message) => {
    expect(refusal(() => idPage('schedules', req))).toBe(message);
  });
});
