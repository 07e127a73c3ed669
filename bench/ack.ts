/**
 * `npm run bench:ack` (issue 15): people answering pages from Slack during a storm.
 *
 * The system runs as deployed: ingest, the decider, the escalator, the dispatcher, the projector
 * and query-api each as its own process (their `main.ts`), beside a nats-server and an embedded
 * PostgreSQL. This process is the outside world: the storm of webhooks, the Slack fake (the
 * dispatcher's real @slack/web-api client posts and edits there) and a linked member pressing
 * Acknowledge as Slack would — a signed `block_actions` form post to /api/v1/slack/interactions
 * carrying the button value of the posted message.
 *
 * Load: BENCH_RATE (200) new alerts/s for BENCH_SECONDS (10), each paged to the Slack channel;
 * BENCH_PRESSES (1000) pages are acknowledged the moment they reach the fake, spread over the
 * storm (one page in BENCH_PRESS_EVERY, by default as many as spread them: every second one;
 * with 1, the first 1,000 at once, 200 presses/s for 5 s on top of the storm). Before it, a
 * warm-up storm at the same rate for BENCH_WARMUP_SECONDS (3; 0 for none) whose pages are not
 * pressed and not measured, and the wait until they are all out: a deployed system meets a storm with its code compiled (V8's JIT),
 * its connections open and its caches filled; without it the first 2–4 s of the figures are the
 * services' own start (press → state ~500 ms there, ~70 ms after).
 *   ack_to_state = press sent → the alert is ACKNOWLEDGED over gRPC: one GetAlert, asked when
 *                  the projector announces (NOTIFY) that the alerts projection passed the
 *                  acknowledgement's ALERTS sequence (no polling interval in the figure);
 *   ack_to_message_updated = press sent → the fake receives the chat.update showing it.
 * Parts of the first: ack_to_stored (press → AlertAcknowledged stored, by the stream's clock),
 * ack_to_event (→ seen by this process), ack_to_projected (→ the projector's announcement).
 * One JSON line on stdout at the end; progress and the services' warnings on stderr.
 */
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { credentials } from '@grpc/grpc-js';
import { CONSUMERS, decodeEvent, STREAMS, type SlackAlertTarget } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { bearerToken, type Logger } from '@oncall/shared';
import { startSlackFake, type SlackCall } from '../test/fakes/slack.js';
import { pressForm, signedPost, SIGNING_SECRET } from '../test/slack-setup.js';
import { cpuPerAlert, startDeployment } from './deployment.js';
import { percentile } from './load.js';
import { say, until } from './processes.js';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PRESSES = Number(process.env.BENCH_PRESSES ?? 1000);
/** A storm at the same rate before the measured one, nothing pressed: services reach steady state (JIT, pools, caches). */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
/** Every how many pages one is pressed: spread over the storm (2,000 pages, every second one) or, with 1, the first PRESSES at once. */
const PRESS_EVERY = Number(process.env.BENCH_PRESS_EVERY ?? Math.max(1, Math.floor((RATE * SECONDS) / PRESSES)));
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 8);
const KEY = 'bench-ack-integration-key';
const CHANNEL = 'C0BENCH';
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'bench-ack' } }, pino.destination(2));
const now = () => performance.timeOrigin + performance.now();

const CONFIG = JSON.stringify({
  services: [{ id: 'bench', name: 'Bench', integrationKeys: [{ name: 'generic', key: KEY }], routing: { escalationPolicy: 'bench' } }],
  escalationPolicies: [{ id: 'bench', name: 'Bench', steps: [{ delay: '0s', targets: [{ slack: CHANNEL }] }] }],
  // Alice (examples/users.yaml, Slack member U0ALICE) is on a schedule, so ingest links her member id.
  schedules: [
    {
      id: 'bench',
      name: 'Bench',
      timeZone: 'UTC',
      rotations: [{ id: 'r', name: 'r', type: 'weekly', start: '2026-01-05T09:00', members: ['alice'] }],
    },
  ],
});

type Blocks = Array<{ type: string; elements?: Array<{ value?: string; text?: string }> }>;
const buttonTarget = (blocks: Blocks): { a: string; s: string; f: string } | undefined => {
  const value = blocks.find((b) => b.type === 'actions')?.elements?.find((e) => e.value)?.value;
  return value === undefined ? undefined : (JSON.parse(value) as { a: string; s: string; f: string });
};

