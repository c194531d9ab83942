// runMain(): a service process's lifecycle around its Service — start, drain on a signal, exit codes — so that
// every main.ts is one line and a failed start is one clear line on stderr, not a stack trace.
import { TimeoutError, withTimeout } from '@souk/kit';
import type { Service } from './service.ts';

/** What runMain needs of a service: whatever its configuration. */
type Runnable = Pick<Service<unknown>, 'log' | 'start' | 'stop'>;

/** Past this, a drain that hangs is abandoned and the process exits with 1. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/** Builds and starts the service; drains and exits on SIGTERM/SIGINT, or when the supervisor that spawned it goes. */
export async function runMain(name: string, build: () => Promise<Runnable>): Promise<void> {
  let service: Runnable;
  try {
    service = await build();
    await service.start();
  } catch (error) {
    process.stderr.write(`${name} did not start: ${oneLine(error)}\n`);
    process.exit(1);
  }
  const { log } = service;
  let draining = false;
  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal }, 'draining');
    withTimeout(SHUTDOWN_DEADLINE_MS, () => service.stop()).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        if (error instanceof TimeoutError) log.error('shutdown took longer than 10 s; exiting');
        else log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // Spawned by the supervisor: when it goes, even by kill -9, so do we; no orphans.
  if (process.send !== undefined) process.once('disconnect', () => shutdown('supervisor gone'));
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, '; ');
}
