import { describe, expect, it } from 'vitest';
import { handoffMessage, handoffTarget, type HandoffRecipient, type HandoffSummary } from './handoff-message.js';

const SUMMARY: HandoffSummary = {
  scheduleId: 'noc',
  scheduleName: 'NOC primary',
  at: '2026-12-07T09:00:00.000Z',
  shiftStart: '2026-11-30T09:00:00.000Z',
  outgoing: ['alice'],
  incoming: ['bob'],
  services: ['edge'],
  recipients: [],
  open: [],
  fired: [],
  acked: [],
  text: { incoming: 'You are on call for NOC primary. Open: 2 <b>alerts</b>.', outgoing: 'Your shift ended. 5 fired, 4 acked.' },
};
const recipient = (over: Partial<HandoffRecipient>): HandoffRecipient => ({
  userId: 'bob',
  role: 'incoming',
  channel: 'slack',
  contacts: [
    { channel: 'slack', address: 'U0BOB' },
    { channel: 'email', address: 'bob@example.com' },
    { channel: 'sms', address: '+15555550102' },
  ],
  ...over,
});

describe('handoff summary: given a recipient, then where it goes', () => {
  it.each<[string, Partial<HandoffRecipient>, ReturnType<typeof handoffTarget>]>([
    ['their first method', {}, { channel: 'slack', address: 'U0BOB' }],
    ['e-mail', { channel: 'email' }, { channel: 'email', address: 'bob@example.com' }],
    ['voice: read, so by SMS', { channel: 'voice' }, { channel: 'sms', address: '+15555550102' }],
    [
      'voice without SMS: by e-mail',
      { channel: 'voice', contacts: [{ channel: 'email', address: 'b@x' }] },
      { channel: 'email', address: 'b@x' },
    ],
    ['a method they have no address for: nowhere', { channel: 'teams' }, null],
  ])('%s', (_, over, expected) => {
    expect(handoffTarget(recipient(over))).toEqual(expected);
  });
});

describe('handoff summary: the message in each channel’s shape', () => {
  it('names the schedule and the role, and carries the role’s text', () => {
    const out = handoffMessage(SUMMARY, recipient({}));
    expect(out).toMatchObject({ channel: 'slack', address: 'U0BOB' });
    expect(JSON.stringify(out)).toContain('Handoff: NOC primary (your shift starts)');
    const outgoing = handoffMessage(SUMMARY, recipient({ role: 'outgoing', userId: 'alice' }));
    expect(JSON.stringify(outgoing)).toContain('Your shift ended. 5 fired, 4 acked.');
  });

  it('escapes the text in the e-mail’s HTML', () => {
    const out = handoffMessage(SUMMARY, recipient({ channel: 'email' }));
    expect(out).toMatchObject({ channel: 'email', message: { subject: 'Handoff: NOC primary (your shift starts)' } });
    expect(JSON.stringify(out)).toContain('&lt;b&gt;alerts&lt;/b&gt;');
  });

  it('a recipient without an address for their method is skipped with the reason', () => {
    expect(handoffMessage(SUMMARY, recipient({ channel: 'teams' }))).toEqual({ skip: 'no teams contact method' });
  });
});
