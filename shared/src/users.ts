import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { type ContactMethod } from '@oncall/contracts';
import { userV1 } from '@oncall/contracts/grpc';

/** A user as the alerting side needs one: who, where in time, and how to reach them. */
export type DirectoryUser = Readonly<{
  id: string;
  name: string;
  email: string;
  /** IANA zone, e.g. `Europe/Berlin`. */
  timezone: string;
  /** In the order email, slack, teams, sms, voice; only the methods the user has. */
  contacts: readonly ContactMethod[];
}>;

export type DirectoryLookup = { users: Map<string, DirectoryUser>; missing: string[] };

/** Where users come from: kneutral-api's UserService, or a fixed list in tests. */
export interface UserDirectory {
  /** The users with these ids; ids that do not exist are listed in `missing`. No ids, no request. */
  getUsers(ids: readonly string[]): Promise<DirectoryLookup>;
  close(): void;
}

export type UserDirectoryErrorReason = 'unavailable' | 'rejected';

/** Base of the directory's errors; callers use `instanceof` and `retryable`, never the message. */
export class UserDirectoryError extends Error {
  override readonly name: string = 'UserDirectoryError';
  constructor(
    readonly reason: UserDirectoryErrorReason,
    readonly retryable: boolean,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The service did not answer in time or at all, or failed on its side: try again later. */
export class UserDirectoryUnavailable extends UserDirectoryError {
  override readonly name = 'UserDirectoryUnavailable';
  constructor(message: string, options?: ErrorOptions) {
    super('unavailable', true, message, options);
  }
}

/** The service refused the request (bad argument, permissions, unimplemented): retrying will not help. */
export class UserDirectoryRejected extends UserDirectoryError {
  override readonly name = 'UserDirectoryRejected';
  constructor(message: string, options?: ErrorOptions) {
    super('rejected', false, message, options);
  }
}

const TRANSIENT = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
  status.CANCELLED,
]);

/** The one place that classifies gRPC failures of UserService. */
function classify(err: ServiceError, url: string): UserDirectoryError {
  const what = `UserService at ${url}: ${status[err.code] ?? err.code}: ${err.details}`;
  return TRANSIENT.has(err.code) ? new UserDirectoryUnavailable(what, { cause: err }) : new UserDirectoryRejected(what, { cause: err });
}

/**
 * The proto's ContactMethods as our list: empty fields are absent, a phone gives sms and/or voice.
 * A method listed in `unverified_channels` is marked `verified: false`; the others carry no mark
 * (kneutral-api does not report verification: docs/notification-rules.md).
 */
export function toContacts(cm: userV1.ContactMethods | undefined): ContactMethod[] {
  if (!cm) return [];
  const contacts: ContactMethod[] = [];
  const unverified = new Set(cm.unverifiedChannels ?? []);
  const add = (channel: ContactMethod['channel'], address: string) =>
    contacts.push(unverified.has(channel) ? { channel, address, verified: false } : { channel, address });
  if (cm.email) add('email', cm.email);
  if (cm.slackId) add('slack', cm.slackId);
  if (cm.teamsId) add('teams', cm.teamsId);
  if (cm.phone && cm.smsEnabled) add('sms', cm.phone);
  if (cm.phone && cm.voiceEnabled) add('voice', cm.phone);
  return contacts;
}

export type UserDirectoryOptions = {
  /** How long an answer (a user, or that an id does not exist) is reused. Default 30 s; 0 disables the cache. */
  ttlMs?: number;
  /** Deadline of each call. Default 2 s. */
  deadlineMs?: number;
  /** The clock of the cache, for tests. */
  now?: () => number;
};

type Entry = { user: DirectoryUser | undefined; expiresAt: number };

class GrpcUserDirectoryImpl implements UserDirectory {
  private readonly client: userV1.UserServiceClient;
  private readonly cache = new Map<string, Entry>();
  /** Ids whose lookup is on the wire, so concurrent callers share one request. */
  private readonly inFlight = new Map<string, Promise<Entry>>();
  private readonly ttlMs: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;

