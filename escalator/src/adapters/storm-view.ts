import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import { stableUuid } from '@oncall/contracts';
import { flappingConfigured, inhibitorOf, sha256Hex, type ConfigState, type InhibitSource, type Logger } from '@oncall/shared';
import { IncidentNeeded, type IncidentEntry, type StormContext } from '../domain/escalation.js';
import { FlipHistories, NO_FLIP_HISTORY, restoredFlipHistories } from './flip-histories.js';
import type { FlipEntry, RecoveredFlips } from '../domain/recovery.js';
import type { IncidentMember } from './incident-commands.js';

/**
 * What the escalator replicas share about alerts across partitions (docs/noc.md), in the KV
 * bucket `oncall-storm`, watched by every replica into memory:
 *
 *   src.<alertId>                 a firing alert that is the source of inhibit rules
 *   grp.<sha256(groupKey)>        the open incident of a group key (created by its first alert: one wins),
 *                                 and who leads it (its first, until a takeover: a compare-and-set one alert wins)
 *   mem.<incidentId>.<alertId>    a firing alert that joined the incident (not its first)
 *
 * Each entry is written by the partition that owns the alert, from the alert's escalation state
 * (`sync`), so a rebuilt partition writes them again and removes the ones it no longer stands
 * behind. Changes that can release a held alert (a source gone, an incident's member or the
 * incident itself gone, an incident's lead resolved by its source or taken over) are told to the
 * listeners, which decide those alerts again.
 * Flip histories (flapping) are per fingerprint, and a fingerprint is one partition's: they stay
 * in memory.
 */
export const STORM_BUCKET = 'oncall-storm';

type SourceValue = InhibitSource & { partition: number };
type GroupValue = IncidentEntry & { groupKey: string; partition: number };
type MemberValue = { partition: number; serviceId: string; fingerprint: string };

export type StormChange =
  | Readonly<{ kind: 'source-gone'; alertId: string }>
  | Readonly<{ kind: 'member-gone'; incidentId: string }>
  /** Alerts joined the incident (told at most every MEMBERS_TOLD_EVERY_MS per incident). */
  | Readonly<{ kind: 'member-added'; incidentId: string }>
  | Readonly<{ kind: 'incident-gone'; incidentId: string }>
  /** The incident's lead was resolved by its source, or another alert took the incident over. */
  | Readonly<{ kind: 'lead-changed'; incidentId: string }>;

/** What the escalation of one alert stands behind in the bucket. */
export type StormFootprint = Readonly<{
  source: Omit<SourceValue, 'partition'> | null;
  member: Readonly<{ incidentId: string; serviceId: string; fingerprint: string }> | null;
  /** The incident it leads (opened or took over), while not resolved; `leadResolved`: its source resolved it. */
  opened: Readonly<{ incidentId: string; groupKey: string; leadResolved: boolean }> | null;
}>;

/** An incident's first alert is told of new alerts at most this often, so a storm edits its pages a few times, not once per alert. */
const MEMBERS_TOLD_EVERY_MS = 5_000;

const groupKeyOf = (groupKey: string): string => `grp.${sha256Hex(groupKey)}`;
const exists = (err: unknown): boolean =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

