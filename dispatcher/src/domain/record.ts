/**
 * The idempotency record of one delivery (KV `oncall-deliveries`, key = idempotency key): what
 * an earlier attempt, another replica or a process that crashed left behind.
 *   sending:<ms>               claimed at <ms> by a send in progress (or one that died mid-send)
 *   sent:<providerMessageId>   the provider accepted it
 *   failed:<delivery>:<reason> failed for good on the message's <delivery>-th delivery
 */
export type DeliveryRecord =
  | { state: 'sending'; since: number }
  | { state: 'sent'; providerMessageId: string | null }
  | { state: 'failed'; delivery: number; reason: string };

export function formatRecord(r: DeliveryRecord): string {
  switch (r.state) {
    case 'sending':
      return `sending:${r.since}`;
    case 'sent':
      return `sent:${r.providerMessageId ?? ''}`;
    case 'failed':
      return `failed:${r.delivery}:${r.reason}`;
  }
}

/** The record a KV value holds; anything unreadable counts as a claim from the distant past (taken over). */
export function parseRecord(value: string): DeliveryRecord {
  const colon = value.indexOf(':');
  const state = colon < 0 ? value : value.slice(0, colon);
  const rest = colon < 0 ? '' : value.slice(colon + 1);
  if (state === 'sent') return { state: 'sent', providerMessageId: rest === '' ? null : rest };
  if (state === 'failed') {
    const m = /^(\d+):(.*)$/.exec(rest);
    // Written before the delivery number was recorded: the reason alone, counted as the first delivery.
    return m ? { state: 'failed', delivery: Number(m[1]), reason: m[2]! } : { state: 'failed', delivery: 1, reason: rest };
  }
  const since = Number(rest);
  return { state: 'sending', since: state === 'sending' && Number.isFinite(since) && rest !== '' ? since : 0 };
}
