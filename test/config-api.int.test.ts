import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { STREAMS } from '@oncall/contracts';
import { alertingV1, notificationV1 } from '@oncall/contracts/grpc';
import { fileUserDirectory, type DirectoryUser } from '@oncall/shared';
import { editConfig } from '@oncall/shared/config-file';
import { startGrpcServer } from '@oncall/query-api';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const person = (id: string): DirectoryUser => ({ id, name: id, email: `${id}@example.com`, timezone: 'UTC', contacts: [] });
const [alice, bob] = [person('alice'), person('bob')];

const { TargetType } = alertingV1;

const ask = <Res>(call: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

async function collect<T>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of stream) out.push(x as T);
  return out;
}

const sms = (content: string): notificationV1.ChannelTemplate => ({
  channel: notificationV1.ChannelType.CHANNEL_SMS,
  content,
  format: '',
  metadata: {},
});
const step = (over: Partial<alertingV1.EscalationStep> = {}): alertingV1.EscalationStep => ({
  stepNumber: 0,
  delay: { seconds: 300, nanos: 0 },
  targets: [{ targetType: TargetType.TARGET_TYPE_USER, targetId: 'alice' }],
  pageUntilAllAcknowledged: false,
  ...over,
});

/**
 * Escalation policies and templates written through the gRPC API as configuration (the checks of
 * `oncall apply`, users against a directory), read back at once from the read model.
 */
