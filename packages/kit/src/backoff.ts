// The one backoff of Souk: exponential with jitter, for the retry loops (relay, transports, reconnects, sagas,
// upstream calls, restarts), and as a schedule that cockatiel's retry policy takes as it is.

export interface BackoffPolicy {
  /** The delay before the first retry. */
  baseDelayMs: number;
  /** No delay exceeds this, whatever the attempt. */
  maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (1 = the first retry): `base * 2^(attempt-1)`, capped at `max`, then
 * "equal jitter" (a uniform draw from the upper half), so retries of many callers spread out yet never
 * retry sooner than half the nominal delay. `random` is injectable for tests.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/** One step of a schedule: how long to wait now, and the schedule after it (cockatiel's IBackoff, structurally). */
export interface BackoffStep {
  readonly duration: number;
  next(): BackoffStep;
}

/**
 * `backoffDelay` as an immutable schedule: `next()` gives the first retry's step, its `next()` the second's.
 * Shaped as cockatiel's IBackoffFactory, so `retry(…, { backoff: backoffSchedule(policy) })` uses this formula.
 */
export function backoffSchedule(
  policy: BackoffPolicy,
  random: () => number = Math.random,
): { next(): BackoffStep } {
  const step = (attempt: number): BackoffStep => ({
    duration: backoffDelay(attempt, policy, random),
    next: () => step(attempt + 1),
  });
  return { next: () => step(1) };
}
