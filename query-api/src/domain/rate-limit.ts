/** Failed authentications allowed per client address within a window (fixed windows). */
export type FailureLimit = Readonly<{ max: number; windowMs: number }>;

/** One address's failures in its current window. */
export type Failures = Readonly<{ count: number; since: number }>;

/** The failures after one more at `now`: a window older than `windowMs` starts over. */
export function recordFailure(failures: Failures | undefined, now: number, limit: FailureLimit): Failures {
  if (!failures || now - failures.since >= limit.windowMs) return { count: 1, since: now };
  return { count: failures.count + 1, since: failures.since };
}

/** Whether the address is refused without checking its token: `max` failures in the current window. */
export function blocked(failures: Failures | undefined, now: number, limit: FailureLimit): boolean {
  return failures !== undefined && now - failures.since < limit.windowMs && failures.count >= limit.max;
}

/** The client address of a gRPC peer string (`ipv4:1.2.3.4:5678`, `[::1]:5678`, `1.2.3.4:5678`). */
export function peerAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (bracketed) return bracketed[1]!;
  const hostPort = /^([^:]+):\d+$/.exec(bare);
  return hostPort ? hostPort[1]! : bare;
}
