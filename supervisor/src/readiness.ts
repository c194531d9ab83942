// Waiting for a service to say it is ready: what the local shop and the fleet do after starting each process.
import { withTimeout } from '@souk/kit';

/** Polls `url` (its /health/ready) until it answers 2xx; rejects after `timeoutMs`, or when `signal` aborts. */
export async function waitUntilReady(
  url: string,
  options: { timeoutMs: number; name: string; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const ok = await withTimeout(2000, (signal) => fetch(url, { signal })).then(
      async (response) => {
        await response.body?.cancel();
        return response.ok;
      },
      () => false, // not listening yet
    );
    if (ok) return;
    if (options.signal?.aborted) throw new Error('stopped while starting');
    if (Date.now() > deadline)
      throw new Error(`${options.name} was not ready within ${options.timeoutMs / 1000} s (${url})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
