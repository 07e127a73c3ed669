import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { userV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import { readUsersFile, unverifiedChannels, type UserRecord } from './users-file.js';

const SERVICE_NAME = 'kneutral.user.v1.UserService';

type Method = 'getUsersByIDs' | 'getUserContactMethods' | 'validateUserExists';

/** A request the service refuses; `code` is the gRPC status it answers with. */
class UsersRequestError extends Error {
  override readonly name = 'UsersRequestError';
  constructor(
    readonly code: status.INVALID_ARGUMENT | status.NOT_FOUND,
    message: string,
  ) {
    super(message);
  }
}

/** The one place that maps errors to gRPC status codes. */
function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof UsersRequestError) return { code: err.code, details: err.message };
  return { code: status.INTERNAL, details: 'internal error' };
}

function requireId(id: string, field: string): string {
  if (id === '') throw new UsersRequestError(status.INVALID_ARGUMENT, `${field}: must not be empty`);
  return id;
}

export function toContactMethods(u: UserRecord): userV1.ContactMethods {
  return {
    email: u.email,
    slackId: u.slackId ?? '',
    phone: u.phone ?? '',
    teamsId: u.teamsId ?? '',
    userId: u.id,
    smsEnabled: u.sms,
    voiceEnabled: u.voice,
    unverifiedChannels: unverifiedChannels(u),
  };
}

function toUser(u: UserRecord): userV1.User {
  return { id: u.id, name: u.name, email: u.email, timezone: u.timezone, contactMethods: toContactMethods(u) };
}

export type RunningUsersService = {
  port: number;
  /** Reads the file again; on an error the users loaded before stay and the error is thrown. */
  reload: () => Promise<void>;
  /** Requests answered per method since start, errors included. */
  readonly requests: Readonly<Record<Method, number>>;
  close: () => Promise<void>;
};

/**
 * kneutral-api's `kneutral.user.v1.UserService` served from a users file (see docs/users.md), for
 * the embedded default and tests, with grpc health. `port: 0` picks a free port.
 */
export async function startUsersService(opts: { file: string; port: number; host?: string; log: Logger }): Promise<RunningUsersService> {
  const load = async () => new Map((await readUsersFile(opts.file)).users.map((u) => [u.id, u]));
  let users = await load();
  const requests: Record<Method, number> = { getUsersByIDs: 0, getUserContactMethods: 0, validateUserExists: 0 };

  /** Runs a unary handler: counts the call, answers its result or maps its error. */
  const unary =
    <Req, Res>(method: Method, handle: (req: Req) => Res) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      requests[method] += 1;
      let res: Res;
      try {
        res = handle(call.request);
      } catch (err) {
        if (!(err instanceof UsersRequestError)) opts.log.error({ err, method }, 'UserService request failed');
        callback(toServiceError(err), null);
        return;
      }
      callback(null, res);
    };

  const implementation: userV1.UserServiceServer = {
    getUsersByIDs: unary('getUsersByIDs', (req: userV1.GetUsersRequest): userV1.UsersResponse => {
      if (req.ids.length === 0) throw new UsersRequestError(status.INVALID_ARGUMENT, 'ids: must not be empty');
      const ids = [...new Set(req.ids.map((id, i) => requireId(id, `ids[${i}]`)))];
      const found = ids.flatMap((id) => users.get(id) ?? []);
      return { users: found.map(toUser), missingIds: ids.filter((id) => !users.has(id)) };
    }),
    getUserContactMethods: unary('getUserContactMethods', (req: userV1.UserID): userV1.ContactMethods => {
      const user = users.get(requireId(req.id, 'id'));
      if (!user) throw new UsersRequestError(status.NOT_FOUND, `user ${req.id} not found`);
      return toContactMethods(user);
    }),
    validateUserExists: unary('validateUserExists', (req: userV1.UserID): userV1.ValidationResponse => ({
      exists: users.has(requireId(req.id, 'id')),
      userId: req.id,
    })),
  };

  const server = new Server();
  server.addService(userV1.UserServiceService, implementation);
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  opts.log.info({ port, file: opts.file, users: users.size }, 'file-backed UserService listening');
  return {
    port,
    reload: async () => {
      users = await load();
      opts.log.info({ file: opts.file, users: users.size }, 'users file reloaded');
    },
    requests,
    close: async () => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(SERVICE_NAME, 'NOT_SERVING');
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
