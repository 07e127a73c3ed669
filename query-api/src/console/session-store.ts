import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { sha256Hex, TtlBucket } from '@oncall/shared';
import { SESSION_TTL_MS, type SessionRecord } from './session.js';

/** The console's sessions (docs/console.md#sign-in): shared by replicas, kept across restarts, gone after 12 hours. */
export const CONSOLE_SESSION_BUCKET = 'oncall-console-sessions';

/**
 * Sessions by id in NATS KV. The key is the id's hash, so reading the bucket gives no session to
 * use; the cookie holds the id.
 */
export class SessionStore {
  private constructor(private readonly bucket: TtlBucket<SessionRecord>) {}

  static async open(nc: NatsConnection, opts: { replicas?: number } = {}): Promise<SessionStore> {
    return new SessionStore(
      await TtlBucket.open<SessionRecord>(nc, CONSOLE_SESSION_BUCKET, { ttlMs: SESSION_TTL_MS, replicas: opts.replicas ?? 1 }),
    );
  }

  /** A new random session id (256 bits, base64url). */
  static newId(): string {
    return randomBytes(32).toString('base64url');
  }

  async put(id: string, record: SessionRecord): Promise<void> {
    await this.bucket.put(keyOf(id), record);
  }

  async get(id: string): Promise<SessionRecord | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    return this.bucket.get(keyOf(id));
  }

  async delete(id: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return;
    await this.bucket.delete(keyOf(id));
  }
}

const keyOf = (id: string): string => `s.${sha256Hex(id)}`;
