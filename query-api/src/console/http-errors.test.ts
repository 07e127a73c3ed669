import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FailedPrecondition, InvalidArgument, NotFound, Unavailable } from '../errors.js';
import { HttpError, parsed, toHttpError } from './http-errors.js';

const Body = z
  .object({ action: z.enum(['a', 'b']), minutes: z.number().int().optional(), nested: z.object({ x: z.string() }).optional() })
  .strict();

describe('console errors', () => {
  it.each([
    [{ action: 'c' }, 'action'],
    [{ action: 'a', minutes: 'ten' }, 'minutes'],
    [{ action: 'a', extra: 1 }, 'extra'],
    [{ action: 'a', nested: { x: 1 } }, 'nested.x'],
    [{}, 'action'],
    [null, 'action'],
  ])('%j is a 400 naming %s', (value, field) => {
    expect(() => parsed(Body, value)).toThrow(expect.objectContaining({ status: 400, field }) as HttpError);
  });

  it.each([
    [new InvalidArgument('start_time', 'is not a valid instant'), 400, 'start'],
    [new InvalidArgument('user_id', 'user x does not exist'), 400, 'userId'],
    [new NotFound('schedule x not found'), 404, undefined],
    [new FailedPrecondition('alert is resolved'), 409, undefined],
    [new Unavailable('no NATS'), 503, undefined],
    [Object.assign(new Error('bad'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), 400, undefined],
    [Object.assign(new Error('big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 413, undefined],
    [Object.assign(new Error('type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 415, undefined],
    [new Error('secret detail'), 500, undefined],
  ])('%s is HTTP %s', (err, status, field) => {
    const e = toHttpError(err, { start_time: 'start', user_id: 'userId' });
    expect([e.status, e.field]).toStrictEqual([status, field]);
    if (status === 500) expect(e.body()).toStrictEqual({ error: 'internal error' });
  });

  it('keeps extra fields beside the error', () => {
    expect(new HttpError(409, 'resolved', undefined, { outcome: 'already_resolved' }).body()).toStrictEqual({
      outcome: 'already_resolved',
      error: 'resolved',
    });
  });
});
