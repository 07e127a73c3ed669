import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake } from '../../../test/fakes/slack.js';
import { slackNotifier } from './slack.js';

describe('Slack: finding a message sent before a crash', () => {
  let slack: SlackFake;
  beforeAll(async () => {
    slack = await startSlackFake();
  });
  afterAll(async () => slack?.close());

  it('finds the message by the idempotency key it carries, in a channel and in a DM; nothing for another key', async () => {
    const notifier = slackNotifier({ token: slack.token, apiUrl: slack.apiUrl });
    const since = Date.now() - 1000;
    const inChannel = await notifier.notify({ text: 'API down', blocks: [] }, 'C0NOC', { idempotencyKey: 'n-1:slack' });
    const inDm = await notifier.notify({ text: 'API down', blocks: [] }, 'U0ADA', { idempotencyKey: 'n-2:slack' });
    const post = slack.calls.items.find((c) => c.method === 'chat.postMessage');
    expect(post?.args.metadata).toEqual({ event_type: 'oncall_notification', event_payload: { idempotency_key: 'n-1:slack' } });

    expect(await notifier.find!('C0NOC', 'n-1:slack', since)).toEqual(inChannel);
    expect(await notifier.find!('U0ADA', 'n-2:slack', since)).toEqual(inDm);
    expect(await notifier.find!('C0NOC', 'n-3:slack', since)).toBeNull();
    expect(await notifier.find!('C0NOC', 'n-1:slack', Date.now() + 5000)).toBeNull();
  });

  it('cannot tell where the app may not read the history: null, so the page goes out again', async () => {
    const notifier = slackNotifier({ token: slack.token, apiUrl: slack.apiUrl });
    slack.failNext({ platformError: 'missing_scope' });
    expect(await notifier.find!('C0NOC', 'n-1:slack', 0)).toBeNull();
  });

  it('a provider that does not answer is a retryable DeliveryError (it is asked again later, nothing is sent meanwhile)', async () => {
    const notifier = slackNotifier({ token: slack.token, apiUrl: slack.apiUrl });
    slack.failNext({ status: 503 });
    await expect(notifier.find!('C0NOC', 'n-1:slack', 0)).rejects.toMatchObject({ retryable: true });
  });
});
