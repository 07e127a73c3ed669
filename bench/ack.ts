/**
 * `npm run bench:ack`: people answering pages from Slack during a storm. BENCH_RATE (200) new
 * alerts/s arrive for BENCH_SECONDS (10) as generic webhooks; each is paged to the Slack channel
 * #bench (the fake, through the dispatcher's real @slack/web-api client). The first BENCH_PRESSES
 * (1000) pages are acknowledged as soon as they reach the fake, by a signed Slack button press to
 * ingest (`/api/v1/slack/interactions`) from a linked member, while the storm goes on.
 *   ack_to_state = press sent → AlertAcknowledged seen in the ALERTS stream (a follower here);
 *   ack_to_message_updated = press sent → the fake receiving the chat.update that shows it.
 * Everything but nats-server runs in this one process (ingest, decider, escalator, dispatcher,
 * the Slack fake, the load): the figures include that sharing of the cores. One JSON line on stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { pino } from 'pino';
import { Agent, fetch as httpFetch } from 'undici';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { decodeEvent, STREAMS, type SlackAlertTarget } from '@oncall/contracts';
import { connectNats, ensureTopology, fileUserDirectory, type Logger } from '@oncall/shared';
import { startDecider, startIngest } from '@oncall/ingest';
import { startEscalator } from '@oncall/escalator';
import { slackMessageEditor, startDispatcher } from '@oncall/dispatcher';
import { slackNotifier } from '../dispatcher/src/notifiers/index.js';
import { applyConfig } from '../infra/src/apply.js';
import { parseConfigFile } from '../infra/src/config-file.js';
import { startNatsServer } from '../infra/src/nats-server.js';
import { startSlackFake, type SlackCall } from '../test/fakes/slack.js';
import { pressForm, signedPost, SIGNING_SECRET } from '../test/slack-setup.js';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PRESSES = Number(process.env.BENCH_PRESSES ?? 1000);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 8);
const KEY = 'bench-ack-integration-key';
/** Keep-alive connections to ingest, shared by the storm and the presses (as a load balancer would). */
const agent = new Agent({ connections: Number(process.env.BENCH_CONNECTIONS ?? 64), pipelining: 1 });
const CHANNEL = 'C0BENCH';

const CONFIG = JSON.stringify({
  services: [{ id: 'bench', name: 'Bench', integrationKeys: [{ name: 'generic', key: KEY }], routing: { escalationPolicy: 'bench' } }],
  escalationPolicies: [{ id: 'bench', name: 'Bench', steps: [{ delay: '0s', targets: [{ slack: CHANNEL }] }] }],
  // Alice is on a schedule so that ingest links her Slack member id (docs/responders.md#answering-pages-from-slack).
  schedules: [
    {
      id: 'bench',
      name: 'Bench',
      timeZone: 'UTC',
      rotations: [{ id: 'r', name: 'r', type: 'weekly', start: '2026-01-05T09:00', members: ['alice'] }],
    },
  ],
});
const USERS = fileUserDirectory([
  { id: 'alice', name: 'Alice', email: 'alice@example.com', timezone: 'UTC', contacts: [{ channel: 'slack', address: 'U0ALICE' }] },
]);

const p99 = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]! * 10) / 10;
};
// Logs to stderr: stdout carries the one result line.
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'bench-ack' } }, pino.destination(2));

