/**
 * When `oncall up` restarts a service process that exited on its own, and when it says that the
 * service keeps dying. Pure: time and randomness come in as data.
 */

export type RestartPolicy = Readonly<{
  /** Delay before the first restart; it doubles with every exit in a row. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A process that ran this long after it was ready starts the back-off over. */
  healthyAfterMs: number;
  /** This many exits within `windowMs` and the service keeps dying. */
  crashLimit: number;
  windowMs: number;
}>;

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  healthyAfterMs: 60_000,
  crashLimit: 5,
  windowMs: 60_000,
};

/** What the supervisor remembers of one service's exits. */
export type RestartState = Readonly<{
  /** Exits in a row without a healthy run between them. */
  streak: number;
  /** Times of the recent exits (within the policy's window). */
  exits: readonly number[];
  /** The "keeps dying" line was already given for this streak. */
  reported: boolean;
}>;

export const initialRestartState: RestartState = { streak: 0, exits: [], reported: false };

export type RestartDecision = Readonly<{
  state: RestartState;
  delayMs: number;
  /** The service keeps dying (crashLimit exits within the window). */
  keepsDying: boolean;
  /** True once per streak: the moment to say so. */
  report: boolean;
}>;

/**
 * Exponential back-off: initialDelayMs doubled per exit in a row, capped at maxDelayMs, then
 * "equal jitter" (between half and all of it) so that services dying together do not come back
 * together. `random` is in [0, 1).
 */
export function backoffMs(streak: number, random: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  const exponent = Math.max(0, streak - 1);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(exponent, 30));
  return Math.round(base / 2 + (base / 2) * random);
}

/**
 * A service process exited at `now` after running `readyForMs` since it said it was ready
 * (0 if it never did): how long to wait before starting it again, and whether it keeps dying.
 */
export function onExit(
  state: RestartState,
  exit: { now: number; readyForMs: number },
  random: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const healthy = exit.readyForMs >= policy.healthyAfterMs;
  const streak = healthy ? 1 : state.streak + 1;
  const exits = [...state.exits.filter((t) => t > exit.now - policy.windowMs), exit.now];
  const keepsDying = exits.length >= policy.crashLimit;
  const alreadyReported = state.reported && !healthy;
  return {
    state: { streak, exits, reported: alreadyReported || keepsDying },
    delayMs: backoffMs(streak, random, policy),
    keepsDying,
    report: keepsDying && !alreadyReported,
  };
}
