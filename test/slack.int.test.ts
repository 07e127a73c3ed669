import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, type DomainEvent, type SlackAlertTarget } from '@oncall/contracts';
import { fileUserDirectory } from '@oncall/shared';
import { startIngest } from '@oncall/ingest';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { startSlackFake, type SlackFake } from './fakes/index.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { streamLastSeq, testLog } from './harness.js';
import { commandForm, pressForm, send, signedPost, SIGNING_SECRET } from './slack-setup.js';

const user = (id: string, name: string, slackId: string) => ({
  id,
  name,
  email: `${id}@example.com`,
  timezone: 'UTC',
  contacts: [{ channel: 'slack' as const, address: slackId }],
});
// Carol is in the directory but in no schedule or policy: not linked (docs/responders.md#answering-pages-from-slack).
const USERS = [user('alice', 'Alice', 'U0ALICE'), user('bob', 'Bob', 'U0BOB'), user('carol', 'Carol', 'U0CAROL')];

describe('Slack: people answer pages from Slack', () => {
  let p: TestPipeline;
  let slack: SlackFake;
  let alerts: FollowedStream;
  let url: string;
  let stopIngest: () => Promise<void>;
  let n = 0;

  const post = (path: string, form: string, opts: { secret?: string; at?: number } = {}) => send(signedPost(`${url}${path}`, form, opts));
  const intakeSeq = () => streamLastSeq(p.admin, STREAMS.intake);

  /** Posts an alert and returns it as the command path names it. */
  async function newAlert(summary: string): Promise<SlackAlertTarget> {
    const key = `k-${(n += 1)}`;
    const res = await p.post(
      '/api/v1/webhook/generic',
      JSON.stringify({ summary, severity: 'critical', dedup_key: key, labels: { site: 'fra1' } }),
    );
    expect(res.status).toBe(202);
    const [e] = await alerts.waitFor((x) => x.type === 'AlertTriggered' && (x.data as { summary: string }).summary === summary);
    const d = (e as DomainEvent & { data: { alertId: string; serviceId: string; fingerprint: string } }).data;
    return { alertId: d.alertId, serviceId: d.serviceId, fingerprint: d.fingerprint };
  }

  /** What the person was told through the response_url `id`. */
  async function answerAt(id: string): Promise<string> {
    for (let count = 1; ; count++) {
      const hit = (await slack.responses.waitFor(count, 10_000)).find((r) => r.id === id);
      if (hit) {
        expect(hit.body.response_type).toBe('ephemeral');
        return hit.body.text as string;
      }
    }
  }

  const lifecycle = (type: string, alertId: string) =>
    alerts.events.filter((e) => e.type === type && (e.data as { alertId: string }).alertId === alertId);

  beforeAll(async () => {
    [p, slack] = await Promise.all([startTestPipeline({ partitions: 2 }), startSlackFake()]);
    await appendConfig(p.admin, 'schedule', 'primary', 'ScheduleConfigured', {
      scheduleId: 'primary',
      name: 'Primary',
      timeZone: 'UTC',
      rotations: [
        { id: 'r1', name: 'weekly', type: 'weekly', shiftLength: 1, start: '2020-01-06T09:00:00Z', members: ['alice'], restrictions: [] },
      ],
      overrides: [],
      temporary: [],
    });
    await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
      policyId: 'checkout',
      name: 'Checkout',
      repeat: 0,
      steps: [{ delaySeconds: 600, targets: [{ type: 'user', userId: 'bob' }], untilAllAck: false }],
    });
    alerts = await followStream(p.admin, STREAMS.alerts);
    const ingest = await startIngest({
      nc: await p.nats.connect('ingest-slack'),
      partitions: p.partitions,
      port: 0,
      host: '127.0.0.1',
      bodyLimitBytes: 1024 * 1024,
      rateLimitPerSecond: 0,
      slack: { signingSecret: SIGNING_SECRET, directory: fileUserDirectory(USERS), pool: p.pool },
      log: testLog,
    });
    url = ingest.url;
    stopIngest = ingest.stop;
  });

  afterAll(async () => {
    await stopIngest();
    await alerts.close();
    await Promise.all([slack.close(), p.stop()]);
  });

  it('a press is answered 200 at once, acknowledged through the command path, and the person is told', async () => {
    const target = await newAlert('disk full');
    const res = await post(
      '/api/v1/slack/interactions',
      pressForm('ack', target, 'U0ALICE', { triggerId: 't-ack', responseUrl: slack.responseUrl('ack') }),
    );
    expect(res.status).toBe(200);
    expect(await answerAt('ack')).toBe(`You acknowledged alert \`${target.alertId.slice(0, 8)}\`.`);
    const [acked] = lifecycle('AlertAcknowledged', target.alertId);
    expect(acked?.data).toMatchObject({ userId: 'alice', via: 'slack', by: 'user' });
  });

  it("Slack's retry of the same press is appended once and answered the same", async () => {
    const target = await newAlert('retry me');
    const form = pressForm('resolve', target, 'U0ALICE', { triggerId: 't-retry', responseUrl: slack.responseUrl('retry') });
    const request = signedPost(`${url}/api/v1/slack/interactions`, form);
    expect((await send(request)).status).toBe(200);
    expect(await answerAt('retry')).toBe(`You resolved alert \`${target.alertId.slice(0, 8)}\`.`);
    const before = await intakeSeq();
    slack.responses.clear();
    expect((await send(request)).status).toBe(200);
    expect(await answerAt('retry')).toBe(`You resolved alert \`${target.alertId.slice(0, 8)}\`.`);
    expect(await intakeSeq()).toBe(before);
    expect(lifecycle('AlertResolved', target.alertId)).toHaveLength(1);
  });

  it('the snooze menu snoozes for the chosen time', async () => {
    const target = await newAlert('snooze me');
    const res = await post(
      '/api/v1/slack/interactions',
      pressForm('snooze', target, 'U0BOB', { triggerId: 't-snooze', responseUrl: slack.responseUrl('snooze'), snooze: 3600 }),
    );
    expect(res.status).toBe(200);
    expect(await answerAt('snooze')).toMatch(/^You snoozed alert `[0-9a-f]{8}` until <!date\^\d+\^/);
    const [snoozed] = lifecycle('AlertSnoozed', target.alertId);
    const until = Date.parse((snoozed?.data as { until: string }).until);
    expect(until - Date.parse(snoozed!.occurredAt)).toBeGreaterThanOrEqual(3600_000 - 1000);
    expect(snoozed?.data).toMatchObject({ userId: 'bob', via: 'slack' });
  });

  it('Escalate asks for the next step now', async () => {
    const target = await newAlert('escalate me');
    const res = await post(
      '/api/v1/slack/interactions',
      pressForm('escalate', target, 'U0BOB', { triggerId: 't-esc', responseUrl: slack.responseUrl('esc') }),
    );
    expect(res.status).toBe(200);
    expect(await answerAt('esc')).toBe(`You escalated alert \`${target.alertId.slice(0, 8)}\`: the next step is being paged.`);
    expect(lifecycle('AlertEscalated', target.alertId)[0]?.data).toMatchObject({ userId: 'bob', via: 'slack' });
  });

  it('two people press at once: one wins, the other is told who did it', async () => {
    const target = await newAlert('race');
    const [a, b] = await Promise.all([
      post(
        '/api/v1/slack/interactions',
        pressForm('resolve', target, 'U0ALICE', { triggerId: 't-a', responseUrl: slack.responseUrl('race-a') }),
      ),
      post(
        '/api/v1/slack/interactions',
        pressForm('resolve', target, 'U0BOB', { triggerId: 't-b', responseUrl: slack.responseUrl('race-b') }),
      ),
    ]);
    expect([a.status, b.status]).toStrictEqual([200, 200]);
    const told = [await answerAt('race-a'), await answerAt('race-b')];
    const [resolved, ...more] = lifecycle('AlertResolved', target.alertId);
    expect(more).toHaveLength(0);
    const winner = (resolved?.data as { userId: string }).userId;
    const short = target.alertId.slice(0, 8);
    const expected =
      winner === 'alice'
        ? [`You resolved alert \`${short}\`.`, 'Already resolved by Alice (slack).']
        : ['Already resolved by Bob (slack).', `You resolved alert \`${short}\`.`];
    expect(told).toStrictEqual(expected);
  });

  describe('refused: nothing is appended', () => {
    let target: SlackAlertTarget;
    beforeAll(async () => {
      target = await newAlert('untouchable');
    });
    const form = () => pressForm('resolve', target, 'U0ALICE', { triggerId: 't-bad', responseUrl: slack.responseUrl('bad') });

    it.each<[string, () => Promise<Response>, string]>([
      [
        'a forged signature (another secret)',
        () => post('/api/v1/slack/interactions', form(), { secret: 'not-the-secret' }),
        'signature_mismatch',
      ],
      [
        'a request 6 minutes old',
        () => post('/api/v1/slack/interactions', form(), { at: Math.floor(Date.now() / 1000) - 360 }),
        'signature_stale',
      ],
      [
        'a replay with a changed body',
        () => {
          const signed = signedPost(`${url}/api/v1/slack/interactions`, form());
          return send({ url: signed.url, init: { ...signed.init, body: form().replace('U0ALICE', 'U0BOB') } });
        },
        'signature_mismatch',
      ],
      [
        'no signature',
        () =>
          fetch(`${url}/api/v1/slack/interactions`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: form(),
          }),
        'signature_missing',
      ],
      [
        'a bad command signature',
        () =>
          post('/api/v1/slack/commands', commandForm('ack 0000', 'U0ALICE', { triggerId: 'x', responseUrl: 'http://x/' }), {
            secret: 'nope',
          }),
        'signature_mismatch',
      ],
    ])('%s → 401', async (_name, request, code) => {
      const before = await intakeSeq();
      const res = await request();
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      expect(await intakeSeq()).toBe(before);
    });

    it('a payload that names no alert → 400', async () => {
      const before = await intakeSeq();
      const res = await post(
        '/api/v1/slack/interactions',
        new URLSearchParams({
          payload: '{"type":"block_actions","user":{"id":"U0ALICE"},"actions":[{"action_id":"ack","value":"x"}]}',
        }).toString(),
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toStrictEqual({ error: { code: 'invalid_payload', message: 'the action does not name an alert' } });
      expect(await intakeSeq()).toBe(before);
    });

    it.each([
      ['a Slack member nobody knows', 'U0NOBODY'],
      ['a directory user in no schedule or policy', 'U0CAROL'],
    ])('%s is told their account is not linked, and nothing changes', async (_name, slackId) => {
      const before = await intakeSeq();
      const res = await post(
        '/api/v1/slack/interactions',
        pressForm('resolve', target, slackId, { triggerId: `t-${slackId}`, responseUrl: slack.responseUrl(slackId) }),
      );
      expect(res.status).toBe(200);
      expect(await answerAt(slackId)).toMatch(/^Your Slack account is not linked to an on-call user/);
      expect(await intakeSeq()).toBe(before);
      expect(lifecycle('AlertResolved', target.alertId)).toHaveLength(0);
    });
  });

  it('without SLACK_SIGNING_SECRET the routes answer 503 and say why', async () => {
    const res = await send(signedPost(`${p.ingestUrl}/api/v1/slack/interactions`, 'payload=%7B%7D'));
    expect(res.status).toBe(503);
    expect(await res.json()).toStrictEqual({
      error: { code: 'slack_not_configured', message: 'Slack is not configured here: set SLACK_SIGNING_SECRET' },
    });
  });

  describe('/oncall', () => {
    const command = async (text: string, id: string, slackId = 'U0ALICE') => {
      const res = await post(
        '/api/v1/slack/commands',
        commandForm(text, slackId, { triggerId: `tc-${id}`, responseUrl: slack.responseUrl(id) }),
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { response_type: string; text: string };
      expect(body.response_type).toBe('ephemeral');
      return body.text;
    };

    it('who: who is on call now', async () => {
      expect(await command('who', 'who')).toBe('*Primary*: Alice');
      expect(await command('who nightshift', 'who2')).toBe('No schedule called "nightshift". Schedules: Primary.');
    });

    it('help, and an unknown subcommand with the help', async () => {
      expect(await command('help', 'help')).toContain('*/oncall who [schedule]*');
      expect(await command('reboot prod', 'bad')).toMatch(/^unknown command `reboot`\.\n\*\/oncall who/);
    });

    it('alerts lists open alerts by severity and site; ack <prefix> acknowledges through the command path', async () => {
      const target = await newAlert('from the slash command');
      await p.alertsApplied(await streamLastSeq(p.admin, STREAMS.alerts));
      const listed = await command('alerts', 'list');
      expect(listed).toContain('*critical* · fra1');
      expect(listed).toContain(`\`${target.alertId.slice(0, 8)}\` checkout: from the slash command`);
      const short = target.alertId.slice(0, 8);
      expect(await command(`ack ${short}`, 'slash-ack', 'U0BOB')).toBe(`Working on it: acknowledging \`${short}\`…`);
      expect(await answerAt('slash-ack')).toBe(`You acknowledged alert \`${short}\`.`);
      expect(lifecycle('AlertAcknowledged', target.alertId)[0]?.data).toMatchObject({ userId: 'bob', via: 'slack' });
      expect(await command('resolve ffffffff', 'none')).toBe('No open alert has an id starting with `ffffffff`.');
      const before = await intakeSeq();
      expect(await command(`resolve ${short}`, 'slash-nobody', 'U0NOBODY')).toMatch(/^Your Slack account is not linked/);
      expect(await intakeSeq()).toBe(before);
    });
  });
});
