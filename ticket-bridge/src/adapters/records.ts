import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { TicketState } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import type { LastSet } from '../domain/rules.js';
import type { TicketRef } from '../providers/types.js';

/** The KV bucket of the bridge: claims, tickets, the ticket → alert index, poll cursors and push-stream replay ids. */
export const TICKET_BUCKET = 'oncall-tickets';

/** One alert's ticket at one provider, as the bridge keeps it (`t.<providerId>.<alertId>`). */
export type TicketRecord =
  | Readonly<{ state: 'claimed'; owner: string; since: number; attempts: number }>
  | Readonly<{ state: 'failed'; since: number; attempts: number; permanent: boolean }>
  | Readonly<{
      state: 'created';
      serviceId: string;
      ticket: TicketRef;
      /** The state the bridge last moved the ticket to (echo detection). */
      lastSet: LastSet | null;
      /** Ids of the alert events already applied to the ticket (the last 20): a redelivered event changes nothing twice. */
      applied: readonly string[];
      /** Provider change ids already applied (the last CHANGES_KEPT; absent in records written before): a redelivered webhook or replayed event appends nothing. */
      changes?: readonly string[];
      /** Failed calls while applying the alert event `cause` (absent when none): update attempts, counted apart from redeliveries of a full or paused lane. */
      updateFailures?: Readonly<{ cause: string; attempts: number }>;
    }>;

export type Created = Extract<TicketRecord, { state: 'created' }>;
/** The ticket an inbound call names, and its alert. */
export type TicketIndex = Readonly<{ alertId: string; serviceId: string; fingerprint: string; partition: number; providerId: string }>;

export type ClaimResult =
  | Readonly<{ kind: 'claimed'; revision: number; attempts: number; takenOver: boolean }>
  | Readonly<{ kind: 'created'; record: Created }>
  /** Another process is at it now. */
  | Readonly<{ kind: 'busy' }>;

/** Provider change ids kept per ticket: more than a provider redelivers or a Pub/Sub replay re-sends at once. */
export const CHANGES_KEPT = 50;

const recordKey = (providerId: string, alertId: string): string => `t.${providerId}.${alertId}`;
const indexKey = (providerId: string, ticketKey: string): string =>
  `k.${providerId}.${Buffer.from(ticketKey).toString('base64url') || '_'}`;
const cursorKey = (providerId: string): string => `cursor.${providerId}`;
const replayKey = (providerId: string): string => `replay.${providerId}`;
const encode = (v: unknown): string => JSON.stringify(v);

/**
 * The bridge's records in KV `oncall-tickets`, shared by every replica. A create is claimed by a
 * KV create (only one process wins); a claim older than `staleMs` belongs to a process that died
 * mid-call and is taken over by revision (compare and set), after which `find` tells whether the
 * dead process's create reached the provider. Every alert with a record is kept in memory from a
 * watch of the bucket, so alert events of alerts without tickets cost no round trip.
 */
