import { describe, expect, it } from 'vitest';
import { failureKind } from './failures.js';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
const wrapped = (cause: unknown, name = 'SlonikError') => Object.assign(new Error('query failed', { cause }), { name });

describe('which failures pass by themselves', () => {
  it.each([
    ['NUL in text (22021 character not in repertoire)', pgError('22021'), 'rejected'],
    ['unsupported Unicode escape in jsonb (22P05)', pgError('22P05'), 'rejected'],
    ['a unique index (23505)', wrapped(pgError('23505'), 'UniqueIntegrityConstraintViolationError'), 'rejected'],
    ['undefined column: a bug (42703)', pgError('42703'), 'rejected'],
    ['admin shutdown (57P01), wrapped', wrapped(pgError('57P01')), 'transient'],
    ['cannot connect now (57P03)', pgError('57P03'), 'transient'],
    ['connection failure (08006)', pgError('08006'), 'transient'],
    ['deadlock (40P01)', pgError('40P01'), 'transient'],
    ['disk full (53100)', pgError('53100'), 'transient'],
    ['lock not available (55P03)', pgError('55P03'), 'transient'],
    ['socket refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient'],
    ["slonik's ConnectionError", Object.assign(new Error('x'), { name: 'ConnectionError' }), 'transient'],
    ['node-postgres: connection terminated', new Error('Connection terminated unexpectedly'), 'transient'],
    ['a TypeError from an event of the wrong shape', new TypeError("Cannot read properties of undefined (reading 'alertId')"), 'rejected'],
    ['not an Error at all', 'boom', 'rejected'],
  ])('%s → %s', (_name, err, kind) => {
    expect(failureKind(err)).toBe(kind);
  });
});
