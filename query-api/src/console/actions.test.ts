import { describe, expect, it } from 'vitest';
import type { ActionRequest } from '@oncall/contracts';
import { actionsFor, alertIdOf, commandOf } from './actions.js';
import { HttpError } from './http-errors.js';

const ID = '5b1f8a52-3c1e-4f0a-9a57-1f0c2d9e7a41';

describe('console actions', () => {
  it.each<[ActionRequest, string, number | null]>([
    [{ action: 'acknowledge' }, 'acknowledge', null],
    [{ action: 'unacknowledge', note: 'not mine' }, 'unacknowledge', null],
    [{ action: 'resolve' }, 'resolve', null],
    [{ action: 'escalate' }, 'escalate', null],
    [{ action: 'snooze', minutes: 30 }, 'snooze', 1800],
  ])('%j is the command %s, via console, as the session user', (req, command, snoozeSeconds) => {
    expect(commandOf(ID, req, 'alice')).toStrictEqual({
      alertId: ID,
      command,
      userId: 'alice',
      note: req.note ?? '',
      requestId: '',
      snoozeSeconds,
      via: 'console',
    });
  });

  it.each([
    [{ action: 'snooze' as const }, 'minutes'],
    [{ action: 'resolve' as const, minutes: 5 }, 'minutes'],
  ])('refuses %j naming %s', (req, field) => {
    expect(() => commandOf(ID, req, 'alice')).toThrow(expect.objectContaining({ status: 400, field }) as HttpError);
  });

  it.each([
    ['triggered', true, ['acknowledge', 'resolve', 'escalate', 'snooze']],
    ['acknowledged', true, ['unacknowledge', 'resolve', 'escalate', 'snooze']],
    ['snoozed', true, ['acknowledge', 'unacknowledge', 'resolve', 'escalate', 'snooze']],
    ['resolved', true, []],
    ['triggered', false, []],
  ] as const)('a %s alert offers (may act: %s) %j', (status, may, actions) => {
    expect(actionsFor(status, may)).toStrictEqual(actions);
  });

  it.each([
    [ID, ID],
    [ID.toUpperCase(), ID],
    ['not-a-uuid', null],
    [`${ID}x`, null],
    ['', null],
  ])('alert id %j', (text, id) => {
    if (id === null) expect(() => alertIdOf(text)).toThrow(HttpError);
    else expect(alertIdOf(text)).toBe(id);
  });
});
