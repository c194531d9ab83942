// The one timeout of Souk: work gets a signal that aborts at its deadline (or with the caller's signal), and the
// caller gets an answer by then, whether or not the work heeds its signal.

/** The deadline passed before the work answered. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export interface TimeoutOptions {
  /** Aborts the work early, rejecting with this signal's reason. */
  signal?: AbortSignal;
  /** What the rejection at the deadline says, or the error to reject with (`TimeoutError` by default). */
  onTimeout?: string | (() => Error);
}

/**
 * Runs `work` with a signal that aborts after `ms` or when `options.signal` aborts; settles at that moment even
 * if `work` ignores the signal (its late result is dropped): with a TimeoutError, or the caller's reason.
 */
export async function withTimeout<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  options: TimeoutOptions = {},
): Promise<T> {
  const { signal: outer, onTimeout } = options;
  if (outer?.aborted) throw outer.reason;
  const controller = new AbortController();
  const { signal } = controller;
  let onAbort = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const timer = setTimeout(() => {
    controller.abort(
      typeof onTimeout === 'function'
        ? onTimeout()
        : new TimeoutError(onTimeout ?? `no answer within ${ms} ms`),
    );
  }, ms);
  const forward = () => controller.abort(outer!.reason);
  outer?.addEventListener('abort', forward, { once: true });
  try {
    return await Promise.race([work(signal), aborted]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Whether `promise` settled within `ms`; a rejection counts as settled. For "wait so long, then move on". */
export async function settlesWithin(ms: number, promise: Promise<unknown>): Promise<boolean> {
  return withTimeout(ms, () => promise).then(
    () => true,
    (error: unknown) => !(error instanceof TimeoutError),
  );
}
