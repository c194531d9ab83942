// Settlements that ride on the next claim: the relay's "published" marks and a consumer's acknowledgements are
// written by the same statement as the loop's next claim, so a busy loop pays one commit for both; when no claim
// comes soon, a timer writes them on their own. Until written, the rows stay leased to their claimer, so nobody
// else takes them; if the process dies first, the lease runs out and they are sent again (at-least-once, which
// the consumers' inbox absorbs).
import type { Logger } from '../logger.ts';

export interface SettlementsOptions<T> {
  /** Writes settlements that no claim carried; a failure is logged, and the leases then run out. */
  write: (items: T[]) => Promise<void>;
  /** The longest a settlement waits for a claim to carry it. */
  withinMs: number;
  log: Logger;
  /** What the settlements are, for the log line: e.g. 'marking events published'. */
  what: string;
}

export class Settlements<T> {
  readonly #options: SettlementsOptions<T>;
  #items: T[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing = new Set<Promise<void>>();

  constructor(options: SettlementsOptions<T>) {
    this.#options = options;
  }

  add(item: T): void {
    this.#items.push(item);
    this.#timer ??= setTimeout(() => void this.flush(), this.#options.withinMs);
  }

  /** Takes every waiting settlement, for a claim to write; `putBack` them if that claim failed. */
  take(): T[] {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#items.splice(0);
  }

  putBack(items: readonly T[]): void {
    for (const item of items) this.add(item);
  }

  /** Writes what waits now, on its own; resolves once that and any earlier flush are done. */
  async flush(): Promise<void> {
    const items = this.take();
    if (items.length > 0) {
      const writing = this.#write(items);
      this.#writing.add(writing);
      void writing.finally(() => this.#writing.delete(writing));
    }
    await Promise.all(this.#writing);
  }

  async #write(items: T[]): Promise<void> {
    try {
      await this.#options.write(items);
    } catch (error) {
      this.#options.log.warn(
        { err: error, count: items.length },
        `${this.#options.what} failed; their leases will run out and they will be sent again`,
      );
    }
  }
}
