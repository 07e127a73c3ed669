import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, makeClientConstructor, Server, ServerCredentials, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { userV1 } from '@oncall/contracts/grpc';
import { userDirectory, UserDirectoryError, UserDirectoryRejected, UserDirectoryUnavailable, type UserDirectory } from '@oncall/shared';
import { startUsersService, type RunningUsersService } from '../infra/src/users-service.js';
import { testLog } from './harness.js';

const EXAMPLE_USERS = fileURLToPath(new URL('../examples/users.yaml', import.meta.url));

/** Calls a unary method of a grpc-js client and resolves with its answer or its ServiceError. */
function unary<Req, Res>(call: (req: Req, cb: (err: ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => call(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('the call succeeded'),
    (err: unknown) => err,
  );

describe('file-backed UserService and the userDirectory client', () => {
  let running: RunningUsersService;
  let url: string;
  const directories: UserDirectory[] = [];
  const directory = (opts?: Parameters<typeof userDirectory>[1]) => {
    const d = userDirectory(url, opts);
    directories.push(d);
    return d;
  };

  beforeAll(async () => {
    running = await startUsersService({ file: EXAMPLE_USERS, port: 0, log: testLog });
    url = `127.0.0.1:${running.port}`;
  });
  afterAll(async () => {
    for (const d of directories) d.close();
    await running.close();
  });

  it('answers a batch in one call: users with their contact methods, and the ids that do not exist', async () => {
    const before = running.requests.getUsersByIDs;
    const { users, missing } = await directory().getUsers(['alice', 'nobody', 'bob', 'carol', 'dave', 'alice']);
    expect(running.requests.getUsersByIDs - before).toBe(1);
    expect(missing).toStrictEqual(['nobody']);
    expect([...users.keys()]).toStrictEqual(['alice', 'bob', 'carol', 'dave']);
    expect(users.get('alice')).toStrictEqual({
      id: 'alice',
      name: 'Alice Example',
      email: 'alice@example.com',
      timezone: 'Europe/Berlin',
      contacts: [
        { channel: 'email', address: 'alice@example.com' },
        { channel: 'slack', address: 'U0ALICE' },
        { channel: 'teams', address: 'alice-teams' },
        { channel: 'sms', address: '+15555550101' },
        { channel: 'voice', address: '+15555550101' },
      ],
    });
    expect(users.get('carol')?.contacts.map((c) => c.channel)).toStrictEqual(['email', 'slack', 'voice']);
    expect(users.get('dave')).toStrictEqual({
      id: 'dave',
      name: 'Dave Example',
      email: 'dave@example.com',
      timezone: 'UTC',
      contacts: [{ channel: 'email', address: 'dave@example.com' }],
    });
  });

  it('answers from its cache within the TTL, asks once for only the uncached ids, and again after the TTL', async () => {
    let now = 1_000_000;
    const users = directory({ ttlMs: 30_000, now: () => now });
    const calls = () => running.requests.getUsersByIDs;
    const start = calls();

    await users.getUsers(['alice', 'nobody']);
    expect(calls() - start).toBe(1);
    now += 29_999;
    const cached = await users.getUsers(['nobody', 'alice']);
    expect(calls() - start).toBe(1);
    expect([[...cached.users.keys()], cached.missing]).toStrictEqual([['alice'], ['nobody']]);

    // Only bob is new, and he is fetched alone, in one call.
    const mixed = await users.getUsers(['alice', 'bob']);
    expect(calls() - start).toBe(2);
    expect([...mixed.users.keys()]).toStrictEqual(['alice', 'bob']);

    now += 1;
    await users.getUsers(['alice']);
    expect(calls() - start).toBe(3);
  });

  it('shares one call between concurrent lookups of the same ids', async () => {
    const users = directory();
    const start = running.requests.getUsersByIDs;
    const [a, b] = await Promise.all([users.getUsers(['alice', 'bob']), users.getUsers(['bob', 'alice'])]);
    expect(running.requests.getUsersByIDs - start).toBe(1);
    expect([...a.users.keys()].sort()).toStrictEqual([...b.users.keys()].sort());
  });

  it('sends no request for no ids', async () => {
    const start = running.requests.getUsersByIDs;
    expect(await directory().getUsers([])).toStrictEqual({ users: new Map(), missing: [] });
    expect(running.requests.getUsersByIDs).toBe(start);
  });

  describe('the service itself', () => {
    let client: userV1.UserServiceClient;
    beforeAll(() => {
      client = new userV1.UserServiceClient(url, credentials.createInsecure());
    });
    afterAll(() => client.close());

    it('fills missing_ids', async () => {
      const res = await unary<userV1.GetUsersRequest, userV1.UsersResponse>(client.getUsersByIDs.bind(client), { ids: ['nobody', 'dave'] });
      expect([res.users.map((u) => u.id), res.missingIds]).toStrictEqual([['dave'], ['nobody']]);
    });

    it.each<[string, () => Promise<unknown>, number, string]>([
      [
        'GetUsersByIDs without ids',
        () => unary(client.getUsersByIDs.bind(client), { ids: [] }),
        status.INVALID_ARGUMENT,
        'ids: must not be empty',
      ],
      [
        'GetUsersByIDs with an empty id',
        () => unary(client.getUsersByIDs.bind(client), { ids: ['alice', ''] }),
        status.INVALID_ARGUMENT,
        'ids[1]: must not be empty',
      ],
      [
        'GetUserContactMethods of an unknown user',
        () => unary(client.getUserContactMethods.bind(client), { id: 'nobody' }),
        status.NOT_FOUND,
        'user nobody not found',
      ],
      [
        'GetUserContactMethods without an id',
        () => unary(client.getUserContactMethods.bind(client), { id: '' }),
        status.INVALID_ARGUMENT,
        'id: must not be empty',
      ],
      [
        'ValidateUserExists without an id',
        () => unary(client.validateUserExists.bind(client), { id: '' }),
        status.INVALID_ARGUMENT,
        'id: must not be empty',
      ],
    ])('refuses %s', async (_, call, code, details) => {
      expect(await errorOf(call())).toMatchObject({ code, details });
    });

    it('gives a user’s contact methods and says whether users exist', async () => {
      expect(await unary(client.getUserContactMethods.bind(client), { id: 'carol' })).toStrictEqual({
        email: 'carol@example.com',
        slackId: 'U0CAROL',
        phone: '+15555550103',
        teamsId: '',
        userId: 'carol',
        smsEnabled: false,
        voiceEnabled: true,
        // No `verified` list in the file: every method counts as verified.
        unverifiedChannels: [],
      });
      expect(await unary(client.validateUserExists.bind(client), { id: 'bob' })).toStrictEqual({ exists: true, userId: 'bob' });
      expect(await unary(client.validateUserExists.bind(client), { id: 'nobody' })).toStrictEqual({ exists: false, userId: 'nobody' });
    });

    it('reports SERVING on grpc health', async () => {
      const Health = makeClientConstructor(healthService, 'Health');
      type HealthClient = Client & {
        check: (req: { service: string }, cb: (err: ServiceError | null, res?: { status: string }) => void) => void;
      };
      const health = new Health(url, credentials.createInsecure()) as unknown as HealthClient;
      try {
        expect(await unary(health.check.bind(health), { service: 'kneutral.user.v1.UserService' })).toStrictEqual({ status: 'SERVING' });
      } finally {
        health.close();
      }
    });
  });

  it('reload() reads the file again and keeps the old users when the new file is bad', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oncall-users-'));
    const file = join(dir, 'users.yaml');
    await writeFile(file, 'users:\n  - { id: erin, name: Erin, email: erin@example.com }\n');
    const svc = await startUsersService({ file, port: 0, log: testLog });
    const users = userDirectory(`127.0.0.1:${svc.port}`, { ttlMs: 0 });
    try {
      expect((await users.getUsers(['erin', 'frank'])).missing).toStrictEqual(['frank']);
      await writeFile(file, 'users:\n  - { id: frank, name: Frank, email: frank@example.com }\n');
      await svc.reload();
      expect((await users.getUsers(['erin', 'frank'])).missing).toStrictEqual(['erin']);
      await writeFile(file, 'users:\n  - { id: frank, name: Frank }\n');
      await expect(svc.reload()).rejects.toThrow(`${file}: users[0].email: Required`);
      expect((await users.getUsers(['erin', 'frank'])).missing).toStrictEqual(['erin']);
    } finally {
      users.close();
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('throws a retryable UserDirectoryUnavailable when the service is down, and serves cached users meanwhile', async () => {
    const svc = await startUsersService({ file: EXAMPLE_USERS, port: 0, log: testLog });
    const users = userDirectory(`127.0.0.1:${svc.port}`);
    try {
      await users.getUsers(['alice']);
      await svc.close();
      const err = await errorOf(users.getUsers(['alice', 'bob']));
      expect(err).toBeInstanceOf(UserDirectoryUnavailable);
      expect(err).toMatchObject({ reason: 'unavailable', retryable: true });
      expect((await users.getUsers(['alice'])).users.has('alice')).toBe(true);
    } finally {
      users.close();
    }
  });

  it('throws UserDirectoryUnavailable when nothing listens', async () => {
    const users = userDirectory(`127.0.0.1:${await getPort()}`);
    try {
      expect(await errorOf(users.getUsers(['alice']))).toBeInstanceOf(UserDirectoryUnavailable);
    } finally {
      users.close();
    }
  });

  it('gives up after its deadline when the service does not answer', async () => {
    const server = new Server();
    server.addService(userV1.UserServiceService, {
      getUsersByIDs: () => undefined,
      getUserContactMethods: () => undefined,
      validateUserExists: () => undefined,
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const users = userDirectory(`127.0.0.1:${port}`, { deadlineMs: 200 });
    try {
      const started = Date.now();
      const err = await errorOf(users.getUsers(['alice']));
      expect(err).toBeInstanceOf(UserDirectoryUnavailable);
      expect((err as Error).message).toContain('DEADLINE_EXCEEDED');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      users.close();
      server.forceShutdown();
    }
  });

  it('throws a UserDirectoryRejected, not retryable, when the service refuses the request', async () => {
    const server = new Server();
    server.addService(userV1.UserServiceService, {});
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const users = userDirectory(`127.0.0.1:${port}`);
    try {
      const err = await errorOf(users.getUsers(['alice']));
      expect(err).toBeInstanceOf(UserDirectoryRejected);
      expect(err).toBeInstanceOf(UserDirectoryError);
      expect(err).toMatchObject({ reason: 'rejected', retryable: false });
    } finally {
      users.close();
      server.forceShutdown();
    }
  });
});
