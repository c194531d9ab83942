// Account lockout: after `maxFailures` failed logins within `windowSeconds`, further attempts are refused
// until the window ends, whether the password is right or not.
export interface LockoutPolicy {
  maxFailures: number;
  windowSeconds: number;
}

export interface FailureRecord {
  failures: number;
  windowStartedAt: Date;
}

/** Seconds the caller must wait, or 0 when a login attempt may proceed. */
export function lockoutRemaining(
  policy: LockoutPolicy,
  record: FailureRecord | undefined,
  now: Date,
): number {
  if (record === undefined || record.failures < policy.maxFailures) return 0;
  const endsAt = record.windowStartedAt.getTime() + policy.windowSeconds * 1000;
  return Math.max(0, Math.ceil((endsAt - now.getTime()) / 1000));
}

/** The record after one more failure: a failure outside the window starts a new one. */
export function recordFailure(
  policy: LockoutPolicy,
  record: FailureRecord | undefined,
  now: Date,
): FailureRecord {
  const windowOver =
    record === undefined || now.getTime() - record.windowStartedAt.getTime() >= policy.windowSeconds * 1000;
  return windowOver
    ? { failures: 1, windowStartedAt: now }
    : { failures: record.failures + 1, windowStartedAt: record.windowStartedAt };
}
