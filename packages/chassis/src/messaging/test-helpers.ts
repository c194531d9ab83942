// Shared by the messaging tests: a logger that keeps its lines, and polling for an eventual condition.
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../logger.ts';

export interface RecordingLogger {
  log: Logger;
  /** Every line logged so far, parsed. */
  lines: Array<{ level: number; msg: string } & Record<string, unknown>>;
}

/** A logger that records instead of printing; SOUK_TEST_LOG_LEVEL=debug prints as well. */
export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const echo = process.env.SOUK_TEST_LOG_LEVEL !== undefined;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as RecordingLogger['lines'][number]);
      if (echo) process.stderr.write(chunk);
      done();
    },
  });
  return { log: pino({ level: process.env.SOUK_TEST_LOG_LEVEL ?? 'debug' }, stream), lines };
}

/** Polls `condition` until it holds or `timeoutMs` passes; then fails with `message`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  message: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