export class TicketRecords {
  private readonly withTickets = new Map<string, Set<string>>();
  private watching: Promise<void> = Promise.resolve();
  private stopWatch: () => void = () => undefined;

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
  ) {}

  static async open(nc: NatsConnection, opts: { replicas: number; log: Logger }): Promise<TicketRecords> {
    const kv = await new Kvm(nc).create(TICKET_BUCKET, { history: 1, replicas: opts.replicas });
    const records = new TicketRecords(kv, opts.log);
    await records.watch();
    return records;
  }

  /** Follows `t.*.*` keys: which alerts have a ticket (or a claim) at which provider. Resolves once the existing ones are read. */
  private async watch(): Promise<void> {
    const iter = await this.kv.watch({ key: 't.>' });
    this.stopWatch = () => iter.stop();
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const apply = (e: KvWatchEntry) => {
      const [, providerId, alertId] = e.key.split('.');
      if (providerId === undefined || alertId === undefined) return;
      const set = this.withTickets.get(alertId) ?? new Set<string>();
      if (e.operation === 'PUT') {
        set.add(providerId);
        this.withTickets.set(alertId, set);
      } else {
        set.delete(providerId);
        if (set.size === 0) this.withTickets.delete(alertId);
      }
    };
    this.watching = (async () => {
      if (iter.getPending() === 0) ready();
      for await (const e of iter) {
        apply(e);
        if (e.isUpdate || iter.getPending() === 0) ready();
      }
    })();
    this.watching.catch((err: unknown) => this.log.error({ err }, 'the watch of ticket records ended'));
    await started;
  }

  stop(): void {
    this.stopWatch();
  }

  /** Providers at which the alert has a ticket or a claim (from memory). */
  providersOf(alertId: string): readonly string[] {
    return [...(this.withTickets.get(alertId) ?? [])];
  }

  async get(providerId: string, alertId: string): Promise<{ record: TicketRecord; revision: number } | null> {
    const e = await this.kv.get(recordKey(providerId, alertId));
    if (!e || e.operation !== 'PUT') return null;
    return { record: e.json<TicketRecord>(), revision: e.revision };
  }

  async claim(providerId: string, alertId: string, owner: string, now: number, staleMs: number): Promise<ClaimResult> {
    const key = recordKey(providerId, alertId);
    const claimed = (attempts: number): TicketRecord => ({ state: 'claimed', owner, since: now, attempts });
    try {
      return { kind: 'claimed', revision: await this.kv.create(key, encode(claimed(1))), attempts: 1, takenOver: false };
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
    }
    const e = await this.kv.get(key);
    if (!e) return { kind: 'busy' };
    let attempts = 1;
    let takenOver = false;
    if (e.operation === 'PUT') {
      const r = e.json<TicketRecord>();
      if (r.state === 'created') return { kind: 'created', record: r };
      if (r.state === 'claimed' && now - r.since < staleMs) return { kind: 'busy' };
      takenOver = r.state === 'claimed';
      attempts = r.state === 'failed' && r.permanent ? 1 : r.attempts + 1;
    }
    try {
      return { kind: 'claimed', revision: await this.kv.update(key, encode(claimed(attempts)), e.revision), attempts, takenOver };
    } catch (err) {
      if (isWrongRevision(err)) return { kind: 'busy' };
      throw err;
    }
  }

  /**
   * The create succeeded: the ticket → alert index (by key and by external id: providers report
   * either) first, then the record (whoever reads `created` finds the index). The ticket was
   * opened by us: its `open` reported back (a Salesforce CDC create event) is our echo.
   */
  async created(index: TicketIndex, ticket: TicketRef, now: number): Promise<Created> {
    const { providerId, alertId, serviceId } = index;
    await this.kv.put(indexKey(providerId, ticket.key), encode(index));
    if (ticket.externalId !== ticket.key) await this.kv.put(indexKey(providerId, ticket.externalId), encode(index));
    const record: Created = { state: 'created', serviceId, ticket, lastSet: { state: 'open', at: now }, applied: [], changes: [] };
    await this.kv.put(recordKey(providerId, alertId), encode(record));
    return record;
  }

  /** A ticket linked by a person: indexed, and recorded as the alert's ticket unless it has one there (true then). */
  async linked(index: TicketIndex, ticket: TicketRef): Promise<boolean> {
    await this.kv.put(indexKey(index.providerId, ticket.key), encode(index));
    const record: Created = { state: 'created', serviceId: index.serviceId, ticket, lastSet: null, applied: [], changes: [] };
    try {
      await this.kv.create(recordKey(index.providerId, index.alertId), encode(record));
      return true;
    } catch (err) {
      if (isWrongRevision(err)) return false;
      throw err;
    }
  }

  async failed(providerId: string, alertId: string, attempts: number, permanent: boolean, now: number): Promise<void> {
    const record: TicketRecord = { state: 'failed', since: now, attempts, permanent };
    await this.kv.put(recordKey(providerId, alertId), encode(record));
  }

  /** Records that alert event(s) `cause` were applied to the ticket (and the state it set), by compare and set. */
  async applied(
    providerId: string,
    alertId: string,
    cause: string | readonly string[],
    state: TicketState | null,
    now: number,
  ): Promise<void> {
    await this.update(providerId, alertId, (r) => ({
      ...r,
      lastSet: state === null ? r.lastSet : { state, at: now },
      applied: [...r.applied, ...(typeof cause === 'string' ? [cause] : cause)].slice(-20),
      updateFailures: undefined,
    }));
  }

  /** Counts a failed call applying the alert event `cause` to the ticket; returns the attempt it was (1-based). */
  async updateFailed(providerId: string, alertId: string, cause: string): Promise<number> {
    let attempts = 1;
    await this.update(providerId, alertId, (r) => {
      attempts = r.updateFailures?.cause === cause ? r.updateFailures.attempts + 1 : 1;
      return { ...r, updateFailures: { cause, attempts } };
    });
    return attempts;
  }

  /**
   * The state the bridge is about to move the ticket to, recorded before the call: the provider's
   * report of it (a webhook, a CDC event) can arrive before the call returns, and must be seen as
   * the echo. Safe if the call then fails: the bridge only sets a state the alert is already in.
   */
  async setting(providerId: string, alertId: string, state: TicketState, now: number): Promise<void> {
    await this.update(providerId, alertId, (r) => ({ ...r, lastSet: { state, at: now } }));
  }

  /** Records that the provider's change `changeId` was applied to the ticket, by compare and set. */
  async changeApplied(providerId: string, alertId: string, changeId: string): Promise<void> {
    await this.update(providerId, alertId, (r) => ({ ...r, changes: [...(r.changes ?? []), changeId].slice(-CHANGES_KEPT) }));
  }

  private async update(providerId: string, alertId: string, next: (r: Created) => Created): Promise<void> {
    for (;;) {
      const got = await this.get(providerId, alertId);
      if (!got || got.record.state !== 'created') return;
      try {
        await this.kv.update(recordKey(providerId, alertId), encode(next(got.record)), got.revision);
        return;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
      }
    }
  }

  async ticket(providerId: string, ticketKey: string): Promise<TicketIndex | null> {
    const e = await this.kv.get(indexKey(providerId, ticketKey));
    return e && e.operation === 'PUT' ? e.json<TicketIndex>() : null;
  }

  /** Where the provider's push stream resumes (kept base64), or null to start with new changes. */
  async replayId(providerId: string): Promise<Buffer | null> {
    const e = await this.kv.get(replayKey(providerId));
    return e && e.operation === 'PUT' ? Buffer.from(e.string(), 'base64') : null;
  }

  async saveReplayId(providerId: string, replayId: Buffer): Promise<void> {
    await this.kv.put(replayKey(providerId), replayId.toString('base64'));
  }

  async cursor(providerId: string): Promise<{ value: string | null; revision: number }> {
    const e = await this.kv.get(cursorKey(providerId));
    return e && e.operation === 'PUT' ? { value: e.string(), revision: e.revision } : { value: null, revision: e?.revision ?? 0 };
  }

  /** Moves the poll cursor on unless another replica moved it first (false then). */
  async moveCursor(providerId: string, value: string, revision: number): Promise<boolean> {
    try {
      if (revision === 0) await this.kv.create(cursorKey(providerId), value);
      else await this.kv.update(cursorKey(providerId), value, revision);
      return true;
    } catch (err) {
      if (isWrongRevision(err)) return false;
      throw err;
    }
  }
}

/** A KV create of a key that exists, or an update with a stale revision. */
const isWrongRevision = (err: unknown): boolean =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
