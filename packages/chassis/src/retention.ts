// Retention: the tables that only grow (spent idempotency keys, sent events, finished sagas, spent refresh
// tokens) are pruned on a schedule, each by a rule that the module owning the table provides.
import type { Pool, Queryable } from './db.ts';
import type { Logger } from './logger.ts';

export interface RetentionRule {
  /** What is pruned, for logs: e.g. `idempotency-keys`. */
  readonly name: string;
  /** How long a row is kept once it is spent; read at every run, so a config change applies live. */
  keepMs(): number;
  /** Deletes the rows spent before `olderThan`; resolves with how many. */
  prune(db: Queryable, olderThan: Date): Promise<number>;
}

export interface RetentionOptions {
  db: Pool;
  log: Logger;
  /** Time between runs; read after each run. */
  intervalMs: () => number;
  clock?: () => Date;
}

export class RetentionWorker {
  readonly name = 'retention';
  readonly #options: RetentionOptions;
  readonly #rules: RetentionRule[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  add(rule: RetentionRule): void {
    this.#rules.push(rule);
  }

  /** Runs every rule once; a rule that fails is logged and the others still run. Resolves with the counts. */
  async runOnce(): Promise<Record<string, number>> {
    const { db, log, clock = () => new Date() } = this.#options;
    const pruned: Record<string, number> = {};
    for (const rule of this.#rules) {
      const olderThan = new Date(clock().getTime() - rule.keepMs());
      try {
        pruned[rule.name] = await rule.prune(db, olderThan);
      } catch (error) {
        log.warn({ err: error, rule: rule.name }, 'retention rule failed; it runs again next time');
      }
    }
    if (Object.values(pruned).some((count) => count > 0)) log.info({ pruned }, 'old rows pruned');
    return pruned;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped || this.#rules.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce().finally(() => this.#schedule());
    }, this.#options.intervalMs());
    this.#timer.unref();
  }
}
