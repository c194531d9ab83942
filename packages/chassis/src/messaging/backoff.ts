// Exponential backoff with jitter, shared by every retry loop in messaging (relay, transports, reconnects).

export interface BackoffPolicy {
  /** The delay before the first retry. */
  baseDelayMs: number;
  /** No delay exceeds this, whatever the attempt. */
  maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (1 = the first retry): `base * 2^(attempt-1)`, capped at `max`, then
 * "equal jitter" (a uniform draw from the upper half), so retries of many consumers spread out yet never
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
