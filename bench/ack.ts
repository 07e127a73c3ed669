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
 * the first BENCH_PRESSES (1000) pages are acknowledged the moment they reach the fake, while
 * the storm goes on.
 *   ack_to_state = press sent → the alert is ACKNOWLEDGED over gRPC: one GetAlert, asked when
 *                  the projector announces (NOTIFY) that the alerts projection passed the
 *                  acknowledgement's ALERTS sequence (no polling interval in the figure);
 *   ack_to_message_updated = press sent → the fake receives the chat.update showing it.
 * One JSON line on stdout at the end; progress and the services' warnings on stderr.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import getPort from 'get-port';
import pg from 'pg';
import { pino } from 'pino';
import { Agent, fetch as httpFetch } from 'undici';
import { credentials } from '@grpc/grpc-js';
import { alertingV1, CONSUMERS, decodeEvent, STREAMS, type SlackAlertTarget } from '@oncall/contracts';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connectNats, ensureTopology, type Logger } from '@oncall/shared';
import { applyConfig } from '../infra/src/apply.js';
import { parseConfigFile } from '../infra/src/config-file.js';
import { migrate } from '../infra/src/migrate.js';
import { startNatsServer } from '../infra/src/nats-server.js';
import { ensureDatabase, startEmbeddedPostgres } from '../infra/src/postgres.js';
import { startUsersService } from '../infra/src/users-service.js';
import { startSlackFake, type SlackCall } from '../test/fakes/slack.js';
import { pressForm, signedPost, SIGNING_SECRET } from '../test/slack-setup.js';
import { percentile } from './load.js';
import { cpuMs, cpuSeconds, postgresPids, ROOT, rssMb, say, spawnService, stopProcess, until, whenReady } from './processes.js';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PRESSES = Number(process.env.BENCH_PRESSES ?? 1000);
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
  const dir = await mkdtemp(join(tmpdir(), 'oncall-bench-ack-'));
  await chmod(dir, 0o755);
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort() });
  const slack = await startSlackFake();
  const users = await startUsersService({ file: join(ROOT, 'examples/users.yaml'), port: 0, log });
  const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await getPort() });
  const services: Array<{ name: string; child: ChildProcess }> = [];
  const errors = { count: 0 };
  const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  const listener = new pg.Client({ connectionString: postgres.url('oncall') });
  let admin: Awaited<ReturnType<typeof connectNats>> | undefined;
  try {
    await ensureDatabase(postgres.url('postgres'), 'oncall');
    await migrate(postgres.url('oncall'), 'oncall');
    admin = await connectNats(nats.url, 'bench-admin', log);
    await ensureTopology(admin, { partitions: PARTITIONS, replicas: 1 }, log);
    await applyConfig(admin, parseConfigFile(CONFIG, 'bench-ack.yaml'));

    const ingestPort = await getPort();
    const grpcPort = await getPort();
    const ingestUrl = `http://127.0.0.1:${ingestPort}`;
    const common = {
      NATS_URL: nats.url,
      ONCALL_PARTITIONS: String(PARTITIONS),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      DATABASE_URL: postgres.url('oncall'),
      USER_SERVICE_URL: `127.0.0.1:${users.port}`,
    };
    const ready: Array<Promise<void>> = [];
    const start = async (name: string, entry: string, own: Record<string, string>) => {
      const child = spawnService(entry, { ...common, METRICS_PORT: String(await getPort()), ...own }, errors, undefined, { ipc: true });
      ready.push(whenReady(child, name));
      services.push({ name, child });
    };
    await start('projector', 'projector/src/main.ts', {});
    await start('query-api', 'query-api/src/main.ts', { GRPC_PORT: String(grpcPort), GRPC_HOST: '127.0.0.1' });
    await start('ingest', 'ingest/src/main.ts', {
      INGEST_PORT: String(ingestPort),
      INGEST_HOST: '127.0.0.1',
      INGEST_RATE_LIMIT_PER_SECOND: '0',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      ONCALL_PUBLIC_URL: ingestUrl,
    });
    await start('decider', 'ingest/src/decider-main.ts', {});
    await start('escalator', 'escalator/src/main.ts', { ESCALATOR_ID: 'bench' });
    await start('dispatcher', 'dispatcher/src/main.ts', {
      SLACK_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_MESSAGES_PER_MINUTE: '120000',
    });
    // Every service ready (as `oncall up` waits for them) before the storm: their start-up (tsx
    // compiling the sources) is neither in the CPU figures nor competing with the storm.
    await Promise.all(ready);
    await until(
      async () =>
        httpFetch(`${ingestUrl}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
      'ingest',
    );

    const pressedAt = new Map<string, number>();
    const toState = new Map<string, number>();
    const toMessage = new Map<string, number>();
    let pressErrors = 0;

    // State over gRPC: once the projector announces (NOTIFY) that the alerts projection passed an
    // acknowledgement's ALERTS sequence, one GetAlert of that alert; the figure is when it answers.
    const client = new alertingV1.AlertServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    const ackedAt = new Map<string, number>(); // alert id → ALERTS sequence of its AlertAcknowledged
    const follower = await (await jetstream(admin).consumers.get(STREAMS.alerts, { deliver_policy: DeliverPolicy.New })).consume();
    void (async () => {
      for await (const m of follower) {
        const e = decodeEvent(m.data, { trusted: true });
        if (e.type === 'AlertAcknowledged' && pressedAt.has(e.data.alertId)) ackedAt.set(e.data.alertId, m.seq);
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
      httpFetch(req.url, { ...(req.init as Parameters<typeof httpFetch>[1]), dispatcher: agent }).then(
        async (r) => {
          await r.text();
          if (r.status !== 200) pressErrors += 1;
        },
        () => (pressErrors += 1),
      );
    };
    slack.calls.push = (call: SlackCall) => {
      const blocks = (call.args.blocks ?? []) as Blocks;
      const t = buttonTarget(blocks);
      if (t === undefined) return;
      if (call.method === 'chat.postMessage' && pressedAt.size < PRESSES) press({ alertId: t.a, serviceId: t.s, fingerprint: t.f });
      else if (call.method === 'chat.update') {
        const context = blocks.find((b) => b.type === 'context')?.elements?.[0]?.text ?? '';
        const at = pressedAt.get(t.a);
        if (at !== undefined && context.startsWith('Acknowledged') && !toMessage.has(t.a)) toMessage.set(t.a, now() - at);
      }
    };

    say(`storm: ${RATE * SECONDS} alerts at ${RATE}/s; the first ${PRESSES} pages acknowledged from Slack as they arrive`);
    const cpu0 = await Promise.all(services.map((s) => cpuMs(s.child.pid!)));
    // nats-server and PostgreSQL (postmaster, backends, reaped children) are in the CPU bill too.
    const servers = async () => ({
      'nats-server': await cpuMs(nats.process.pid!),
      postgres: (await cpuSeconds(await postgresPids(join(dir, 'pg')))) * 1000,
    });
    const servers0 = await servers();
    const peakRss: Record<string, number> = {};
    const sampler = setInterval(() => {
      for (const s of services)
        void rssMb(s.child.pid!).then(
          (mb) => (peakRss[s.name] = Math.max(peakRss[s.name] ?? 0, mb)),
          () => undefined,
        );
    }, 250);
    const started = performance.now();
    const total = RATE * SECONDS;
    let failed = 0;
    await Promise.all(
      Array.from({ length: 32 }, async (_, lane) => {
        for (let n = lane; n < total; n += 32) {
          const wait = started + (n * 1000) / RATE - performance.now();
          if (wait > 0) await sleep(wait);
          const res = await httpFetch(`${ingestUrl}/api/v1/webhook/generic`, {
            dispatcher: agent,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
            body: JSON.stringify({ summary: `storm #${n}`, severity: 'critical', dedup_key: `storm-${n}` }),
          }).catch(() => null);
          await res?.text();
          if (res?.status !== 202) failed++;
        }
      }),
    );
    const expected = Math.min(PRESSES, total);
    await until(async () => toState.size >= expected && toMessage.size >= expected, 60_000, 'every press to show').catch(() =>
      say('gave up waiting for every press after 60 s'),
    );
    clearInterval(sampler);
    const cpu1 = await Promise.all(services.map((s) => cpuMs(s.child.pid!)));
    const servers1 = await servers();
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
        state_missing: pressedAt.size - state.length,
        messages_not_updated: pressedAt.size - message.length,
        press_errors: pressErrors,
        alerts: total,
        alerts_per_sec: RATE,
        failed_requests: failed,
        cpu_ms_per_alert: Object.fromEntries<number>([
          ...services.map((s, i): [string, number] => [s.name, Number(((cpu1[i]! - cpu0[i]!) / total).toFixed(2))]),
          ...(['nats-server', 'postgres'] as const).map((k): [string, number] => [
            k,
            Number(((servers1[k] - servers0[k]) / total).toFixed(2)),
          ]),
        ]),
        rss_mb: Object.fromEntries(Object.entries(peakRss).map(([k, v]) => [k, Math.round(v)])),
        error_logs: errors.count,
        cores: availableParallelism(),
      })}\n`,
    );
  } finally {
    await listener.end().catch(() => undefined);
    await Promise.all(services.map((s) => stopProcess(s.child)));
    await agent.close();
    await admin?.close();
    await users.close();
    await slack.close();
    await postgres.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
