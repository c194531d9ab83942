// What a service opened, closed on shutdown in reverse order of opening; one failure does not stop the rest.
import type { Logger } from '../logger.ts';

export type Close = () => Promise<void> | void;

export class Closers {
  readonly #closers: Close[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  add(close: Close): void {
    this.#closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.#closers.toReversed()) {
      try {
        await close();
      } catch (error) {
        this.#log.warn({ err: error }, 'a resource failed to close');
      }
    }
  }
}
