import { describe, expect, it } from 'vitest';
import { afterForeignEvent, commandKey, expectedOutcome, type AlertStatusWord, type CommandKind, type Outcome } from './commands.js';

describe('expectedOutcome', () => {
  it.each<[CommandKind, AlertStatusWord, string[], Outcome]>([
    ['acknowledge', 'triggered', [], 'change'],
    ['acknowledge', 'snoozed', ['alice'], 'change'],
    ['acknowledge', 'acknowledged', ['alice'], 'unchanged'],
    ['acknowledge', 'acknowledged', ['bob'], 'change'],
    ['unacknowledge', 'triggered', [], 'unchanged'],
    ['unacknowledge', 'acknowledged', ['bob'], 'change'],
    ['unacknowledge', 'snoozed', [], 'change'],
    ['resolve', 'acknowledged', ['alice'], 'change'],
    ['snooze', 'snoozed', [], 'change'],
    ['escalate', 'triggered', [], 'change'],
    ['acknowledge', 'resolved', [], 'rejected'],
    ['resolve', 'resolved', [], 'rejected'],
    ['escalate', 'resolved', [], 'rejected'],
  ])('%s of a %s alert acknowledged by %j by alice → %s', (command, status, acked, outcome) => {
    expect(expectedOutcome(command, 'alice', { status, acknowledgedSinceOpen: acked })).toBe(outcome);
  });
});

describe('afterForeignEvent', () => {
  it.each<[CommandKind, string, string | null, Outcome | 'pending']>([
    ['acknowledge', 'AlertResolved', null, 'rejected'],
    ['escalate', 'AlertResolved', 'bob', 'rejected'],
    ['snooze', 'AlertResolved', null, 'rejected'],
    ['resolve', 'AlertResolved', null, 'unchanged'],
    ['acknowledge', 'AlertAcknowledged', 'alice', 'unchanged'],
    ['acknowledge', 'AlertAcknowledged', 'bob', 'pending'],
    ['acknowledge', 'AlertAcknowledged', null, 'pending'],
    ['unacknowledge', 'AlertUnacknowledged', null, 'unchanged'],
    ['escalate', 'AlertEscalated', 'alice', 'pending'],
    ['acknowledge', 'AlertUpdated', null, 'pending'],
  ])('%s by alice after a foreign %s by %s → %s', (command, type, userId, outcome) => {
    expect(afterForeignEvent(command, 'alice', { type, userId })).toBe(outcome);
  });
});

describe('commandKey', () => {
  const base = {
    alertId: 'a1',
    command: 'escalate' as const,
    userId: 'alice',
    note: '',
    requestId: '',
    snoozeSeconds: null,
    lastEventSeq: 7,
  };

  it('is the same for a retry against the same alert state', () => {
    expect(commandKey(base)).toBe(commandKey({ ...base }));
  });

  it.each<[string, Partial<typeof base>]>([
    ['another user', { userId: 'bob' }],
    ['another note', { note: 'x' }],
    ['a later alert state', { lastEventSeq: 8 }],
    ['another command', { command: 'resolve' as never }],
    ['another alert', { alertId: 'a2' }],
  ])('differs for %s', (_, change) => {
    expect(commandKey({ ...base, ...change })).not.toBe(commandKey(base));
  });

  it('uses the request id alone when there is one', () => {
    expect(commandKey({ ...base, requestId: 'r1' })).toBe(commandKey({ ...base, requestId: 'r1', note: 'other', lastEventSeq: 99 }));
    expect(commandKey({ ...base, requestId: 'r1' })).not.toBe(commandKey({ ...base, requestId: 'r2' }));
  });
});