  constructor(
    private readonly url: string,
    opts: UserDirectoryOptions,
  ) {
    this.client = new userV1.UserServiceClient(url, credentials.createInsecure());
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.deadlineMs = opts.deadlineMs ?? 2_000;
    this.now = opts.now ?? Date.now;
  }

  async getUsers(ids: readonly string[]): Promise<DirectoryLookup> {
    const wanted = [...new Set(ids)];
    const now = this.now();
    const known = new Map<string, Entry>();
    const toFetch: string[] = [];
    for (const id of wanted) {
      const cached = this.cache.get(id);
      if (cached && cached.expiresAt > now) known.set(id, cached);
      else if (!this.inFlight.has(id)) toFetch.push(id);
    }
    if (toFetch.length > 0) this.fetch(toFetch);
    const pending = wanted.filter((id) => !known.has(id));
    const settled = await Promise.all(
      pending.map((id) => this.inFlight.get(id) ?? Promise.reject(new Error(`unreachable: no lookup for ${id}`))),
    );
    pending.forEach((id, i) => known.set(id, settled[i]!));

    const result: DirectoryLookup = { users: new Map(), missing: [] };
    for (const id of wanted) {
      const user = known.get(id)?.user;
      if (user) result.users.set(id, user);
      else result.missing.push(id);
    }
    return result;
  }

  /** One GetUsersByIDs for `ids`; registers a promise per id in `inFlight` until it settles. */
  private fetch(ids: string[]): void {
    const batch = this.call(ids).then((res) => {
      const expiresAt = this.now() + this.ttlMs;
      const byId = new Map(res.users.filter((u) => ids.includes(u.id)).map((u) => [u.id, u]));
      const entries = new Map<string, Entry>();
      for (const id of ids) {
        const u = byId.get(id);
        // An id the answer neither returns nor lists as missing is treated as missing.
        const user = u && { id: u.id, name: u.name, email: u.email, timezone: u.timezone || 'UTC', contacts: toContacts(u.contactMethods) };
        const entry = { user, expiresAt };
        entries.set(id, entry);
        if (this.ttlMs > 0) this.cache.set(id, entry);
      }
      return entries;
    });
    for (const id of ids) {
      const one = batch.then((entries) => entries.get(id)!);
      this.inFlight.set(id, one);
      const forget = () => {
        if (this.inFlight.get(id) === one) this.inFlight.delete(id);
      };
      one.then(forget, forget);
    }
  }

  private call(ids: string[]): Promise<userV1.UsersResponse> {
    return new Promise((resolve, reject) => {
      this.client.getUsersByIDs({ ids }, new Metadata(), { deadline: Date.now() + this.deadlineMs }, (err, res) => {
        if (err) reject(classify(err, this.url));
        else resolve(res);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/**
 * The client of kneutral-api's UserService at `url` (`host:port`, plaintext): a TTL cache, one
 * batched GetUsersByIDs for every id not cached, a deadline per call. Throws UserDirectoryError.
 */
export function userDirectory(url: string, opts: UserDirectoryOptions = {}): UserDirectory {
  return new GrpcUserDirectoryImpl(url, opts);
}

/** The ids among `ids` that the directory has: the `knownUsers` check of configuration files and API writes. */
export const knownUsersIn =
  (directory: UserDirectory) =>
  async (ids: readonly string[]): Promise<ReadonlySet<string>> =>
    new Set((await directory.getUsers(ids)).users.keys());

/** A directory over a fixed list, for pure tests. */
export function fileUserDirectory(users: readonly DirectoryUser[]): UserDirectory {
  const byId = new Map(users.map((u) => [u.id, u]));
  return {
    getUsers: async (ids) => {
      const result: DirectoryLookup = { users: new Map(), missing: [] };
      for (const id of new Set(ids)) {
        const user = byId.get(id);
        if (user) result.users.set(id, user);
        else result.missing.push(id);
      }
      return result;
    },
    close: () => undefined,
  };
}
