import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { AppendFailed, type Clock, type Logger, type StreamAppender } from '@oncall/shared';
import { legacyRecordKey, recordKey } from '../domain/keys.js';
import { formatRecord, parseRecord, type DeliveryRecord } from '../domain/record.js';
import { ClaimLost, type Claim, type Records } from '../pipeline/index.js';

/** The KV bucket of delivery records: one per delivery, kept 7 days. */
export const DELIVERY_BUCKET = 'oncall-deliveries';
const TTL_MS = 7 * 24 * 3600_000;
/** Subjects of the bucket's entries; the only place they are spelled out. */
const SUBJECT_PREFIX = `$KV.${DELIVERY_BUCKET}.`;
/** Keys of older releases were two tokens (`<notificationId>.<channel>`); recordKey's are one. */
const LEGACY_SUBJECTS = `${SUBJECT_PREFIX}*.*`;
const LEGACY_CHECK_EVERY_MS = 3600_000;

const encoder = new TextEncoder();
const wrongLastSequence = (err: unknown): boolean =>
  (err instanceof AppendFailed && err.cause instanceof JetStreamApiError && err.cause.code === JetStreamApiCodes.StreamWrongLastSequence) ||
  (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence);

/**
 * The delivery records (KV `oncall-deliveries`) and every access to them: the idempotency
 * record of each delivery (domain/record.ts), keyed by `recordKey(idempotencyKey)`.
 *
 * Writes are single publishes through the StreamAppender, with an expected last subject
 * sequence where they compare and set (a claim is a create; a refresh and a take-over expect the
 * revision they read). Records written under the keys of older releases are honoured while the
 * bucket still holds any: a delivery claimed under its new key looks up its old key too, and a
 * settled record found there is copied to the new key.
 */
export class DeliveryRecords implements Records {
  private legacy = false;
  private legacyCheck: NodeJS.Timeout | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly appender: StreamAppender,
    private readonly clock: Clock,
    private readonly claimStaleMs: number,
    private readonly log: Logger,
  ) {}

  static async open(
    nc: NatsConnection,
    appender: StreamAppender,
    opts: { replicas: number; clock: Clock; claimStaleMs: number; log: Logger },
  ): Promise<DeliveryRecords> {
    const kv = await new Kvm(nc).create(DELIVERY_BUCKET, { history: 1, ttl: TTL_MS, replicas: opts.replicas });
    const records = new DeliveryRecords(nc, kv, appender, opts.clock, opts.claimStaleMs, opts.log);
    records.legacy = await holdsLegacyRecords(nc);
    if (records.legacy) records.watchLegacy();
    return records;
  }

  close(): void {
    clearInterval(this.legacyCheck);
  }

  /**
   * A create of the `sending` mark. When the key holds a record: a settled one, or a claim
   * refreshed less than `claimStaleMs` ago, is returned; a staler claim belongs to a process that
   * stopped mid-send and is taken over (that delivery is sent again: whether the provider got
   * the first send is unknowable); a released claim (a delete marker) is claimed again.
   */
  async claim(idempotencyKey: string): Promise<{ claimed: Claim; takenOver?: boolean } | { found: DeliveryRecord }> {
    const key = recordKey(idempotencyKey);
    const created = await this.write(key, this.sending(), 0);
    if (created !== null) return this.withLegacy(idempotencyKey, { key, revision: created });
    const entry = await this.kv.get(key);
    // Gone between the two reads (released and expired): someone is at it; try later.
    if (!entry) return { found: this.sending() };
    if (entry.operation === 'PUT') {
      const record = parseRecord(entry.string());
      if (record.state !== 'sending' || this.clock.now() - record.since < this.claimStaleMs) return { found: record };
    }
    const taken = await this.write(key, this.sending(), entry.revision);
    if (taken === null) return { found: this.sending() };
    if (entry.operation !== 'PUT') return this.withLegacy(idempotencyKey, { key, revision: taken });
    this.log.warn({ idempotencyKey }, 'took over a delivery claimed by a process that stopped mid-send');
    const claimed = await this.withLegacy(idempotencyKey, { key, revision: taken });
    return 'claimed' in claimed ? { ...claimed, takenOver: true } : claimed;
  }

  async refresh(claim: Claim): Promise<void> {
    const revision = await this.write(claim.key, this.sending(), claim.revision);
    if (revision === null) throw new ClaimLost(`${claim.key} is claimed by another process`);
    claim.revision = revision;
  }

  async settle(claim: Claim, record: DeliveryRecord): Promise<void> {
    await this.appender.append(SUBJECT_PREFIX + claim.key, encoder.encode(formatRecord(record)));
  }

  async release(claim: Claim): Promise<void> {
    try {
      await this.kv.delete(claim.key, { previousSeq: claim.revision });
    } catch (err) {
      if (!wrongLastSequence(err)) throw err;
    }
  }

  private sending(): DeliveryRecord {
    return { state: 'sending', since: this.clock.now() };
  }

  /** Writes `record` expecting the key's last revision (0: none); null when another write came first. */
  private async write(key: string, record: DeliveryRecord, expected: number): Promise<number | null> {
    try {
      const stored = await this.appender.append(SUBJECT_PREFIX + key, encoder.encode(formatRecord(record)), {
        expectLastSubjectSequence: expected,
      });
      return stored.seq;
    } catch (err) {
      if (wrongLastSequence(err)) return null;
      throw err;
    }
  }

  /** A claim, unless a release before recordKey left this delivery's record under its old key. */
  private async withLegacy(idempotencyKey: string, claim: Claim): Promise<{ claimed: Claim } | { found: DeliveryRecord }> {
    if (!this.legacy) return { claimed: claim };
    const entry = await this.kv.get(legacyRecordKey(idempotencyKey));
    if (!entry || entry.operation !== 'PUT') return { claimed: claim };
    const record = parseRecord(entry.string());
    if (record.state !== 'sending') {
      await this.settle(claim, record);
      return { found: record };
    }
    if (this.clock.now() - record.since >= this.claimStaleMs) return { claimed: claim };
    await this.release(claim);
    return { found: record };
  }

  /** Looks up old keys until the last record under one has expired. */
  private watchLegacy(): void {
    this.legacyCheck = setInterval(() => {
      holdsLegacyRecords(this.nc).then(
        (held) => {
          if (held) return;
          this.legacy = false;
          clearInterval(this.legacyCheck);
          this.log.info('no delivery records under old keys left; no longer looking them up');
        },
        () => undefined,
      );
    }, LEGACY_CHECK_EVERY_MS);
    this.legacyCheck.unref();
  }
}

/** Whether the bucket still holds a record under an old key (they expire with the bucket's TTL). */
async function holdsLegacyRecords(nc: NatsConnection): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.getMessage(`KV_${DELIVERY_BUCKET}`, { last_by_subj: LEGACY_SUBJECTS })) !== null;
}
