// RED per route (rate, errors, p50, p99) over time, from the gateway's own request histogram: sampled on a
// timer, each point the difference between two samples, so the console can draw small live charts.
import type { Registry as MetricsRegistry } from 'prom-client';

export interface RedPoint {
  at: string;
  /** Requests per second over the interval. */
  rate: number;
  /** Of them, answers with status >= 500, per second. */
  errors: number;
  /** Estimated from the histogram's buckets, in milliseconds; null when no request came. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** One route's cumulative bucket counts (upper bound in seconds → count), total and errors. */
interface RouteSample {
  buckets: Map<number, number>;
  count: number;
  errors: number;
}

interface Sample {
  at: number;
  routes: Map<string, RouteSample>;
}

const HISTOGRAM = 'http_server_request_duration_seconds';

export class RedMetrics {
  readonly intervalMs: number;
  readonly #metrics: MetricsRegistry;
  readonly #samples: Sample[] = [];
  readonly #keep: number;
  #timer: NodeJS.Timeout | undefined;

  /** Keeps `keep` samples taken every `intervalMs`: the charts' window. */
  constructor(metrics: MetricsRegistry, options: { intervalMs: number; keep: number }) {
    this.#metrics = metrics;
    this.#keep = options.keep;
    this.intervalMs = options.intervalMs;
  }

  start(): void {
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async sample(now = Date.now()): Promise<void> {
    const metric = this.#metrics.getSingleMetric(HISTOGRAM);
    if (metric === undefined) return;
    const { values } = await metric.get();
    const routes: Sample['routes'] = new Map();
    for (const value of values as Array<(typeof values)[number] & { metricName?: string }>) {
      const route = String(value.labels.route ?? 'unmatched');
      const entry = routes.get(route) ?? { buckets: new Map(), count: 0, errors: 0 };
      routes.set(route, entry);
      const status = Number(value.labels.status_code ?? 0);
      if (value.metricName === `${HISTOGRAM}_bucket`) {
        const le = value.labels.le === '+Inf' ? Infinity : Number(value.labels.le);
        entry.buckets.set(le, (entry.buckets.get(le) ?? 0) + value.value);
      } else if (value.metricName === `${HISTOGRAM}_count`) {
        entry.count += value.value;
        if (status >= 500) entry.errors += value.value;
      }
    }
    this.#samples.push({ at: now, routes });
    if (this.#samples.length > this.#keep) this.#samples.shift();
  }

  /** Per route, one point per interval, oldest first. */
  series(): Array<{ route: string; points: RedPoint[] }> {
    const names = new Set(this.#samples.flatMap((sample) => [...sample.routes.keys()]));
    return [...names].sort().map((route) => ({
      route,
      points: this.#samples.slice(1).map((sample, index) => {
        const before = this.#samples[index]!;
        return point(
          before.routes.get(route),
          sample.routes.get(route),
          (sample.at - before.at) / 1000,
          sample.at,
        );
      }),
    }));
  }
}

const EMPTY: RouteSample = { buckets: new Map(), count: 0, errors: 0 };

function point(
  before: RouteSample | undefined,
  after: RouteSample | undefined,
  seconds: number,
  at: number,
): RedPoint {
  const [from, to] = [before ?? EMPTY, after ?? EMPTY];
  const count = to.count - from.count;
  const buckets = [...to.buckets]
    .map(([le, cumulative]) => [le, cumulative - (from.buckets.get(le) ?? 0)] as const)
    .sort((a, b) => a[0] - b[0]);
  return {
    at: new Date(at).toISOString(),
    rate: seconds > 0 ? count / seconds : 0,
    errors: seconds > 0 ? (to.errors - from.errors) / seconds : 0,
    p50Ms: quantileMs(buckets, count, 0.5),
    p99Ms: quantileMs(buckets, count, 0.99),
  };
}

/** Prometheus' histogram_quantile: linear within the bucket the rank falls in. */
export function quantileMs(
  buckets: ReadonlyArray<readonly [le: number, cumulative: number]>,
  count: number,
  q: number,
): number | null {
  if (count <= 0) return null;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lower * 1000;
      const inBucket = cumulative - below;
      const fraction = inBucket === 0 ? 1 : (rank - below) / inBucket;
      return (lower + (le - lower) * fraction) * 1000;
    }
    lower = le;
    below = cumulative;
  }
  return lower * 1000;
}
