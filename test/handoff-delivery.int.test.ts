import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent, encodeEvent, subjects, type EventData } from '@oncall/contracts';
import { startDispatcher } from '@oncall/dispatcher';
import { jetstream } from '@nats-io/jetstream';
import { emailNotifierFor, slackNotifierFor } from './dispatcher-setup.js';
import { startSlackFake, startSmtpFake, type SlackFake, type SmtpFake } from './fakes/index.js';
import { prepareTopology, startTestNats, testLog, type TestNats } from './harness.js';

const summary = (scheduleId: string): EventData<'HandoffSummaryRequested'> => ({
  scheduleId,
  scheduleName: 'NOC primary',
  at: '2026-12-07T09:00:00.000Z',
  shiftStart: '2026-11-30T09:00:00.000Z',
  outgoing: ['alice'],
  incoming: ['bob'],
  services: ['edge'],
  recipients: [
    { userId: 'bob', role: 'incoming', channel: 'slack', contacts: [{ channel: 'slack', address: 'U0BOB' }] },
    { userId: 'alice', role: 'outgoing', channel: 'voice', contacts: [{ channel: 'email', address: 'alice@example.com' }] },
    { userId: 'carol', role: 'incoming', channel: 'teams', contacts: [] },
  ],
  open: [],
  fired: [],
  acked: [],
  text: { incoming: 'You are on call for NOC primary: 2 open.', outgoing: 'Your shift ended: 5 fired, 4 acknowledged.' },
});

describe('handoff summaries reach the incoming and the outgoing person', () => {
  let nats: TestNats;
  let slack: SlackFake;
  let smtp: SmtpFake;
  beforeAll(async () => {
    nats = await startTestNats();
    await prepareTopology(await nats.connect('admin'));
    slack = await startSlackFake();
    smtp = await startSmtpFake();
  });
  afterAll(async () => {
    await slack?.close();
    await smtp?.close();
    await nats?.stop();
  });

  it('by their first method (a call is read as an e-mail), each once; a method without an address is skipped', async () => {
    const printed: string[] = [];
    const dispatcher = await startDispatcher({
      nc: await nats.connect('dispatcher'),
      notifiers: { slack: slackNotifierFor(slack), email: emailNotifierFor(smtp) },
      log: testLog,
      options: { consoleChannel: true },
      consoleWrite: (t) => printed.push(t),
    });
    try {
      const event = buildEvent('HandoffSummaryRequested', summary('noc'), {
        id: '5e1c1f8e-8a43-4c55-9d3b-0a4c2a9e7d11',
        occurredAt: '2026-12-07T09:00:00.000Z',
        causationId: null,
        correlationId: 'noc',
      });
      await jetstream(await nats.connect('escalator')).publish(subjects.handoff('noc'), encodeEvent(event));
      const [post] = await slack.calls.waitFor(1);
      expect(post).toMatchObject({ method: 'chat.postMessage', args: { channel: 'U0BOB' } });
      expect(String(post!.args.text)).toContain('You are on call for NOC primary: 2 open.');
      const [mail] = await smtp.messages.waitFor(1);
      expect(JSON.stringify(mail)).toContain('Your shift ended: 5 fired, 4 acknowledged.');
      expect(JSON.stringify(mail)).toContain('alice@example.com');
      // carol's method has no address: nothing is printed for her either (the console is for channels without a provider).
      expect(printed).toEqual([]);
    } finally {
      await dispatcher.stop();
    }
    expect(slack.calls.items.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    expect(smtp.messages.items).toHaveLength(1);
  });
});