async function main(): Promise<void> {
  say(`load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`);
  const slack = await startSlackFake();
  const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  const dep = await startDeployment({
    name: 'bench-ack',
    config: CONFIG,
    partitions: PARTITIONS,
    log,
    ingestEnv: { SLACK_SIGNING_SECRET: SIGNING_SECRET },
    dispatcherEnv: { SLACK_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl, SLACK_MESSAGES_PER_MINUTE: '120000' },
  }).catch(async (err: unknown) => {
    await slack.close();
    throw err;
  });
  const { admin, ingestUrl, grpcPort } = dep;
  const listener = new pg.Client({ connectionString: dep.databaseUrl });
  try {
    const pressedAt = new Map<string, number>();
    const toState = new Map<string, number>();
    const toMessage = new Map<string, number>();
    const toEvent = new Map<string, number>(); // press → its AlertAcknowledged reaches this process
    const toStored: number[] = [];
    const toProjected: number[] = []; // press → the projector announces it passed the acknowledgement
    let pressErrors = 0;

    // State over gRPC: once the projector announces (NOTIFY) that the alerts projection passed an
    // acknowledgement's ALERTS sequence, one GetAlert of that alert; the figure is when it answers.
    const client = new alertingV1.AlertServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), bearerToken(dep.apiToken));
    const ackedAt = new Map<string, number>(); // alert id → ALERTS sequence of its AlertAcknowledged
    const follower = await (await jetstream(admin).consumers.get(STREAMS.alerts, { deliver_policy: DeliverPolicy.New })).consume();
    void (async () => {
      for await (const m of follower) {
        const e = decodeEvent(m.data, { trusted: true });
        if (e.type !== 'AlertAcknowledged' || !pressedAt.has(e.data.alertId)) continue;
        ackedAt.set(e.data.alertId, m.seq);
        toEvent.set(e.data.alertId, now() - pressedAt.get(e.data.alertId)!);
        toStored.push(m.info.timestampNanos / 1e6 - pressedAt.get(e.data.alertId)!);
      }
    })();
    const getAlert = (id: string) =>
      new Promise<alertingV1.Alert>((resolve, reject) => client.getAlert({ id }, (err, a) => (err ? reject(err) : resolve(a))));
    const visible = async (id: string): Promise<void> => {
      const a = await getAlert(id);
      if (a.status === alertingV1.AlertStatus.ALERT_STATUS_ACKNOWLEDGED && !toState.has(id)) toState.set(id, now() - pressedAt.get(id)!);
      else ackedAt.set(id, Number.MAX_SAFE_INTEGER - 1); // not yet: the next announcement asks again
    };
    await listener.connect();
    await listener.query('LISTEN oncall_projection');
    listener.on('notification', (n) => {
      const [, projection, last] = (n.payload ?? '').split(' ');
      if (projection !== CONSUMERS.projectorAlerts) return;
      for (const [id, seq] of ackedAt) {
        if (seq > Number(last) && seq !== Number.MAX_SAFE_INTEGER - 1) continue;
        if (seq !== Number.MAX_SAFE_INTEGER - 1) toProjected.push(now() - pressedAt.get(id)!);
        ackedAt.delete(id);
        void visible(id).catch((err: unknown) => say(`GetAlert failed: ${String(err)}`));
      }
    });

    const press = (target: SlackAlertTarget) => {
      pressedAt.set(target.alertId, now());
      const req = signedPost(
        `${ingestUrl}/api/v1/slack/interactions`,
        pressForm('ack', target, 'U0ALICE', { triggerId: target.alertId, responseUrl: slack.responseUrl(target.alertId) }),
      );
      request(req.url, { method: 'POST', headers: req.init.headers, body: req.init.body, dispatcher: agent }).then(
        async (r) => {
          await r.body.dump();
          if (r.statusCode !== 200) pressErrors += 1;
        },
        () => (pressErrors += 1),
      );
    };
    let pages = 0;
    let pressing = false; // pages of the warm-up are not pressed
    let warmPages = 0;
    slack.calls.push = (call: SlackCall) => {
      const blocks = (call.args.blocks ?? []) as Blocks;
      const t = buttonTarget(blocks);
      if (t === undefined) return;
      if (call.method === 'chat.postMessage' && !pressing) warmPages++;
      else if (call.method === 'chat.postMessage' && pressedAt.size < PRESSES && pages++ % PRESS_EVERY === 0)
        press({ alertId: t.a, serviceId: t.s, fingerprint: t.f });
      else if (call.method === 'chat.update') {
        const context = blocks.find((b) => b.type === 'context')?.elements?.[0]?.text ?? '';
        const at = pressedAt.get(t.a);
        if (at !== undefined && context.startsWith('Acknowledged') && !toMessage.has(t.a)) toMessage.set(t.a, now() - at);
      }
    };

    let failed = 0;
    /** BENCH_RATE webhooks a second, `count` of them, numbered from `first`; the failed ones counted. */
    const storm = async (first: number, count: number): Promise<void> => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 32 }, async (_, lane) => {
          for (let i = lane; i < count; i += 32) {
            const wait = started + (i * 1000) / RATE - performance.now();
            if (wait > 0) await sleep(wait);
            const n = first + i;
            // undici's request, not fetch: the load generator shares the 2 cores with what it measures.
            const res = await request(`${ingestUrl}/api/v1/webhook/generic`, {
              dispatcher: agent,
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
              body: JSON.stringify({ summary: `storm #${n}`, severity: 'critical', dedup_key: `storm-${n}` }),
            }).catch(() => null);
            await res?.body.dump();
            if (res?.statusCode !== 202) failed++;
          }
        }),
      );
    };
    const warmup = RATE * WARMUP_SECONDS;
    if (warmup > 0) {
      say(`warm-up: ${warmup} alerts at ${RATE}/s, none pressed`);
      await storm(0, warmup);
      // Until its pages are out: the measured storm meets a warm system, not the warm-up's backlog.
      await until(async () => warmPages >= warmup - failed, 60_000, 'the warm-up pages');
    }
    say(`storm: ${RATE * SECONDS} alerts at ${RATE}/s; ${PRESSES} pages acknowledged from Slack as they arrive, one in ${PRESS_EVERY}`);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu0 = await dep.cpu();
    const rss = dep.sampleRss();
    const total = RATE * SECONDS;
    pressing = true;
    await storm(warmup, total);
    const expected = Math.min(PRESSES, total);
    await until(async () => toState.size >= expected && toMessage.size >= expected, 60_000, 'every press to show').catch(() =>
      say('gave up waiting for every press after 60 s'),
    );
    loop.disable();
    const peakRss = rss.stop();
    const cpu1 = await dep.cpu();
    const ms = (v: number) => Number(v.toFixed(1));
    const state = [...toState.values()];
    const message = [...toMessage.values()];
    process.stdout.write(
      `${JSON.stringify({
        acks: pressedAt.size,
        ack_to_state_p99_ms: ms(percentile(state, 99)),
        ack_to_message_updated_p99_ms: ms(percentile(message, 99)),
        ack_to_state_p50_ms: ms(percentile(state, 50)),
        ack_to_message_updated_p50_ms: ms(percentile(message, 50)),
        ack_to_event_p50_ms: ms(percentile([...toEvent.values()], 50)),
        ack_to_event_p99_ms: ms(percentile([...toEvent.values()], 99)),
        ack_to_stored_p50_ms: ms(percentile(toStored, 50)),
        ack_to_stored_p99_ms: ms(percentile(toStored, 99)),
        ack_to_projected_p50_ms: ms(percentile(toProjected, 50)),
        ack_to_projected_p99_ms: ms(percentile(toProjected, 99)),
        bench_loop_delay_p50_ms: ms(loop.percentile(50) / 1e6),
        bench_loop_delay_p99_ms: ms(loop.percentile(99) / 1e6),
        state_missing: pressedAt.size - state.length,
        messages_not_updated: pressedAt.size - message.length,
        press_errors: pressErrors,
        alerts: total,
        warmup_alerts: warmup,
        alerts_per_sec: RATE,
        failed_requests: failed,
        cpu_ms_per_alert: cpuPerAlert(cpu0, cpu1, total),
        rss_mb: peakRss,
        error_logs: dep.errors.count,
        cores: availableParallelism(),
      })}\n`,
    );
  } finally {
    await listener.end().catch(() => undefined);
    await agent.close();
    await slack.close();
    await dep.stop();
  }
}

await main();
process.exit(0);
