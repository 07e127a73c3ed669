import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import getPort from 'get-port';
import { CONSUMERS, STREAMS, type EventOf } from '@oncall/contracts';
import { ContactVerifications, fileUserDirectory, TWILIO_PATHS, type VerificationRequest } from '@oncall/shared';
import { startDispatcher } from '@oncall/dispatcher';
import { startEscalator } from '@oncall/escalator';
import { startIngest } from '@oncall/ingest';
import { waitForProjection } from '@oncall/projector';
import { runContactCommand } from '../infra/src/contact.js';
import { twilioNotifiers } from '../dispatcher/src/notifiers/index.js';
import { startTwilioFake, type TwilioFake } from './fakes/index.js';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { streamLastSeq, tableRows, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const ALICE = '+15555550101';
/** Alice has verified nothing yet (as `verified: []` in a users file). */
const USERS = fileUserDirectory([
  {
    id: 'alice',
    name: 'Alice',
    email: 'alice@example.com',
    timezone: 'UTC',
    contacts: [
      { channel: 'email', address: 'alice@example.com', verified: false },
      { channel: 'sms', address: ALICE, verified: false },
      { channel: 'voice', address: ALICE, verified: false },
    ],
  },
]);

type Stop = { stop: () => Promise<void> };
type Page = EventOf<'NotificationRequested'>;

describe('contact verification: a code sent to the method, confirmed by the CLI or an SMS reply; ONCALL_REQUIRE_VERIFIED then pages it', () => {
  let p: TestPipeline;
  let fake: TwilioFake;
  let smsUrl: string;
  let config: FollowedStream;
  let escalations: FollowedStream;
  let verifications: ContactVerifications;
  const printed: string[] = [];
  const running: Stop[] = [];

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
    fake = await startTwilioFake();
    await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
      policyId: 'checkout',
      name: 'Checkout on-call',
      repeat: 0,
      steps: [{ delaySeconds: 1800, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false }],
    });
    await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
      serviceId: 'checkout',
      escalationPolicyId: 'checkout',
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    config = await followStream(p.admin, STREAMS.config);
    escalations = await followStream(p.admin, STREAMS.escalations);
    const port = await getPort({ host: '127.0.0.1' });
    const publicUrl = `http://127.0.0.1:${port}`;
    smsUrl = publicUrl + TWILIO_PATHS.sms;
    running.push(
      await startIngest({
        nc: await p.nats.connect('ingest-twilio'),
        partitions: p.partitions,
        port,
        host: '127.0.0.1',
        bodyLimitBytes: 1024 * 1024,
        rateLimitPerSecond: 0,
        publicUrl,
        twilioAuthToken: fake.authToken,
        log: testLog,
      }),
    );
    running.push(
      await startEscalator({
        nc: await p.nats.connect('escalator'),
        partitions: p.partitions,
        users: USERS,
        log: testLog,
        owner: 'test-escalator',
        requireVerified: true,
      }),
    );
    const { sms } = twilioNotifiers({ accountSid: fake.accountSid, authToken: fake.authToken, from: fake.number, apiUrl: fake.baseUrl });
    // SMS goes to the Twilio fake; e-mail and voice have no provider: the console channel prints them.
    running.push(
      await startDispatcher({
        nc: await p.nats.connect('dispatcher'),
        notifiers: { sms },
        log: testLog,
        options: { consoleChannel: true, retryBaseMs: 100, retryMaxMs: 1000, perDestination: {} },
        consoleWrite: (t) => void printed.push(t),
      }),
    );
    verifications = await ContactVerifications.open(await p.nats.connect('cli'));
  });

  afterAll(async () => {
    for (const r of running.reverse()) await r.stop();
    await Promise.all([config?.close(), escalations?.close()]);
    await fake?.close();
    await p?.stop();
  });

  const trigger = async (summary: string): Promise<Page> => {
    const body = JSON.stringify({ summary, severity: 'critical', dedup_key: summary, labels: {} });
    expect((await p.post('/api/v1/webhook/generic', body)).status).toBe(202);
    const [page] = await escalations.waitFor((e) => e.type === 'NotificationRequested' && e.data.alert.summary === summary);
    return page as Page;
  };
  const printedCode = async (channel: string): Promise<string> => {
    for (let i = 0; i < 200; i++) {
      const block = printed.find((t) => t.includes(`verification code for alice by ${channel}`));
      const code = block && /verification code is (\d{6})/.exec(block)?.[1];
      if (code) return code;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${channel} code printed`);
  };
  const cli = (args: Parameters<typeof runContactCommand>[0]) =>
    runContactCommand(args, { verifications, source: { directory: USERS }, now: Date.now() });
  const configSeq = () => streamLastSeq(p.admin, STREAMS.config);
  const verifiedEvents = () => config.events.filter((e): e is EventOf<'ContactMethodVerified'> => e.type === 'ContactMethodVerified');

  it('before any verification, the page skips every unverified method', async () => {
    const page = await trigger('Before verification');
    expect(page.data.contacts).toEqual([]);
    expect(page.data.skipped?.map((s) => `${s.channel}:${s.reason}`)).toEqual(['email:unverified', 'sms:unverified', 'voice:unverified']);
  });

  it('e-mail by the CLI: the code is printed (console channel), a wrong code is refused with nothing appended, the right one verifies', async () => {
    const asked = await cli({ action: 'verify', userId: 'alice', channel: 'email' });
    expect(asked).toMatchObject({ exit: 0 });
    expect(asked.text).toContain("verification code requested for alice's email alice@example.com; the dispatcher sends it");
    const code = await printedCode('email');
    const [requested] = (await config.waitFor(
      (e) => e.type === 'ContactVerificationRequested',
    )) as EventOf<'ContactVerificationRequested'>[];
    const request: VerificationRequest = requested!.data;
    expect(request).toMatchObject({ userId: 'alice', channel: 'email', address: 'alice@example.com', maxAttempts: 5 });
    // The code itself is nowhere in the log.
    expect(JSON.stringify(requested)).not.toContain(code);

    const before = await configSeq();
    const wrong = code === '000000' ? '000001' : '000000';
    expect(await cli({ action: 'confirm', userId: 'alice', channel: 'email', code: wrong })).toEqual({
      exit: 1,
      text: 'oncall: wrong verification code (4 tries left)',
    });
    expect(await cli({ action: 'confirm', userId: 'alice', channel: 'email', code: '12345' })).toEqual({
      exit: 1,
      text: 'oncall: a verification code is 6 digits',
    });
    expect(await configSeq()).toBe(before);

    expect(await cli({ action: 'confirm', userId: 'alice', channel: 'email', code })).toEqual({
      exit: 0,
      text: "verified: alice's email alice@example.com",
    });
    await config.waitFor((e) => e.type === 'ContactMethodVerified');
    expect(verifiedEvents().map((e) => e.data)).toEqual([
      { userId: 'alice', channel: 'email', address: 'alice@example.com', requestId: request.requestId, via: 'cli' },
    ]);
    // Confirming again appends nothing.
    const after = await configSeq();
    expect(await cli({ action: 'confirm', userId: 'alice', channel: 'email', code })).toEqual({
      exit: 1,
      text: 'oncall: this contact method is already verified',
    });
    expect(await configSeq()).toBe(after);
  });

  it('voice: five wrong codes use the request up; the right code is then refused too, nothing appended', async () => {
    expect((await cli({ action: 'verify', userId: 'alice', channel: 'voice' })).exit).toBe(0);
    const code = await printedCode('voice');
    const wrong = code === '999999' ? '999998' : '999999';
    const before = await configSeq();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await cli({ action: 'confirm', userId: 'alice', channel: 'voice', code: wrong })).text);
    expect(answers.at(-1)).toBe('oncall: wrong verification code; no tries left, request a new one');
    expect(await cli({ action: 'confirm', userId: 'alice', channel: 'voice', code })).toEqual({
      exit: 1,
      text: 'oncall: too many wrong codes; request a new one',
    });
    expect(await configSeq()).toBe(before);
  });

  it('SMS by replying the code to the Twilio number', async () => {
    expect((await cli({ action: 'verify', userId: 'alice', channel: 'sms' })).exit).toBe(0);
    const [message] = await fake.calls.waitFor(1, 10_000);
    expect(message).toMatchObject({ kind: 'message', params: { To: ALICE } });
    const code = /verification code is (\d{6})/.exec(message!.params.Body ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);

    const before = await configSeq();
    const wrong = await fake.sms(smsUrl, ALICE, code === '111111' ? '111112' : '111111');
    expect(wrong.body).toContain('Not verified: wrong verification code (4 tries left).');
    expect(await configSeq()).toBe(before);

    const answer = await fake.sms(smsUrl, ALICE, code!);
    expect(answer.body).toContain('This number is verified for on-call pages.');
    await config.waitFor((e) => e.type === 'ContactMethodVerified' && e.data.channel === 'sms');
    expect(verifiedEvents().find((e) => e.data.channel === 'sms')?.data).toMatchObject({ address: ALICE, via: 'sms' });
  });

  it('with ONCALL_REQUIRE_VERIFIED the escalator now pages the verified methods (not voice)', async () => {
    // The escalator's configuration view follows the CONFIG stream; give it a moment to read the verifications.
    await new Promise((r) => setTimeout(r, 500));
    const page = await trigger('After verification');
    expect(page.data.contacts).toEqual([
      { channel: 'email', address: 'alice@example.com' },
      { channel: 'sms', address: ALICE },
    ]);
    expect(page.data.skipped).toEqual([{ channel: 'voice', address: ALICE, reason: 'unverified' }]);
    // And it is sent: the SMS reaches Twilio, the e-mail is printed.
    for (let i = 0; i < 200 && !fake.calls.items.some((c) => (c.params.Body ?? '').includes('After verification')); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(fake.calls.items.some((c) => c.params.To === ALICE && (c.params.Body ?? '').includes('After verification'))).toBe(true);
  });

  it('the projector keeps the outcome per method (no code, no hash): verified e-mail and SMS, voice still pending', async () => {
    await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorConfig, await configSeq());
    const rows = (await tableRows(p.db.url, p.db.schema, 'contact_verifications', 'channel')) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.channel, r.verified_address, r.verified_via, r.pending_address])).toEqual([
      ['email', 'alice@example.com', 'cli', null],
      ['sms', ALICE, 'sms', null],
      ['voice', null, null, ALICE],
    ]);
  });
});