const dir = await mkdtemp(join(tmpdir(), 'bench-ack-'));
const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort(), log });
const slack = await startSlackFake();
const connect = (name: string) => connectNats(nats.url, name, log);
try {
  const admin = await connect('bench-admin');
  const { partitions } = await ensureTopology(admin, { partitions: PARTITIONS, replicas: 1 }, log);
  await applyConfig(admin, parseConfigFile(CONFIG, 'bench-ack.yaml'));
  const decider = await startDecider({ nc: await connect('decider'), partitions, log });
  const escalator = await startEscalator({ nc: await connect('escalator'), partitions, users: USERS, log, owner: 'bench' });
  const dispatcher = await startDispatcher({
    nc: await connect('dispatcher'),
    notifiers: { slack: slackNotifier({ token: slack.token, apiUrl: slack.apiUrl }) },
    log,
    options: { perProvider: { slack: { capacity: 2000, perMinute: 120_000 } } },
    slackUpdates: { editor: slackMessageEditor({ token: slack.token, apiUrl: slack.apiUrl }), users: USERS },
  });
  const ingest = await startIngest({
    nc: await connect('ingest'),
    partitions,
    port: 0,
    host: '127.0.0.1',
    bodyLimitBytes: 1024 * 1024,
    rateLimitPerSecond: 0,
    slack: { signingSecret: SIGNING_SECRET, directory: USERS, pool: null },
    log,
  });

  const pressedAt = new Map<string, number>();
  const messageOf = new Map<string, string>();
  const toState: number[] = [];
  const toMessage: number[] = [];
  let pressErrors = 0;
  let done!: () => void;
  const allDone = new Promise<void>((resolve) => (done = resolve));
  const check = () => toState.length >= PRESSES && toMessage.length >= PRESSES && done();

  // Acknowledgements as they are stored.
  const follower = await (await jetstream(admin).consumers.get(STREAMS.alerts, { deliver_policy: DeliverPolicy.New })).consume();
  void (async () => {
    for await (const m of follower) {
      const e = decodeEvent(m.data, { trusted: true });
      if (e.type !== 'AlertAcknowledged') continue;
      const at = pressedAt.get((e.data as { alertId: string }).alertId);
      if (at !== undefined) toState.push(performance.now() - at);
      check();
    }
  })();

  // The fake's calls in order: a page → press; an edit showing the acknowledgement → measured.
  const press = (target: SlackAlertTarget) => {
    pressedAt.set(target.alertId, performance.now());
    const req = signedPost(
      `${ingest.url}/api/v1/slack/interactions`,
      pressForm('ack', target, 'U0ALICE', { triggerId: target.alertId, responseUrl: slack.responseUrl(target.alertId) }),
    );
    httpFetch(req.url, { ...(req.init as Parameters<typeof httpFetch>[1]), dispatcher: agent })
      .then((r) => r.status !== 200 && (pressErrors += 1))
      .catch((err: unknown) => {
        pressErrors += 1;
        log.warn({ err }, 'press failed');
      });
  };
  void (async () => {
    const measured = new Set<string>();
    for (let i = 1; ; i++) {
      const call: SlackCall | undefined = (await slack.calls.waitFor(i, 600_000))[i - 1];
      if (call === undefined) continue;
      const blocks = (call.args.blocks ?? []) as Array<{ type: string; elements?: Array<{ value?: string; text?: string }> }>;
      if (call.method === 'chat.postMessage' && pressedAt.size < PRESSES) {
        const value = blocks.find((b) => b.type === 'actions')?.elements?.find((e) => e.value)?.value;
        if (value === undefined) continue;
        const t = JSON.parse(value) as { a: string; s: string; f: string };
        press({ alertId: t.a, serviceId: t.s, fingerprint: t.f });
      } else if (call.method === 'chat.update') {
        const context = blocks.find((b) => b.type === 'context')?.elements?.[0]?.text ?? '';
        const value = blocks.find((b) => b.type === 'actions')?.elements?.find((e) => e.value)?.value;
        const alertId = value === undefined ? undefined : (JSON.parse(value) as { a: string }).a;
        if (alertId === undefined || !context.startsWith('Acknowledged') || measured.has(alertId)) continue;
        const at = pressedAt.get(alertId);
        if (at === undefined) continue;
        measured.add(alertId);
        toMessage.push(performance.now() - at);
        messageOf.set(alertId, String(call.args.ts));
        check();
      }
    }
  })();

  // The storm.
  const started = performance.now();
  const total = RATE * SECONDS;
  const sends: Promise<unknown>[] = [];
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sends.push(
      httpFetch(`${ingest.url}/api/v1/webhook/generic`, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ summary: `storm #${n}`, severity: 'critical', dedup_key: `storm-${n}` }),
      }).catch(() => undefined),
    );
  }
  await Promise.all(sends);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 60_000).unref());
  await Promise.race([allDone, timeout]);

  process.stdout.write(
    `${JSON.stringify({
      acks: Math.min(toState.length, PRESSES),
      ack_to_state_p99_ms: p99(toState),
      ack_to_message_updated_p99_ms: p99(toMessage),
      messages_updated: toMessage.length,
      alerts: total,
      alerts_per_sec: RATE,
      press_errors: pressErrors,
    })}\n`,
  );
  await follower.close();
  await ingest.stop();
  await dispatcher.stop();
  await escalator.stop();
  await decider.stop();
  await admin.close();
} finally {
  await slack.close();
  await nats.stop(5000);
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
