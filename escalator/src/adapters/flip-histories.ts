import type { FlipHistory } from '@oncall/shared';
import type { FlipEntry, RecoveredFlips } from '../domain/recovery.js';

/** How long a trigger counts for flapping. */
export const FLIP_MEMORY_MS = 24 * 3600_000;
const MAX_FLIPS_KEPT = 64;

/** One trigger and not flapping (by far the most common: most fingerprints trigger once) is kept as a bare number. */
type Entry = number | { triggers: readonly number[]; flappingSince: number | null };

export const NO_FLIP_HISTORY: FlipHistory = Object.freeze({ triggers: Object.freeze([]), flappingSince: null });

/**
 * The recent triggers of each fingerprint (flapping, docs/noc.md), kept small: every new alert
 * records one, so a storm of 100,000 alerts means 100,000 entries. Entries sit in a map per
 * service keyed by the fingerprint string the alert already holds (no key string of their own),
 * a single trigger is a number instead of an object with a list, and entries whose triggers have
 * all aged out are dropped by a sweep that runs once as many records as there are entries were
 * made since the last one (amortised O(1) per record).
 */
export class FlipHistories {
  private readonly services = new Map<string, Map<string, Entry>>();
  private count = 0;
  private recordsSinceSweep = 0;
  /** Records until the next sweep: as many as there were entries after the last one (at least 1000). */
  private sweepAfter = 1000;

  get size(): number {
    return this.count;
  }

  get(serviceId: string, fingerprint: string): FlipHistory {
    return this.find(serviceId, fingerprint) ?? NO_FLIP_HISTORY;
  }

  /** The fingerprint's history, or undefined when none is kept. */
  find(serviceId: string, fingerprint: string): FlipHistory | undefined {
    const entry = this.services.get(serviceId)?.get(fingerprint);
    if (entry === undefined) return undefined;
    return typeof entry === 'number' ? { triggers: [entry], flappingSince: null } : entry;
  }

  /** Every history kept (for a snapshot). */
  entries(): FlipEntry[] {
    const out: FlipEntry[] = [];
    for (const [serviceId, entries] of this.services)
      for (const [fingerprint, entry] of entries)
        out.push(
          typeof entry === 'number'
            ? [serviceId, fingerprint, [entry], null]
            : [serviceId, fingerprint, entry.triggers, entry.flappingSince],
        );
    return out;
  }

  /** A history as `entries` gave it (from a snapshot). */
  seed([serviceId, fingerprint, triggers, flappingSince]: FlipEntry): void {
    this.put(serviceId, fingerprint, triggers, flappingSince);
  }

  /** A new alert of the fingerprint triggered at `at`. */
  recordTrigger(serviceId: string, fingerprint: string, at: number): void {
    const h = this.get(serviceId, fingerprint);
    const triggers = [...h.triggers.filter((t) => t >= at - FLIP_MEMORY_MS), at].slice(-MAX_FLIPS_KEPT);
    this.put(serviceId, fingerprint, triggers, h.flappingSince);
    if (++this.recordsSinceSweep >= this.sweepAfter) this.sweep(at);
  }

  recordFlapping(serviceId: string, fingerprint: string, since: number | null): void {
    this.put(serviceId, fingerprint, this.get(serviceId, fingerprint).triggers, since);
  }

  private put(serviceId: string, fingerprint: string, triggers: readonly number[], flappingSince: number | null): void {
    let entries = this.services.get(serviceId);
    if (!entries) this.services.set(serviceId, (entries = new Map<string, Entry>()));
    if (!entries.has(fingerprint)) this.count++;
    entries.set(fingerprint, triggers.length === 1 && flappingSince === null ? triggers[0]! : { triggers, flappingSince });
  }

  /** Drops entries that say nothing any more: every trigger older than the memory, not flapping. */
  private sweep(now: number): void {
    this.recordsSinceSweep = 0;
    const from = now - FLIP_MEMORY_MS;
    for (const [serviceId, entries] of this.services) {
      for (const [fingerprint, entry] of entries) {
        const last =
          typeof entry === 'number' ? entry : entry.flappingSince === null ? entry.triggers[entry.triggers.length - 1] : undefined;
        if (last !== undefined && last < from) {
          entries.delete(fingerprint);
          this.count--;
        }
      }
      if (entries.size === 0) this.services.delete(serviceId);
    }
    this.sweepAfter = Math.max(1000, this.count);
  }
}

/** The histories a rebuild gives: the snapshot's, then the triggers and flapping changes of the log it folded, in order. */
export function restoredFlipHistories(flips: RecoveredFlips): FlipHistories {
  const histories = new FlipHistories();
  for (const entry of flips.seeded) histories.seed(entry);
  for (const [serviceId, fingerprint, at] of flips.triggers) histories.recordTrigger(serviceId, fingerprint, at);
  for (const [serviceId, fingerprint, since] of flips.flapping) histories.recordFlapping(serviceId, fingerprint, since);
  return histories;
}
