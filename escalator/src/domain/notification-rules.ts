import type { ContactChannel, ContactMethod, EventData, NotificationRule } from '@oncall/contracts';

/**
 * Per-user notification rules, pure: which of a user's contact methods a notification uses, and
 * which rules come later. A step that pages a user carries out the rules due at once (delay 0)
 * in its first notification and records the later ones with their due times; each later rule is
 * its own notification when due, unless the user acknowledged, the alert was resolved or
 * stopped, or the step was left (the next step's users get their own rules).
 */

export type Skipped = NonNullable<EventData<'NotificationRequested'>['skipped']>[number];
export type RulesCarried = NonNullable<EventData<'NotificationRequested'>['rules']>;

/** A later rule of a paged user, waiting in its step. */
export type LaterRule = Readonly<{ key: string; index: number; channel: ContactChannel; at: number }>;

export type Chosen = { contacts: ContactMethod[]; skipped: Skipped[] };

/**
 * The contact methods of `channels` (all of the user's when null), in that order, without those
 * unverified while verification is required; what is left out is listed with the reason.
 */
export function chooseContacts(
  contacts: readonly ContactMethod[],
  channels: readonly ContactChannel[] | null,
  requireVerified: boolean,
): Chosen {
  const chosen: Chosen = { contacts: [], skipped: [] };
  const wanted = channels ?? [...new Set(contacts.map((c) => c.channel))];
  for (const channel of wanted) {
    const matching = contacts.filter((c) => c.channel === channel);
    if (matching.length === 0) chosen.skipped.push({ channel, address: '', reason: 'missing' });
    for (const c of matching) {
      if (chosen.contacts.some((d) => d.channel === c.channel && d.address === c.address)) continue;
      if (requireVerified && c.verified === false) chosen.skipped.push({ channel, address: c.address, reason: 'unverified' });
      else chosen.contacts.push(c);
    }
  }
  return chosen;
}

/** The rules due when a step pages the user at `now` (delay 0), and the later ones with their due times. */
export function firstPage(rules: readonly NotificationRule[], now: number): { channels: ContactChannel[]; carried: RulesCarried } {
  const channels: ContactChannel[] = [];
  const carried: RulesCarried = { indexes: [], later: [] };
  rules.forEach((r, index) => {
    if (r.delaySeconds === 0) {
      channels.push(r.channel);
      carried.indexes.push(index);
    } else carried.later.push({ index, channel: r.channel, at: new Date(now + r.delaySeconds * 1000).toISOString() });
  });
  return { channels, carried };
}

/** The channels a resolution notice uses: those of the user's preferred rules (the smallest delay). */
export function preferredChannels(rules: readonly NotificationRule[]): ContactChannel[] {
  const first = rules[0]?.delaySeconds;
  return rules.filter((r) => r.delaySeconds === first).map((r) => r.channel);
}

/** A step's waiting rules after a notification for `key` carried out `carried`. */
export function afterNotification(waiting: readonly LaterRule[], key: string, carried: RulesCarried): readonly LaterRule[] {
  const rest = waiting.filter((w) => w.key !== key || !carried.indexes.includes(w.index));
  if (carried.later.length === 0) return rest.length === waiting.length ? waiting : rest;
  return [...rest, ...carried.later.map((l) => ({ key, index: l.index, channel: l.channel, at: Date.parse(l.at) }))];
}

/** The earliest waiting rule that may still fire (its user has not acknowledged). */
export function nextRule(waiting: readonly LaterRule[], ackedKeys: readonly string[]): LaterRule | null {
  let next: LaterRule | null = null;
  for (const w of waiting) if (!ackedKeys.includes(w.key) && (next === null || w.at < next.at)) next = w;
  return next;
}