export class StormView {
  private readonly sources = new Map<string, SourceValue>();
  private readonly groups = new Map<string, GroupValue>();
  private readonly members = new Map<string, Map<string, MemberValue>>();
  /** Per partition: a partition's flip histories go into its snapshot and are replaced when it is rebuilt. */
  private readonly flipHistories = new Map<number, FlipHistories>();
  private readonly listeners = new Set<(change: StormChange) => void>();
  private readonly additions = new Map<string, ReturnType<typeof setTimeout>>();
  private contextMemo: { cfg: ConfigState; ctx: StormContext } | null = null;

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly watcher: QueuedIterator<KvWatchEntry>,
  ) {}

  /** Opens the bucket and returns once every entry in it is in memory. */
  static async open(nc: NatsConnection, log: Logger, replicas = 1): Promise<StormView> {
    const kv = await new Kvm(nc).create(STORM_BUCKET, { history: 1, replicas, maxValueSize: 64 * 1024 });
    const last = (await kv.status()).streamInfo.state.last_seq;
    const watcher = await kv.watch({ key: '>' });
    const view = new StormView(kv, log.child({ part: 'storm' }), watcher);
    await view.follow(last);
    return view;
  }

  /** Reads the watch; resolves once entries up to revision `until` are applied (the rest keeps coming). */
  private follow(until: number): Promise<void> {
    return new Promise((ready, failed) => {
      let isReady = false;
      const done = () => {
        if (isReady) return;
        isReady = true;
        ready();
      };
      if (until === 0) done();
      void (async () => {
        try {
          for await (const e of this.watcher) {
            this.apply(e.key, e.operation === 'PUT' ? e.value : null);
            if (e.revision >= until) done();
          }
          done();
        } catch (err) {
          this.log.error({ err }, 'the storm view stopped following its bucket');
          if (!isReady) failed(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });
  }

  stop(): void {
    for (const timer of this.additions.values()) clearTimeout(timer);
    this.additions.clear();
    this.watcher.stop();
  }

  onChange(listener: (change: StormChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The storm part of an escalation context, on `cfg` (inhibit rules, sites). */
  context(cfg: ConfigState): StormContext {
    if (this.contextMemo?.cfg === cfg) return this.contextMemo.ctx;
    const ctx: StormContext = {
      inhibitor: (target) => (this.sources.size === 0 ? null : inhibitorOf(target, this.sources.values(), cfg.inhibitRules, cfg.sites)),
      incident: (groupKey, alertId) => {
        const entry = this.groups.get(groupKeyOf(groupKey));
        if (!entry) throw new IncidentNeeded(groupKey, alertId);
        return entry;
      },
      openIncident: (groupKey) => this.groups.get(groupKeyOf(groupKey)) ?? null,
      openMembers: (incidentId, firstAlertId) => {
        const members = this.members.get(incidentId);
        if (!members) return 0;
        return members.size - (members.has(firstAlertId) ? 1 : 0);
      },
      flips: (serviceId, fingerprint) => {
        for (const h of this.flipHistories.values()) {
          const found = h.find(serviceId, fingerprint);
          if (found) return found;
        }
        return NO_FLIP_HISTORY;
      },
    };
    this.contextMemo = { cfg, ctx };
    return ctx;
  }

  /**
   * Claims the open incident of `groupKey` for `alertId` (it becomes the first), or reads the
   * incident another alert claimed first; either way it is in memory afterwards.
   */
  async claim(groupKey: string, alertId: string, partition: number): Promise<void> {
    const key = groupKeyOf(groupKey);
    const value: GroupValue = { incidentId: stableUuid(`incident:${alertId}`), firstAlertId: alertId, groupKey, partition };
    try {
      await this.kv.create(key, JSON.stringify(value));
      this.apply(key, value);
      return;
    } catch (err) {
      if (!exists(err)) throw err;
    }
    const entry = await this.kv.get(key);
    if (entry && entry.operation === 'PUT') this.apply(key, entry.value);
    // Deleted in between (the incident resolved): claim again.
    else await this.claim(groupKey, alertId, partition);
  }

  /** The incident's alerts other than `firstAlertId` that still fire, as far as this replica knows. */
  membersOf(incidentId: string, firstAlertId: string): IncidentMember[] {
    const out: IncidentMember[] = [];
    for (const [alertId, m] of this.members.get(incidentId) ?? []) if (alertId !== firstAlertId) out.push({ alertId, ...m });
    return out;
  }

  /** Records a trigger of a fingerprint of `partition` (its alert's trigger time), before the new alert is decided. */
  recordTrigger(partition: number, serviceId: string, fingerprint: string, at: number): void {
    this.flipsOf(partition).recordTrigger(serviceId, fingerprint, at);
  }

  recordFlapping(partition: number, serviceId: string, fingerprint: string, since: number | null): void {
    this.flipsOf(partition).recordFlapping(serviceId, fingerprint, since);
  }

  /**
   * The flip histories of a partition's fingerprints, for its snapshot; none while the
   * configuration last decided with detects no flapping anywhere (a record per fingerprint of the
   * last 24 h would serve no decision: 200,000 cost ~0.25 s and 1.1 MB per save).
   */
  flipEntries(partition: number): FlipEntry[] {
    const cfg = this.contextMemo?.cfg;
    if (cfg && !flappingConfigured(cfg)) return [];
    return this.flipHistories.get(partition)?.entries() ?? [];
  }

  /**
   * A rebuilt partition's flip histories, in place of what this process held for it: the
   * snapshot's, then the triggers and flapping changes of the log the rebuild folded.
   */
  restoreFlips(partition: number, flips: RecoveredFlips): void {
    this.flipHistories.set(partition, restoredFlipHistories(flips));
  }

  private flipsOf(partition: number): FlipHistories {
    let histories = this.flipHistories.get(partition);
    if (!histories) this.flipHistories.set(partition, (histories = new FlipHistories()));
    return histories;
  }

  /**
   * Makes the bucket hold what one alert's escalation stands behind: `before` is what it stood
   * behind until now (null: nothing known, e.g. after a rebuild — then only puts are made).
   */
  async sync(alertId: string, partition: number, before: StormFootprint | null, after: StormFootprint): Promise<void> {
    const writes: Promise<unknown>[] = [];
    if (after.source && !this.sources.has(alertId)) writes.push(this.put(`src.${alertId}`, { ...after.source, partition }));
    if (!after.source && (before?.source || this.sources.get(alertId)?.partition === partition)) writes.push(this.remove(`src.${alertId}`));
    const was = before?.member?.incidentId;
    const is = after.member?.incidentId;
    if (was && was !== is) writes.push(this.remove(`mem.${was}.${alertId}`));
    if (is && !this.members.get(is)?.has(alertId))
      writes.push(
        this.put(`mem.${is}.${alertId}`, { partition, serviceId: after.member.serviceId, fingerprint: after.member.fingerprint }),
      );
    if (before?.opened && !after.opened) writes.push(this.endIncident(before.opened.groupKey, before.opened.incidentId, alertId));
    // An open incident whose entry is gone (lost with a bucket, say) is the key's again: created anew unless another took the key.
    if (after.opened && !before?.opened && !this.groups.has(groupKeyOf(after.opened.groupKey)))
      writes.push(this.reopen({ ...after.opened, firstAlertId: alertId, partition }));
    else if (after.opened?.leadResolved && !before?.opened?.leadResolved) writes.push(this.leadResolved(after.opened, alertId));
    await Promise.all(writes);
  }

  /**
   * Entries this partition wrote that no escalation stands behind any more (after a rebuild):
   * `live` says which alert ids still do, and for which incident.
   */
  async prune(partition: number, live: (alertId: string) => StormFootprint | undefined): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const [alertId, source] of this.sources)
      if (source.partition === partition && !live(alertId)?.source) writes.push(this.remove(`src.${alertId}`));
    for (const [incidentId, members] of this.members)
      for (const [alertId, member] of members)
        if (member.partition === partition && live(alertId)?.member?.incidentId !== incidentId)
          writes.push(this.remove(`mem.${incidentId}.${alertId}`));
    for (const group of this.groups.values()) {
      if (group.partition !== partition) continue;
      const lead = live(group.firstAlertId);
      // A member that won a takeover and crashed before recording it records it when decided again.
      const takingOver = group.from !== undefined && lead?.member?.incidentId === group.incidentId;
      if (lead?.opened?.incidentId !== group.incidentId && !takingOver)
        writes.push(this.endIncident(group.groupKey, group.incidentId, group.firstAlertId));
    }
    await Promise.all(writes);
  }

  private async reopen(value: GroupValue): Promise<void> {
    const key = groupKeyOf(value.groupKey);
    try {
      await this.kv.create(key, JSON.stringify(value));
      this.apply(key, value);
    } catch (err) {
      if (!exists(err)) throw err;
    }
  }

  /**
   * Takes the paging of an incident whose lead its source resolved over for `alertId`: a
   * compare-and-set on the entry, so of the firing alerts trying (on any replica) one wins. Either
   * way the entry as it is now is in memory afterwards (taken by another, or gone: nothing to take).
   */
  async takeOver(groupKey: string, incidentId: string, alertId: string, partition: number): Promise<void> {
    const key = groupKeyOf(groupKey);
    const known = this.groups.get(key);
    // Taken over already, or gone, as this replica knows: decided again on that.
    if (known?.incidentId !== incidentId || !known.leadResolved) return;
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') {
      this.apply(key, null);
      return;
    }
    const value = JSON.parse(entry.string()) as GroupValue;
    if (value.incidentId !== incidentId || !value.leadResolved) {
      this.apply(key, value);
      return;
    }
    const next: GroupValue = { incidentId, groupKey, firstAlertId: alertId, partition, from: value.firstAlertId };
    try {
      await this.kv.update(key, JSON.stringify(next), entry.revision);
      this.apply(key, next);
    } catch (err) {
      if (!exists(err)) throw err;
      // Another alert took it over (or the incident ended) in between: read what it is now.
      const now = await this.kv.get(key);
      this.apply(key, now?.operation === 'PUT' ? now.value : null);
    }
  }

  /** Marks the incident's entry: its lead was resolved by its source, so a firing alert of it may take over. */
  private async leadResolved(opened: NonNullable<StormFootprint['opened']>, alertId: string): Promise<void> {
    const key = groupKeyOf(opened.groupKey);
    if (this.groups.get(key)?.leadResolved) return;
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return;
    const value = JSON.parse(entry.string()) as GroupValue;
    if (value.incidentId !== opened.incidentId || value.firstAlertId !== alertId || value.leadResolved) return;
    const next: GroupValue = { ...value, leadResolved: true };
    try {
      await this.kv.update(key, JSON.stringify(next), entry.revision);
    } catch (err) {
      if (!exists(err)) throw err;
      await this.leadResolved(opened, alertId);
      return;
    }
    this.apply(key, next);
  }

  /** Removes the group key's entry if it is still this incident's and `alertId` leads it (a later incident, or a lead that took over, is left alone). */
  private async endIncident(groupKey: string, incidentId: string, alertId: string): Promise<void> {
    const key = groupKeyOf(groupKey);
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return;
    const value = JSON.parse(entry.string()) as GroupValue;
    if (value.incidentId !== incidentId || value.firstAlertId !== alertId) return;
    try {
      await this.kv.delete(key, { previousSeq: entry.revision });
    } catch (err) {
      if (!exists(err)) throw err;
      return;
    }
    this.apply(key, null);
  }

  private async put(key: string, value: unknown): Promise<void> {
    await this.kv.put(key, JSON.stringify(value));
    this.apply(key, value);
  }

  private async remove(key: string): Promise<void> {
    await this.kv.delete(key);
    this.apply(key, null);
  }

  /** An entry's value (bytes from the watch, an object from a local write) or its removal. */
  private apply(key: string, raw: unknown): void {
    const value: unknown = raw instanceof Uint8Array ? (raw.length === 0 ? null : JSON.parse(TEXT.decode(raw))) : raw;
    const [kind, a, b] = key.split('.');
    if (kind === 'src' && a) {
      if (value) this.sources.set(a, value as SourceValue);
      else if (this.sources.delete(a)) this.tell({ kind: 'source-gone', alertId: a });
    } else if (kind === 'grp') {
      const before = this.groups.get(key);
      if (value) {
        const group = value as GroupValue;
        this.groups.set(key, group);
        const leadChanged =
          before?.incidentId === group.incidentId &&
          (before.firstAlertId !== group.firstAlertId || (before.leadResolved ?? false) !== (group.leadResolved ?? false));
        if (leadChanged) this.tell({ kind: 'lead-changed', incidentId: group.incidentId });
      } else if (before && this.groups.delete(key)) this.tell({ kind: 'incident-gone', incidentId: before.incidentId });
    } else if (kind === 'mem' && a && b) {
      let members = this.members.get(a);
      if (value) {
        if (!members) this.members.set(a, (members = new Map<string, MemberValue>()));
        if (!members.has(b)) this.added(a);
        members.set(b, value as MemberValue);
      } else if (members?.delete(b)) {
        if (members.size === 0) this.members.delete(a);
        this.tell({ kind: 'member-gone', incidentId: a });
      }
    }
  }

  private added(incidentId: string): void {
    if (this.additions.has(incidentId)) return;
    const timer = setTimeout(() => {
      this.additions.delete(incidentId);
      this.tell({ kind: 'member-added', incidentId });
    }, MEMBERS_TOLD_EVERY_MS);
    timer.unref();
    this.additions.set(incidentId, timer);
  }

  private tell(change: StormChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

const TEXT = new TextDecoder();
