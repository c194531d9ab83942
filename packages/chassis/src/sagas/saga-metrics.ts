// Saga metrics for operators: how long sagas take to finish, and the unfinished ones, read from the saga table
// at scrape time, so every instance reports the same fleet-wide numbers whoever drives the sagas.
import { Gauge, Histogram, type Registry as MetricsRegistry } from 'prom-client';
import type { Queryable } from '../db.ts';

export interface SagaMetricsOptions {
  db: Queryable;
  /** An unfinished saga older than this is counted in `saga_past_deadline`: something holds it up. */
  deadlineMs: number;
  /** The saga types to report, with zeros when none is unfinished, so alert expressions always have a series. */
  types: () => readonly string[];
}

interface UnfinishedRow {
  type: string;
  unfinished: number;
  past_deadline: number;
  oldest_seconds: number;
}

export class SagaMetrics {
  readonly #durations: Histogram<'type' | 'outcome'>;

  constructor(registry: MetricsRegistry, options: SagaMetricsOptions) {
    this.#durations = new Histogram({
      name: 'saga_duration_seconds',
      help: 'Time from a saga being recorded to its end, by type and outcome (completed or compensated).',
      labelNames: ['type', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    });
    const unfinished = cachedForOneScrape(() => readUnfinished(options));
    const gauge = (name: string, help: string, read: (row: UnfinishedRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['type'],
        registers: [registry],
        async collect() {
          this.reset();
          let rows: UnfinishedRow[];
          try {
            rows = await unfinished();
          } catch {
            // Left out of this scrape: the database is away, which readiness reports.
            return;
          }
          for (const type of options.types()) this.set({ type }, 0);
          for (const row of rows) this.set({ type: row.type }, read(row));
        },
      });
    gauge('saga_unfinished', 'Sagas running or compensating, fleet-wide.', (row) => row.unfinished);
    gauge(
      'saga_past_deadline',
      'Unfinished sagas recorded longer ago than the saga deadline, fleet-wide: stuck, or waiting on a participant.',
      (row) => row.past_deadline,
    );
    gauge(
      'saga_oldest_unfinished_age_seconds',
      'Age of the oldest unfinished saga, fleet-wide; 0 when none is unfinished.',
      (row) => row.oldest_seconds,
    );
  }

  /** Called once a saga's end is committed. */
  finished(type: string, outcome: 'completed' | 'compensated', createdAt: Date, now = Date.now()): void {
    this.#durations.observe({ type, outcome }, Math.max(0, (now - createdAt.getTime()) / 1000));
  }
}

/** One query over the unfinished sagas (the partial index `saga_instances_unfinished` keeps it small). */
async function readUnfinished({ db, deadlineMs }: SagaMetricsOptions): Promise<UnfinishedRow[]> {
  const { rows } = await db.query<UnfinishedRow>(
    `SELECT type,
            count(*)::int AS unfinished,
            count(*) FILTER (WHERE created_at < now() - make_interval(secs => $1::float8 / 1000))::int AS past_deadline,
            extract(epoch FROM now() - min(created_at))::float8 AS oldest_seconds
       FROM saga_instances
      WHERE status IN ('RUNNING', 'COMPENSATING')
      GROUP BY type`,
    [deadlineMs],
  );
  return rows;
}

/** The three gauges are collected one after another in a scrape; they share one query. */
function cachedForOneScrape<T>(read: () => Promise<T>, ms = 1000): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (last === undefined || Date.now() - last.at > ms) {
      const value = read();
      last = { at: Date.now(), value };
      value.catch(() => (last = undefined));
    }
    return last.value;
  };
}
