import { encodeSlackTarget, type SlackAlertTarget } from '@oncall/contracts';
import { slackSignature } from '../ingest/src/responders/slack.js';

export const SIGNING_SECRET = 'test-slack-signing-secret';

/** A form post as Slack signs it (now, unless `at` in epoch seconds is given). */
export function signedPost(url: string, form: string, opts: { secret?: string; at?: number } = {}) {
  const ts = String(opts.at ?? Math.floor(Date.now() / 1000));
  return {
    url,
    init: {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': slackSignature(opts.secret ?? SIGNING_SECRET, ts, form),
      },
      body: form,
    },
  };
}

export const send = (p: { url: string; init: RequestInit }) => fetch(p.url, p.init);

/** A `block_actions` interaction: a button press, or the snooze menu when `snooze` is given. */
export function pressForm(
  action: 'ack' | 'resolve' | 'escalate' | 'snooze',
  target: SlackAlertTarget,
  slackUserId: string,
  opts: { triggerId: string; responseUrl: string; snooze?: number },
): string {
  const value = encodeSlackTarget(target);
  const act =
    action === 'snooze'
      ? { action_id: 'snooze', block_id: 'oncall_actions', selected_option: { value: `snooze:${opts.snooze ?? 900}` }, action_ts: '1.1' }
      : { action_id: action, block_id: 'oncall_actions', value, action_ts: '1.1' };
  const payload = {
    type: 'block_actions',
    user: { id: slackUserId, username: slackUserId.toLowerCase() },
    team: { id: 'T0TEST' },
    trigger_id: opts.triggerId,
    response_url: opts.responseUrl,
    actions: [act],
    message: { blocks: [{ type: 'actions', block_id: 'oncall_actions', elements: [{ type: 'button', action_id: 'ack', value }] }] },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A slash command post: `/oncall <text>`. */
export function commandForm(text: string, slackUserId: string, opts: { triggerId: string; responseUrl: string }): string {
  return new URLSearchParams({
    command: '/oncall',
    text,
    user_id: slackUserId,
    team_id: 'T0TEST',
    trigger_id: opts.triggerId,
    response_url: opts.responseUrl,
  }).toString();
}
