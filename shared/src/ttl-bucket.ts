import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * A NATS KV bucket of JSON values that expire after the bucket's TTL (created if missing, as the
 * other buckets are): for short-lived state several replicas share, e.g. the console's sessions.
 */
export class TtlBucket<T> {
  private constructor(private readonly kv: KV) {}

  static async open<T>(
    nc: NatsConnection,
    name: string,
    opts: { ttlMs: number; replicas?: number; maxValueSize?: number },
  ): Promise<TtlBucket<T>> {
    const kv = await new Kvm(nc).create(name, {
      history: 1,
      ttl: opts.ttlMs,
      replicas: opts.replicas ?? 1,
      maxValueSize: opts.maxValueSize ?? 4096,
    });
    return new TtlBucket<T>(kv);
  }

  async put(key: string, value: T): Promise<void> {
    await this.kv.put(key, JSON.stringify(value));
  }

  async get(key: string): Promise<T | null> {
    const entry = await this.kv.get(key);
    return entry?.operation === 'PUT' ? entry.json<T>() : null;
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
  }
}