describe('configuration writes of EscalationService and TemplateService', () => {
  let p: TestPipeline;
  let grpc: { port: number; stop: () => Promise<void> };
  let escalations: alertingV1.EscalationServiceClient;
  let templates: notificationV1.TemplateServiceClient;

  beforeAll(async () => {
    p = await startTestPipeline();
    // A query-api that knows its users (the pipeline's checks none).
    grpc = await startGrpcServer({
      pool: p.pool,
      port: 0,
      host: '127.0.0.1',
      log: testLog,
      nc: await p.nats.connect('query-api-users'),
      partitions: p.partitions,
      databaseUrl: p.db.url,
      schema: p.db.schema,
      // alice and bob exist; naming `outage` finds the directory down.
      users: {
        getUsers: async (ids) => {
          if (ids.includes('outage')) throw new Error('UserService did not answer');
          return fileUserDirectory([alice, bob]).getUsers(ids);
        },
        close: () => undefined,
      },
    });
    const address = `127.0.0.1:${grpc.port}`;
    escalations = new alertingV1.EscalationServiceClient(address, credentials.createInsecure(), p.clientOptions);
    templates = new notificationV1.TemplateServiceClient(address, credentials.createInsecure(), p.clientOptions);
  });
  afterAll(async () => {
    escalations?.close();
    templates?.close();
    await grpc?.stop();
    await p?.stop();
  });

  const configSeq = () => streamLastSeq(p.admin, STREAMS.config);
  const createPolicy = (r: Partial<alertingV1.CreateEscalationPolicyRequest>) =>
    ask<alertingV1.EscalationPolicy>((cb) =>
      escalations.createEscalationPolicy(alertingV1.CreateEscalationPolicyRequest.fromPartial(r), cb),
    );
  const getPolicy = (id: string) => ask<alertingV1.EscalationPolicy>((cb) => escalations.getEscalationPolicy({ id }, cb));
  const createTemplate = (r: Partial<notificationV1.CreateTemplateRequest>) =>
    ask<notificationV1.Template>((cb) => templates.createTemplate(notificationV1.CreateTemplateRequest.fromPartial(r), cb));
  const updateTemplate = (r: Partial<notificationV1.UpdateTemplateRequest>) =>
    ask<notificationV1.Template>((cb) => templates.updateTemplate(notificationV1.UpdateTemplateRequest.fromPartial(r), cb));

  /** The call fails INVALID_ARGUMENT naming `field`, and nothing was appended. */
  async function refused(call: () => Promise<unknown>, field: string, description: RegExp): Promise<void> {
    const before = await configSeq();
    const err = await failure(call());
    expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('invalid-field')).toEqual([field]);
    expect(err.details).toMatch(description);
    expect(await configSeq()).toBe(before);
  }

  /** Points the checkout service's routing at a policy and template (null: no routing). */
  async function route(policy: string | null, template: string | null): Promise<void> {
    await editConfig(
      p.admin,
      (file) => {
        const checkout = file.services.find((s) => s.id === 'checkout')!;
        checkout.routing =
          policy === null ? null : { escalationPolicy: policy, template, ackTimeout: null, rules: [], grouping: null, flapping: null };
      },
      { actor: 'test', prune: policy === null ? [{ section: 'routing', id: 'checkout' }] : [] },
    );
  }

  it('creates, reads at once, updates and deletes a policy; refuses one still routed to', async () => {
    const created = await createPolicy({
      name: 'NOC primary',
      repeatCount: 1,
      steps: [
        step({ targets: [{ targetType: TargetType.TARGET_TYPE_USER, targetId: 'alice' }] }),
        step({ delay: { seconds: 600, nanos: 0 }, targets: [{ targetType: TargetType.TARGET_TYPE_SLACK_CHANNEL, targetId: '#noc' }] }),
      ],
    });
    expect(created).toMatchObject({ id: 'noc-primary', name: 'NOC primary', repeatCount: 1 });
    expect(created.steps.map((s) => [s.stepNumber, s.delay?.seconds, s.targets[0]?.targetId])).toEqual([
      [1, 300, 'alice'],
      [2, 600, '#noc'],
    ]);
    expect(await getPolicy('noc-primary')).toEqual(created);
    const err = await failure(createPolicy({ name: 'NOC primary', steps: [step()] }));
    expect(err.code).toBe(status.ALREADY_EXISTS);

    const updated = await ask<alertingV1.EscalationPolicy>((cb) =>
      escalations.updateEscalationPolicy(
        {
          policy: {
            ...created,
            repeatCount: 0,
            steps: [step({ targets: [{ targetType: TargetType.TARGET_TYPE_USER, targetId: 'bob' }] })],
          },
        },
        cb,
      ),
    );
    expect(updated.steps.map((s) => s.targets[0]?.targetId)).toEqual(['bob']);
    expect(await getPolicy('noc-primary')).toEqual(updated);
    const listed = await collect<alertingV1.EscalationPolicy>(escalations.listEscalationPolicies({ pageSize: 0, pageToken: '' }));
    expect(listed.map((x) => x.id)).toContain('noc-primary');

    await route('noc-primary', null);
    const inUse = await failure(ask((cb) => escalations.deleteEscalationPolicy({ id: 'noc-primary' }, cb)));
    expect(inUse.code, inUse.details).toBe(status.FAILED_PRECONDITION);
    expect(inUse.details).toMatch(/service checkout/);
    await route(null, null);
    expect(await ask((cb) => escalations.deleteEscalationPolicy({ id: 'noc-primary' }, cb))).toEqual({ deleted: true });
    expect((await failure(getPolicy('noc-primary'))).code).toBe(status.NOT_FOUND);
    expect((await failure(ask((cb) => escalations.deleteEscalationPolicy({ id: 'noc-primary' }, cb)))).code).toBe(status.NOT_FOUND);
  });

  it('refuses bad policies with the field named and appends nothing', async () => {
    await refused(() => createPolicy({ name: 'Empty', steps: [] }), 'steps', /at least one step/);
    await refused(
      () =>
        createPolicy({ name: 'Stranger', steps: [step({ targets: [{ targetType: TargetType.TARGET_TYPE_USER, targetId: 'mallory' }] })] }),
      'steps[0].targets[0].target_id',
      /no user "mallory"/,
    );
    await refused(
      () =>
        createPolicy({ name: 'Nowhere', steps: [step({ targets: [{ targetType: TargetType.TARGET_TYPE_SCHEDULE, targetId: 'ghost' }] })] }),
      'steps[0].targets[0].target_id',
      /no schedule "ghost"/,
    );
    await refused(
      () => createPolicy({ name: 'Backwards', steps: [step({ delay: { seconds: -60, nanos: 0 } })] }),
      'steps[0].delay',
      /negative/,
    );
    await refused(
      () => createPolicy({ name: 'Odd', steps: [step({ targets: [{ targetType: 42 as alertingV1.TargetType, targetId: 'x' }] })] }),
      'steps[0].targets[0].target_type',
      /unknown target type 42/,
    );
    await refused(() => createPolicy({ name: 'Loop', repeatCount: 21, steps: [step()] }), 'repeat_count', /20/);
    const before = await configSeq();
    const down = await failure(
      createPolicy({ name: 'Outage', steps: [step({ targets: [{ targetType: TargetType.TARGET_TYPE_USER, targetId: 'outage' }] })] }),
    );
    expect(down.code, down.details).toBe(status.UNAVAILABLE);
    expect(await configSeq()).toBe(before);
    const missing = {
      id: 'missing',
      name: 'x',
      description: '',
      repeatCount: 0,
      steps: [step()],
      createdAt: undefined,
      updatedAt: undefined,
    };
    expect((await failure(ask((cb) => escalations.updateEscalationPolicy({ policy: missing }, cb)))).code).toBe(status.NOT_FOUND);
  });

  it('publishes a template version per content change, validates with the renderer, refuses deleting a routed template', async () => {
    const v1 = await createTemplate({
      name: 'NOC page',
      channels: { sms: sms('ALERT {{ alert.summary }}') },
      requiredVariables: ['alert.summary'],
    });
    expect(v1).toMatchObject({ id: 'noc-page', currentVersion: 1, requiredVariables: ['alert.summary'] });
    expect(await ask((cb) => templates.getTemplate({ id: 'noc-page' }, cb))).toEqual(v1);

    const same = await updateTemplate({
      id: 'noc-page',
      name: 'NOC page',
      channels: { sms: sms('ALERT {{ alert.summary }}') },
      requiredVariables: ['alert.summary'],
    });
    expect(same.currentVersion).toBe(1);
    const v2 = await updateTemplate({
      id: 'noc-page',
      name: 'NOC page',
      channels: { sms: sms('{{ alert.summary }} at {{ alert.labels.site }}') },
      requiredVariables: ['alert.summary'],
    });
    expect(v2.currentVersion).toBe(2);
    expect(v2.channels.sms?.content).toBe('{{ alert.summary }} at {{ alert.labels.site }}');
    const versions = await collect<notificationV1.TemplateVersion>(templates.listTemplateVersions({ templateId: 'noc-page' }));
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect((await failure(createTemplate({ name: 'NOC page', channels: { sms: sms('x') } }))).code).toBe(status.ALREADY_EXISTS);

    await refused(() => createTemplate({ name: 'Broken', channels: { sms: sms('{{ alert.summary') } }), 'channels[sms].content', /line 1/);
    await refused(
      () => updateTemplate({ id: 'noc-page', name: 'NOC page', channels: { sms: sms('x'.repeat(100_001)) } }),
      'channels[sms].content',
      /100000/,
    );
    await refused(() => createTemplate({ name: 'Mute', channels: {} }), 'channels', /at least one channel/);
    await refused(
      () =>
        createTemplate({ name: 'Mail', channels: { email: { ...sms('<p>hi</p>'), channel: notificationV1.ChannelType.CHANNEL_EMAIL } } }),
      'channels[email].metadata[subject]',
      /Required/,
    );
    expect((await failure(updateTemplate({ id: 'missing', name: 'x', channels: { sms: sms('x') } }))).code).toBe(status.NOT_FOUND);

    await createPolicy({ name: 'Pager', steps: [step()] });
    await route('pager', 'noc-page');
    const inUse = await failure(ask((cb) => templates.deleteTemplate({ id: 'noc-page' }, cb)));
    expect(inUse.code, inUse.details).toBe(status.FAILED_PRECONDITION);
    await route(null, null);
    expect(await ask((cb) => templates.deleteTemplate({ id: 'noc-page' }, cb))).toEqual({ deleted: true });
    expect((await failure(ask((cb) => templates.getTemplate({ id: 'noc-page' }, cb)))).code).toBe(status.NOT_FOUND);
    // Created again, it does not reuse the removed template's version numbers.
    expect((await createTemplate({ name: 'NOC page', channels: { sms: sms('again') } })).currentVersion).toBe(3);
  });
});
