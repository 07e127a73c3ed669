import { credentials } from '@grpc/grpc-js';
import { CONSUMERS, STREAMS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { bearerToken, createApiToken, createReadModelPool, type UserDirectory } from '@oncall/shared';
import { applyConfig, parseConfigFile } from '@oncall/infra';
import { startDecider, startIngest } from '@oncall/ingest';
import { startProjector, waitForProjection } from '@oncall/projector';
import { startGrpcServer } from '@oncall/query-api';
import { amAlert, amPayload } from './fixtures.js';
import { createTestDatabase, prepareTopology, startTestNats, streamLastSeq, testLog, type TestNats } from './harness.js';

export const TEST_KEY = 'test-integration-key-0001';

export const OTHER_KEY = 'other-integration-key-0002';

const CONFIG = `
services:
  - id: checkout
    name: Checkout
    integrationKeys:
      - name: alertmanager
        key: ${TEST_KEY}
  - id: payroll
    name: Payroll
    integrationKeys:
      - name: cron
        key: ${OTHER_KEY}
heartbeats:
  - id: checkout-canary
    name: Checkout canary
    service: checkout
    interval: 1m
`;

type Stop = { stop: () => Promise<void> };

/**
 * The whole pipeline in this process on a real nats-server and a real PostgreSQL database:
 * ingest (HTTP on a free port), the decider, the projector and query-api (gRPC on a free port).
 */
export async function startTestPipeline(
  opts: { partitions?: number; rateLimitPerSecond?: number; actionSecrets?: readonly string[]; users?: UserDirectory } = {},
) {
  const nats: TestNats = await startTestNats();
  const db = await createTestDatabase();
  const admin = await nats.connect('admin');
  const partitions = await prepareTopology(admin, opts.partitions ?? 4);
  await applyConfig(admin, parseConfigFile(CONFIG, 'test.yaml'));
  // Created before query-api starts: its first read of CONFIG holds it.
  const { token } = await createApiToken(admin, { name: 'test-admin', scopes: ['admin'], userId: null, expiresAt: null });
  /** Client options sending the admin token. */
  const clientOptions = bearerToken(token);
  const pool = await createReadModelPool(db.url, db.schema);

  let projector: Stop | undefined = await startProjector({ nc: await nats.connect('projector'), pool, log: testLog });
  const decider = await startDecider({ nc: await nats.connect('decider'), partitions, log: testLog });
  const grpc = await startGrpcServer({
    pool,
    port: 0,
    host: '127.0.0.1',
    log: testLog,
    nc: await nats.connect('query-api'),
    partitions,
    databaseUrl: db.url,
    schema: db.schema,
    ...(opts.users && { users: opts.users }),
    reflection: true,
  });
  const ingestNc = await nats.connect('ingest');
  const ingest = await startIngest({
    nc: ingestNc,
    partitions,
    port: 0,
    host: '127.0.0.1',
    bodyLimitBytes: 1024 * 1024,
    publishTimeoutMs: 1000,
    rateLimitPerSecond: opts.rateLimitPerSecond ?? 0,
    ...(opts.actionSecrets && { actionSecrets: opts.actionSecrets }),
    log: testLog,
  });
  const client = new alertingV1.AlertServiceClient(`127.0.0.1:${grpc.port}`, credentials.createInsecure(), clientOptions);

  const postAlertmanager = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` }) =>
    fetch(`${ingest.url}/api/v1/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const alertsApplied = (seq: number) => waitForProjection(db.url, db.schema, CONSUMERS.projectorAlerts, seq);
  const listAlerts = async (req: Partial<alertingV1.ListAlertsRequest> = {}): Promise<alertingV1.Alert[]> => {
    const out: alertingV1.Alert[] = [];
    for await (const a of client.listAlerts(alertingV1.ListAlertsRequest.fromPartial(req)) as AsyncIterable<alertingV1.Alert>) out.push(a);
    return out;
  };

  return {
    nats,
    admin,
    db,
    pool,
    partitions,
    client,
    token,
    clientOptions,
    grpcAddress: `127.0.0.1:${grpc.port}`,
    ingestUrl: ingest.url,
    ingestNc,
    /** POSTs an Alertmanager webhook body with the test key. */
    postAlertmanager,
    /** POSTs a JSON body to any ingest path with the test key. */
    post: (path: string, body: string, headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` }) =>
      fetch(`${ingest.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }),
    /** Waits until the alerts projection has applied ALERTS sequence `seq`. */
    alertsApplied,
    /** Posts one Alertmanager alert named `name` (with `labels` added) and waits until the alerts projection has it; its id. */
    openAlert: async (name: string, labels: Record<string, string> = {}): Promise<string> => {
      const before = await streamLastSeq(admin, STREAMS.alerts);
      const alert = amAlert(name);
      const res = await postAlertmanager(amPayload([{ ...alert, labels: { ...alert.labels, ...labels } }]));
      if (res.status !== 202) throw new Error(`the webhook answered ${res.status}: ${await res.text()}`);
      await alertsApplied(before + 1);
      return (await listAlerts()).find((a) => a.summary === `${name} is down`)!.id;
    },
    listAlerts,
    getAlert: (id: string) =>
      new Promise<alertingV1.Alert>((resolve, reject) => client.getAlert({ id }, (err, a) => (err ? reject(err) : resolve(a)))),
    stopProjector: async () => {
      await projector?.stop();
      projector = undefined;
    },
    stop: async () => {
      client.close();
      await ingest.stop();
      await grpc.stop();
      await decider.stop();
      await projector?.stop();
      await pool.end();
      await nats.stop();
    },
  };
}
export type TestPipeline = Awaited<ReturnType<typeof startTestPipeline>>;
