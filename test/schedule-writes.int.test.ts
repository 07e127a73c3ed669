import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { STREAMS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { userDirectory, type UserDirectory } from '@oncall/shared';
import { apiActor, editConfig } from '@oncall/shared/config-file';
import { startGrpcServer } from '@oncall/query-api';
import { startUsersService, type RunningUsersService } from '../infra/src/users-service.js';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const { OverrideType, RotationType } = alertingV1;
const EXAMPLE_USERS = fileURLToPath(new URL('../examples/users.yaml', import.meta.url));
const HOUR = 3_600_000;

type Answer<Res> = { res: Res; headers: Metadata };
/** A unary call with request metadata; resolves with the answer and the response headers. */
function call<Req, Res>(
  method: (
    req: Req,
    md: Metadata,
    cb: (err: ServiceError | null, res: Res) => void,
  ) => { on: (e: 'metadata', f: (m: Metadata) => void) => unknown },
  req: Req,
  md = new Metadata(),
): Promise<Answer<Res>> {
  let headers = new Metadata();
  return new Promise((resolve, reject) => {
    const c = method(req, md, (err, res) => (err ? reject(err) : resolve({ res, headers })));
    c.on('metadata', (m) => (headers = m));
  });
}
async function failure(p: Promise<unknown>): Promise<ServiceError> {
  return p.then(
    () => expect.unreachable('the call succeeded'),
    (err: unknown) => err as ServiceError,
  );
}
const sequenceOf = (a: Answer<unknown>): number => {
  const [v] = a.headers.get('x-oncall-log-sequence');
  const m = /^config:(\d+)$/.exec(String(v));
  if (!m) throw new Error(`no x-oncall-log-sequence header: ${String(v)}`);
  return Number(m[1]);
};

describe('ScheduleService writes and read-your-writes (real NATS, PostgreSQL, projector)', () => {
  let p: TestPipeline;
  let usersService: RunningUsersService;
  let users: UserDirectory;
  let grpc: { port: number; stop: () => Promise<void> };
  let client: alertingV1.ScheduleServiceClient;
  let other: alertingV1.ScheduleServiceClient;

  const rpc = <K extends keyof alertingV1.ScheduleServiceClient>(c: alertingV1.ScheduleServiceClient, name: K) =>
    (c[name] as (...a: unknown[]) => never).bind(c) as never;
  const createSchedule = (r: Partial<alertingV1.CreateScheduleRequest>) =>
    call<alertingV1.CreateScheduleRequest, alertingV1.Schedule>(
      rpc(client, 'createSchedule'),
      alertingV1.CreateScheduleRequest.fromPartial(r),
    );
  const createOverride = (r: Partial<alertingV1.CreateOverrideRequest>) =>
    call<alertingV1.CreateOverrideRequest, alertingV1.Override>(
      rpc(client, 'createOverride'),
      alertingV1.CreateOverrideRequest.fromPartial(r),
    );
  const onCall = (scheduleId: string, c = client, md?: Metadata) =>
    call<alertingV1.OnCallRequest, alertingV1.OnCallResponse>(rpc(c, 'getOnCallUsers'), { scheduleId, at: undefined }, md);
  const getSchedule = (id: string) => call<alertingV1.GetScheduleRequest, alertingV1.Schedule>(rpc(client, 'getSchedule'), { id });
  const configSeq = () => streamLastSeq(p.admin, STREAMS.config);

  beforeAll(async () => {
    p = await startTestPipeline();
    usersService = await startUsersService({ file: EXAMPLE_USERS, port: 0, log: testLog });
    users = userDirectory(`127.0.0.1:${usersService.port}`);
    grpc = await startGrpcServer({
      pool: p.pool,
      port: 0,
      host: '127.0.0.1',
      log: testLog,
      nc: await p.nats.connect('query-api-writes'),
      partitions: p.partitions,
      databaseUrl: p.db.url,
      schema: p.db.schema,
      users,
    });
    client = new alertingV1.ScheduleServiceClient(`127.0.0.1:${grpc.port}`, credentials.createInsecure(), p.clientOptions);
    other = new alertingV1.ScheduleServiceClient(`127.0.0.1:${grpc.port}`, credentials.createInsecure(), p.clientOptions);
  });
  afterAll(async () => {
    client?.close();
    other?.close();
    await grpc?.stop();
    users?.close();
    await usersService?.close();
    await p?.stop();
  });

  const weekly = (members: string[]): Partial<alertingV1.Rotation> => ({
    name: 'Primary',
    rotationType: RotationType.ROTATION_TYPE_WEEKLY,
    startTime: new Date('2026-01-05T08:00:00Z'),
    memberUserIds: members,
  });

  it('CreateSchedule makes an id from the name and returns the log sequence it produced', async () => {
    const before = await configSeq();
    const created = await createSchedule({ name: 'NOC', timezone: 'Europe/Berlin', rotations: [weekly(['alice']) as alertingV1.Rotation] });
    expect(created.res).toMatchObject({ id: 'noc', name: 'NOC', timezone: 'Europe/Berlin' });
    expect(created.res.rotations.map((r) => [r.id, r.memberUserIds])).toStrictEqual([['primary', ['alice']]]);
    expect(sequenceOf(created)).toBe(before + 1);
    expect(await configSeq()).toBe(before + 1);
  });

  it('CreateOverride then GetOnCallUsers at once returns the override user (no sleep, no min sequence)', async () => {
    const now = Date.now();
    const created = await createOverride({
      scheduleId: 'noc',
      overrideType: OverrideType.OVERRIDE_TYPE_REPLACE,
      userId: 'carol',
      replacedUserId: 'alice',
      startTime: new Date(now - HOUR),
      endTime: new Date(now + HOUR),
    });
    expect(created.res).toMatchObject({ scheduleId: 'noc', userId: 'carol', replacedUserId: 'alice' });
    expect(created.res.id).toMatch(/^noc\/[0-9a-f]{16}$/);
    const { res } = await onCall('noc');
    expect(res.userIds).toStrictEqual(['carol']);
    // The read model agrees on the override's id.
    expect((await getSchedule('noc')).res.activeOverrides.map((o) => o.id)).toStrictEqual([created.res.id]);
  });

  it('another caller sees the write by passing x-oncall-min-sequence', async () => {
    const now = Date.now();
    const created = await createOverride({
      scheduleId: 'noc',
      overrideType: OverrideType.OVERRIDE_TYPE_ADD,
      userId: 'dave',
      startTime: new Date(now - HOUR),
      endTime: new Date(now + HOUR),
    });
    const md = new Metadata();
    md.set('x-oncall-min-sequence', `config:${sequenceOf(created)}`);
    expect((await onCall('noc', other, md)).res.userIds).toContain('dave');
    const bad = new Metadata();
    bad.set('x-oncall-min-sequence', 'seven');
    const err = await failure(onCall('noc', other, bad));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('invalid-field')).toStrictEqual(['x-oncall-min-sequence']);
  });

  it('DeleteOverride by id removes that override only', async () => {
    const { res } = await getSchedule('noc');
    const dave = res.activeOverrides.find((o) => o.userId === 'dave')!;
    const deleted = await call<alertingV1.DeleteOverrideRequest, alertingV1.DeleteOverrideResponse>(rpc(client, 'deleteOverride'), {
      scheduleId: 'noc',
      overrideId: dave.id,
    });
    expect(deleted.res).toStrictEqual({ deleted: true, logSequence: sequenceOf(deleted) });
    expect((await getSchedule('noc')).res.activeOverrides.map((o) => o.userId)).toStrictEqual(['carol']);
    const again = await failure(
      call(rpc(client, 'deleteOverride'), alertingV1.DeleteOverrideRequest.fromPartial({ scheduleId: 'noc', overrideId: dave.id })),
    );
    expect(again.code).toBe(status.NOT_FOUND);
  });

  it.each([
    ['an unknown user', { userId: 'mallory' }, 'user_id', /no user "mallory"/],
    ['an end before the start', { endTime: new Date(Date.now() - 2 * HOUR) }, 'end_time', /must be after start/],
    ['a replace without whom', { overrideType: OverrideType.OVERRIDE_TYPE_REPLACE }, 'replaced_user_id', /is required/],
    ['no override type', { overrideType: OverrideType.OVERRIDE_TYPE_UNSPECIFIED }, 'override_type', /ADD, REMOVE or REPLACE/],
  ])('CreateOverride with %s: INVALID_ARGUMENT naming the field, nothing appended', async (_what, change, field, message) => {
    const before = await configSeq();
    const err = await failure(
      createOverride({
        scheduleId: 'noc',
        overrideType: OverrideType.OVERRIDE_TYPE_ADD,
        userId: 'bob',
        startTime: new Date(Date.now() - HOUR),
        endTime: new Date(Date.now() + HOUR),
        ...change,
      }),
    );
    expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('invalid-field')).toStrictEqual([field]);
    expect(err.details).toMatch(message);
    expect(await configSeq()).toBe(before);
  });

  it('CreateOverride on an unknown schedule: NOT_FOUND', async () => {
    const err = await failure(
      createOverride({
        scheduleId: 'nope',
        overrideType: OverrideType.OVERRIDE_TYPE_ADD,
        userId: 'bob',
        startTime: new Date(),
        endTime: new Date(Date.now() + HOUR),
      }),
    );
    expect(err.code).toBe(status.NOT_FOUND);
  });

  it('UpdateSchedule with a bad time zone: INVALID_ARGUMENT timezone', async () => {
    const err = await failure(
      call(rpc(client, 'updateSchedule'), alertingV1.UpdateScheduleRequest.fromPartial({ id: 'noc', timezone: 'Mars/Base' })),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('invalid-field')).toStrictEqual(['timezone']);
    const renamed = await call<alertingV1.UpdateScheduleRequest, alertingV1.Schedule>(
      rpc(client, 'updateSchedule'),
      alertingV1.UpdateScheduleRequest.fromPartial({ id: 'noc', name: 'NOC Berlin' }),
    );
    expect(renamed.res).toMatchObject({ id: 'noc', name: 'NOC Berlin', timezone: 'Europe/Berlin' });
  });

  it('AddRotation, UpdateRotation and RemoveRotation', async () => {
    const added = await call<alertingV1.AddRotationRequest, alertingV1.Rotation>(
      rpc(client, 'addRotation'),
      alertingV1.AddRotationRequest.fromPartial({ scheduleId: 'noc', rotation: { ...weekly(['bob']), id: 'backup', name: 'Backup' } }),
    );
    expect(added.res).toMatchObject({ id: 'backup', memberUserIds: ['bob'], layer: 1 });
    const bad = await failure(
      call(
        rpc(client, 'updateRotation'),
        alertingV1.UpdateRotationRequest.fromPartial({ scheduleId: 'noc', rotation: { ...weekly(['bob', 'zed']), id: 'backup' } }),
      ),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.metadata.get('invalid-field')).toStrictEqual(['rotation.member_user_ids[1]']);
    const updated = await call<alertingV1.UpdateRotationRequest, alertingV1.Rotation>(
      rpc(client, 'updateRotation'),
      alertingV1.UpdateRotationRequest.fromPartial({ scheduleId: 'noc', rotation: { ...weekly(['bob', 'carol']), id: 'backup' } }),
    );
    expect(updated.res.memberUserIds).toStrictEqual(['bob', 'carol']);
    const removed = await call<alertingV1.RemoveRotationRequest, alertingV1.RemoveRotationResponse>(rpc(client, 'removeRotation'), {
      scheduleId: 'noc',
      rotationId: 'backup',
    });
    expect(removed.res).toStrictEqual({ removed: true, logSequence: sequenceOf(removed) });
    expect((await getSchedule('noc')).res.rotations.map((r) => r.id)).toStrictEqual(['primary']);
  });

  it('DeleteSchedule of a schedule a policy uses: FAILED_PRECONDITION; unused: deleted', async () => {
    await editConfig(
      p.admin,
      (f) => {
        f.escalationPolicies.push({
          id: 'uses-noc',
          name: 'Uses NOC',
          repeat: 0,
          steps: [{ delay: 0, targets: [{ type: 'schedule', scheduleId: 'noc' }], untilAllAck: false }],
        });
      },
      { actor: apiActor('test') },
    );
    const before = await configSeq();
    const err = await failure(call(rpc(client, 'deleteSchedule'), { id: 'noc' }));
    expect(err.code, err.details).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('escalationPolicies[0].steps[0].targets[0].schedule: no schedule "noc"');
    expect(await configSeq()).toBe(before);

    await createSchedule({ name: 'Spare', timezone: 'UTC', rotations: [weekly(['bob']) as alertingV1.Rotation] });
    const deleted = await call<alertingV1.DeleteScheduleRequest, alertingV1.DeleteScheduleResponse>(rpc(client, 'deleteSchedule'), {
      id: 'spare',
    });
    expect(deleted.res).toStrictEqual({ deleted: true, logSequence: await configSeq() });
    expect((await failure(getSchedule('spare'))).code).toBe(status.NOT_FOUND);
    expect((await getSchedule('noc')).res.id).toBe('noc');
  });

  it('a read waits for the projection: with the projector stopped, a sequence it never reaches is UNAVAILABLE within the deadline', async () => {
    await p.stopProjector();
    const created = await createOverride({
      scheduleId: 'noc',
      overrideType: OverrideType.OVERRIDE_TYPE_ADD,
      userId: 'bob',
      startTime: new Date(Date.now() - HOUR),
      endTime: new Date(Date.now() + HOUR),
    });
    const md = new Metadata();
    md.set('x-oncall-min-sequence', `config:${sequenceOf(created)}`);
    const started = Date.now();
    const err = await failure(
      new Promise((resolve, reject) =>
        other.getOnCallUsers({ scheduleId: 'noc', at: undefined }, md, { deadline: Date.now() + 1500 }, (e, r) =>
          e ? reject(e) : resolve(r),
        ),
      ),
    );
    expect(err.code, err.details).toBe(status.UNAVAILABLE);
    expect(err.details).toContain(`config:${sequenceOf(created)}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
