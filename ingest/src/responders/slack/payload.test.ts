import { describe, expect, it } from 'vitest';
import { encodeSlackTarget } from '@oncall/contracts';
import { parseInteraction } from './payload.js';

const TARGET = { alertId: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e', serviceId: 'checkout', fingerprint: 'fp-1' };
const VALUE = encodeSlackTarget(TARGET)!;
const press = (action: Record<string, unknown>, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'block_actions',
    user: { id: 'U0ALICE' },
    team: { id: 'T1' },
    trigger_id: 'trig-1',
    response_url: 'https://hooks.slack.com/actions/T1/1/x',
    actions: [{ block_id: 'oncall_actions', action_ts: '1.2', ...action }],
    message: { blocks: [{ type: 'actions', block_id: 'oncall_actions', elements: [{ type: 'button', action_id: 'ack', value: VALUE }] }] },
    ...over,
  });

describe('parseInteraction', () => {
  it.each([
    ['ack', 'acknowledge'],
    ['resolve', 'resolve'],
    ['escalate', 'escalate'],
  ])('button %s → %s', (actionId, command) => {
    expect(parseInteraction(press({ action_id: actionId, value: VALUE }))).toStrictEqual({
      kind: 'press',
      slackUserId: 'U0ALICE',
      teamId: 'T1',
      command,
      target: TARGET,
      snoozeSeconds: null,
      responseUrl: 'https://hooks.slack.com/actions/T1/1/x',
      key: `slack:T1:U0ALICE:trig-1:${command}`,
    });
  });

  it('snooze menu: seconds from the option, the alert from a sibling button', () => {
    expect(parseInteraction(press({ action_id: 'snooze', selected_option: { value: 'snooze:3600' } }))).toMatchObject({
      kind: 'press',
      command: 'snooze',
      snoozeSeconds: 3600,
      target: TARGET,
    });
  });

  it('falls back to action_ts for the key', () => {
    expect(parseInteraction(press({ action_id: 'ack', value: VALUE }, { trigger_id: undefined }))).toMatchObject({
      key: 'slack:T1:U0ALICE:1.2:acknowledge',
    });
  });

  it.each<[string, unknown, string]>([
    ['no payload', undefined, 'the form field "payload" is missing'],
    ['not JSON', '{', 'the form field "payload" is not JSON'],
    ['no user', JSON.stringify({ type: 'block_actions', actions: [{ action_id: 'ack' }] }), 'payload user: Required'],
    ['no actions', press({ action_id: 'ack' }, { actions: [] }), 'payload actions: Array must contain at least 1 element(s)'],
    ['unknown action', press({ action_id: 'delete', value: VALUE }), 'unknown action "delete"'],
    ['a foreign value', press({ action_id: 'ack', value: TARGET.alertId }), 'the action does not name an alert'],
    [
      'a snooze not in the menu',
      press({ action_id: 'snooze', selected_option: { value: 'snooze:60' } }),
      'the snooze option is not one of the menu',
    ],
    [
      'a snooze without the message',
      press({ action_id: 'snooze', selected_option: { value: 'snooze:900' } }, { message: undefined }),
      'the action does not name an alert',
    ],
    ['a bad response_url', press({ action_id: 'ack', value: VALUE }, { response_url: 'nope' }), 'payload response_url: Invalid url'],
    [
      'no trigger or action ts',
      press({ action_id: 'ack', value: VALUE, action_ts: undefined }, { trigger_id: undefined }),
      'the payload has neither trigger_id nor action_ts',
    ],
  ])('%s → invalid', (_name, field, error) => {
    expect(parseInteraction(field)).toStrictEqual({ kind: 'invalid', error });
  });

  it.each([
    ['the Open button', press({ action_id: 'open' })],
    ['a modal submission', JSON.stringify({ type: 'view_submission' })],
  ])('%s → ignored', (_name, field) => {
    expect(parseInteraction(field).kind).toBe('ignored');
  });
});
