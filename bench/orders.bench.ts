// `npm run bench:orders`: orders per second and the latency from POST /api/orders to CONFIRMED, driven through
// the gateway of a fresh shop: the local profile (embedded PostgreSQL and the PostgreSQL bus, or RabbitMQ with
// --transport amqp) and, with --fleet, the fleet as `npm run start:fleet` runs it (2 instances of each service and
// 2 gateways on PostgreSQL, RabbitMQ, Redis and etcd), one after the other in the same run.
// Options: --orders N (default 600), --concurrency N (default 24), --transport postgres|amqp, --fleet,
// --idle-seconds N (default 20), --settle-seconds N (the memory read again after N quiet seconds at the end),
// --profile DIR (CPU profiles of the services in DIR, summarised by bench/cpu-profile-summary.ts, and PostgreSQL's
// statements by time and by calls per order, from pg_stat_statements).
// On the local profile it also prints the cold start, the idle shop's commits and CPU, and PostgreSQL commits and
// CPU per order (all databases, from pg_stat_database, less the idle rate and the bench's own queries).
// Writes a latency histogram per profile to bench/results/orders-<profile>.svg.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPool, deleteAmqpTopology, type Pool } from '@souk/chassis';
import { TEST_CARDS } from '@souk/contracts';
import { cpuSeconds, memoryBytes, startShop, type Shop } from '@souk/supervisor';
import { parseInstances, startFleet } from '@souk/supervisor/fleet';
import { histogramSvg, histogramText, quantile } from './lib/chart.ts';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '24' },
    transport: { type: 'string', default: 'postgres' },
    fleet: { type: 'boolean', default: false },
    'idle-seconds': { type: 'string', default: '20' },
    'settle-seconds': { type: 'string', default: '0' },
    profile: { type: 'string' },
  },
});
const idleSeconds = Number(values['idle-seconds']);
const settleSeconds = Number(values['settle-seconds']);
const totalOrders = Number(values.orders);
const concurrency = Number(values.concurrency);
const transport = values.transport === 'amqp' ? 'amqp' : 'postgres';
const root = fileURLToPath(new URL('../', import.meta.url));
const admin = { email: 'bench-admin@souk.local', password: 'bench-admin-password' };
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** A running shop to measure: where its gateways are, what it weighs, how to take it down. */
interface Target {
  profile: string;
  gatewayUrls: readonly string[];
  coldStartSeconds: number;
  memory(): Promise<{ bytes: number; processes: number } | undefined>;
  /** What the shop's own PostgreSQL says and costs; only where the shop has one to itself (the local profile). */
  probe?: ShopProbe;
  stop(): Promise<void>;
}

const profileDir = values.profile === undefined ? undefined : path.resolve(values.profile);
if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
const env = {
  ...process.env,
  ...(profileDir === undefined
    ? {}
    : {
        NODE_OPTIONS: [process.env.NODE_OPTIONS, `--cpu-prof --cpu-prof-dir=${profileDir}`]
          .filter(Boolean)
          .join(' '),
      }),
  SOUK_ADMIN_EMAIL: admin.email,
  SOUK_ADMIN_PASSWORD: admin.password,
  SOUK__LOG__LEVEL: 'warn',
};
// Every benchmark customer registers from this one IP, in a burst.
const gatewayEnv = { SOUK__RATE_LIMIT__REGISTER_MAX: String(Math.max(10, concurrency)) };
const say = (line: string) => console.log(`  ${line}`);
const onLogLine = (source: string, line: string) => {
  if (/"level":[56]\d/.test(line)) console.log(`  ${source} ${line}`);
};

async function localTarget(): Promise<Target> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'souk-bench-'));
  const namespace = `souk-bench-${randomUUID().slice(0, 8)}`;
  console.log(`Starting a fresh local shop (${transport} transport)…`);
  const starting = performance.now();
  const shop = await startShop({
    root,
    dataDir,
    databasePort: 54359,
    portOffset: 200,
    env: { ...env, SOUK__MESSAGING__TRANSPORT: transport, SOUK__MESSAGING__NAMESPACE: namespace },
    serviceEnv: { gateway: gatewayEnv },
    say,
    onLogLine,
    ...(profileDir === undefined
      ? {}
      : {
          databaseSettings: {
            shared_preload_libraries: 'pg_stat_statements',
            'pg_stat_statements.track': 'all',
          },
        }),
  });
  if (profileDir !== undefined)
    say(
      `CPU profiles in ${profileDir}: ${[...shop.processes].map(([name, child]) => `${name} ${child.pid}`).join(', ')}`,
    );
  const coldStartSeconds = (performance.now() - starting) / 1000;
  const probe = new ShopProbe(shop);
  return {
    profile: `local-${transport}`,
    gatewayUrls: [shop.gatewayUrl],
    coldStartSeconds,
    memory: () => shop.memory(),
    probe,
    async stop() {
      await probe.close();
      await shop.stop();
      await rm(dataDir, { recursive: true, force: true });
      if (transport === 'amqp') await deleteAmqpTopology(AMQP_URL, namespace, ['notifications']);
    },
  };
}

async function fleetTarget(): Promise<Target> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'souk-bench-fleet-'));
  const namespace = `souk_bench_${randomUUID().slice(0, 8)}`;
  console.log('Starting a fresh fleet (2 instances of each service, 2 gateways)…');
  const starting = performance.now();
  const fleet = await startFleet({
    root,
    dataDir,
    env: { SOUK_ETCD_URL: 'http://127.0.0.1:23890', ...env },
    instances: parseInstances('2'),
    gatewayPorts: [8280, 8281],
    namespace,
    serviceEnv: { gateway: gatewayEnv },
    say,
    onLogLine,
  });
  return {
    profile: 'fleet',
    gatewayUrls: fleet.gatewayUrls,
    coldStartSeconds: (performance.now() - starting) / 1000,
    memory: () => fleet.memory(),
    async stop() {
      await fleet.stop();
      await rm(dataDir, { recursive: true, force: true });
      await deleteAmqpTopology(AMQP_URL, namespace.replaceAll('_', '-'), ['notifications']);
    },
  };
}

/**
 * Reads the local shop's PostgreSQL (commits of every database) and the CPU time of its processes, and tells
 * when orders are terminal straight from the orders database, so that the bench's own reads cost a known number
 * of commits (one each) that it subtracts, where polling the API would add an unknown number.
 */
class ShopProbe {
  readonly #shop: Shop;
  readonly #stats: Pool;
  readonly #orders: Pool;
  /** Queries this probe made: each one a commit in the figures it reads afterwards. */
  #queries = 0;

  constructor(shop: Shop) {
    this.#shop = shop;
    this.#stats = createPool(shop.database.url('postgres'), { max: 1, applicationName: 'souk-bench' });
    this.#orders = createPool(shop.database.url('orders'), { max: 1, applicationName: 'souk-bench' });
  }

  /** Commits so far, all databases and each one, and how many of them this probe made before reading. */
  async commits(): Promise<{ commits: number; byDatabase: Map<string, number>; own: number; at: number }> {
    const own = this.#queries++;
    const { rows } = await this.#stats.query<{ name: string | null; commits: number }>(
      'SELECT datname AS name, xact_commit::float8 AS commits FROM pg_stat_database',
    );
    const byDatabase = new Map(rows.map((row) => [row.name ?? 'shared', row.commits]));
    return { commits: sum(byDatabase.values()), byDatabase, own, at: performance.now() };
  }

  /** Starts counting PostgreSQL's statements afresh (with --profile). */
  async resetStatements(): Promise<void> {
    this.#queries += 2;
    await this.#stats.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await this.#stats.query('SELECT pg_stat_statements_reset()');
  }

  /**
   * The statements that took PostgreSQL the most time since the reset, or that ran the most often (where the
   * commits go: each statement outside a transaction is a commit, and so is each COMMIT), per order.
   */
  async topStatements(orders: number, by: 'time' | 'calls', limit = 20) {
    this.#queries++;
    const { rows } = await this.#stats.query<{ database: string; calls: number; ms: number; query: string }>(
      `SELECT d.datname AS database, s.calls::float8 AS calls, s.total_exec_time AS ms, s.query
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        ORDER BY CASE WHEN $2 = 'time' THEN s.total_exec_time ELSE s.calls END DESC LIMIT $1`,
      [limit, by],
    );
    return rows.map((row) => ({
      database: row.database,
      callsPerOrder: Number((row.calls / orders).toFixed(2)),
      msPerOrder: Number((row.ms / orders).toFixed(3)),
      query: row.query.replace(/\s+/g, ' ').slice(0, 140),
    }));
  }

  /** CPU seconds used so far by each service and by PostgreSQL. */
  async cpu(): Promise<Map<string, number>> {
    const pids = await this.#pids();
    const used = new Map<string, number>();
    for (const [name, pid] of pids) if (pid !== undefined) used.set(name, (await cpuSeconds([pid])) ?? 0);
    return used;
  }

  /** PSS of each service and of PostgreSQL (its server processes together), in MiB. */
  async memoryByProcess(): Promise<Record<string, number>> {
    const pids = await this.#pids();
    const mib: Record<string, number> = {};
    for (const [name, pid] of pids) {
      const memory = pid === undefined ? undefined : await memoryBytes([pid]);
      if (memory) mib[name] = Math.round(memory.bytes / 2 ** 20);
    }
    return mib;
  }

  /** Each service's process id and PostgreSQL's (its postmaster); undefined while one is down. */
  async #pids(): Promise<[string, number | undefined][]> {
    return [
      ...[...this.#shop.processes].map(([name, child]): [string, number | undefined] => [name, child.pid]),
      ['postgres', await this.#shop.database.pid()],
    ];
  }

  /** Those of `ids` that are terminal now, with the moment the shop stamped them so. */
  async terminal(ids: readonly string[]): Promise<{ id: string; status: string; updatedAt: Date }[]> {
    this.#queries++;
    const { rows } = await this.#orders.query<{ id: string; status: string; updated_at: Date }>(
      `SELECT id, status, updated_at FROM orders_view WHERE id = ANY($1::uuid[]) AND status <> 'PENDING'`,
      [ids],
    );
    return rows.map((row) => ({ id: row.id, status: row.status, updatedAt: row.updated_at }));
  }

  async close(): Promise<void> {
    await Promise.all([this.#stats.end(), this.#orders.end()]);
  }
}

/** Commits per second between two readings, the probe's own left out. */
const commitRate = (
  from: Awaited<ReturnType<ShopProbe['commits']>>,
  to: Awaited<ReturnType<ShopProbe['commits']>>,
) => (to.commits - from.commits - (to.own - from.own)) / ((to.at - from.at) / 1000);

const cpuDelta = (from: Map<string, number>, to: Map<string, number>) =>
  new Map([...to].map(([name, seconds]) => [name, seconds - (from.get(name) ?? 0)]));
const sum = (values: Iterable<number>) => [...values].reduce((total, value) => total + value, 0);
/** PostgreSQL flushes a backend's counters to pg_stat_database at most once a second. */
const STATS_FLUSH_MS = 1500;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const summaries = [];
for (const start of values.fleet ? [localTarget, fleetTarget] : [localTarget]) {
  const target = await start();
  try {
    summaries.push(await measure(target));
  } finally {
    await target.stop();
  }
}
if (summaries.length > 1) {
  console.log('\n| profile | capacity (orders/s) | rate | p50 | p90 | p99 | memory |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { profile, capacityOrdersPerSecond, latencyPhase, latencyMs, memoryMiB } of summaries)
    console.log(
      `| ${profile} | ${capacityOrdersPerSecond} | ${latencyPhase.targetOrdersPerSecond}/s | ${latencyMs.p50} ms | ${latencyMs.p90} ms | ${latencyMs.p99} ms | ${memoryMiB ?? '?'} MiB |`,
    );
}

async function measure(target: Target) {
  let next = 0;
  /** Requests go round the target's gateways. */
  const api = async (
    method: string,
    url: string,
    token?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const gateway = target.gatewayUrls[next++ % target.gatewayUrls.length]!;
    const response = await fetch(`${gateway}${url}`, {
      method,
      headers: {
        ...headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const adminToken = (await api('POST', '/api/auth/login', undefined, admin)).body.accessToken as string;
  const product = await api('POST', '/api/products', adminToken, {
    sku: `BENCH-${randomUUID().slice(0, 8)}`,
    name: 'Benchmark lantern',
    description: 'Plenty of them.',
    price: { amount: 1999, currency: 'USD' },
    stock: totalOrders * 2,
  });
  const tokens: string[] = [];
  for (let i = 0; i < concurrency; i++) {
    const email = `bench-${i}-${randomUUID().slice(0, 6)}@example.com`;
    await api('POST', '/api/users', undefined, { email, password: 'bench-password', name: `Bench ${i}` });
    tokens.push(
      (await api('POST', '/api/auth/login', undefined, { email, password: 'bench-password' })).body
        .accessToken,
    );
  }

  const probe = target.probe;
  const terminal = probe ? (ids: readonly string[]) => probe.terminal(ids) : apiTerminal(api, tokens);
  const idle = probe && (await measureIdle(probe));

  if (probe && profileDir !== undefined) await probe.resetStatements();
  const memoryAtRest = probe && (await probe.memoryByProcess());
  const atRest = await target.memory();
  const loadBefore = loadavg()[0]!;
  const benchCpuBefore = process.cpuUsage();
  const before = probe && { commits: await probe.commits(), cpu: await probe.cpu() };
  const capacity = await runPhase(api, tokens, product.body.id, totalOrders, undefined, 'capacity', terminal);
  let perOrder;
  if (probe && before && idle) {
    await pause(STATS_FLUSH_MS);
    const after = { commits: await probe.commits(), cpu: await probe.cpu() };
    const seconds = (after.commits.at - before.commits.at) / 1000;
    const commits = commitRate(before.commits, after.commits) * seconds - idle.commitsPerSecond * seconds;
    const cpu = cpuDelta(before.cpu, after.cpu);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    // The load generator (this process) shares the machine: its CPU counts against what the shop can use.
    cpu.set('bench (load generator)', (benchCpu.user + benchCpu.system) / 1e6);
    const ms = (value: number) => Number(((value * 1000) / totalOrders).toFixed(1));
    // Per database, before the idle rate is taken off (the bench's own reads are in orders and postgres).
    const byDatabase = [...after.commits.byDatabase]
      .filter(([name]) => name !== 'shared' && !name.startsWith('template'))
      .map(([name, value]) => [
        name,
        Number(((value - (before.commits.byDatabase.get(name) ?? 0)) / totalOrders).toFixed(1)),
      ]);
    const cpuMsPerOrder = (sum(cpu.values()) * 1000) / totalOrders;
    perOrder = {
      /** What the machine's cores could place if the shop and the load generator had them all. */
      cpuBoundOrdersPerSecond: Math.round((cpus().length * 1000) / cpuMsPerOrder),
      commits: Number((commits / totalOrders).toFixed(1)),
      commitsByDatabase: Object.fromEntries(byDatabase),
      ...(profileDir === undefined
        ? {}
        : {
            statementsByTime: await probe.topStatements(totalOrders, 'time'),
            statementsByCalls: await probe.topStatements(totalOrders, 'calls', 60),
          }),
      cpuMs: {
        total: ms(sum(cpu.values())),
        ...Object.fromEntries([...cpu].map(([name, s]) => [name, ms(s)])),
      },
    };
  }
  const rate = Math.max(1, Math.floor(capacity.ordersPerSecond / 2));
  const { latencies, outcomes, ordersPerSecond } = await runPhase(
    api,
    tokens,
    product.body.id,
    Math.min(totalOrders, rate * 10),
    rate,
    'latency',
    terminal,
  );

  const sorted = [...latencies].sort((a, b) => a - b);
  const memory = await target.memory();
  const summary = {
    profile: target.profile,
    orders: totalOrders,
    concurrency,
    coldStartSeconds: Number(target.coldStartSeconds.toFixed(1)),
    capacityOrdersPerSecond: capacity.ordersPerSecond,
    ...(perOrder ? { perOrder } : {}),
    ...(idle ? { idle } : {}),
    latencyPhase: {
      targetOrdersPerSecond: rate,
      achievedOrdersPerSecond: ordersPerSecond,
      orders: latencies.length,
    },
    latencyMs: {
      p50: Math.round(quantile(sorted, 0.5)),
      p90: Math.round(quantile(sorted, 0.9)),
      p99: Math.round(quantile(sorted, 0.99)),
      max: Math.round(sorted.at(-1)!),
    },
    outcomes: Object.fromEntries(outcomes),
    machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}`,
    memoryAtRestMiB: atRest ? Math.round(atRest.bytes / 2 ** 20) : undefined,
    memoryMiB: memory ? Math.round(memory.bytes / 2 ** 20) : undefined,
    ...(probe
      ? { memoryMiBByProcess: { atRest: memoryAtRest, afterTheRun: await probe.memoryByProcess() } }
      : {}),
    ...(settleSeconds > 0 ? await settledMemory(target, probe) : {}),
    loadAverage: { beforeCapacity: Number(loadBefore.toFixed(1)), atEnd: Number(loadavg()[0]!.toFixed(1)) },
  };
  console.log(`\n${JSON.stringify(summary, null, 2)}\n`);
  console.log(histogramText(sorted));
  const file = path.join(root, 'bench', 'results', `orders-${target.profile}.svg`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    histogramSvg(sorted, { ...summary, ordersPerSecond: capacity.ordersPerSecond, rate }),
  );
  console.log(`Chart: ${path.relative(process.cwd(), file)}`);
  return summary;
}

/** The memory once the shop has had `settleSeconds` with nothing to do after the run: what it gives back. */
async function settledMemory(target: Target, probe: ShopProbe | undefined) {
  console.log(`settling: ${settleSeconds} s with nothing to do`);
  await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
  const memory = await target.memory();
  return {
    memoryMiBSettled: memory ? Math.round(memory.bytes / 2 ** 20) : undefined,
    ...(probe ? { memoryMiBByProcessSettled: await probe.memoryByProcess() } : {}),
  };
}

type Api = (
  method: string,
  url: string,
  token?: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Where the bench cannot read the shop's database (the fleet): the terminal orders, from every customer's list. */
function apiTerminal(api: Api, tokens: readonly string[]) {
  return async (ids: readonly string[]) => {
    const wanted = new Set(ids);
    const found: { id: string; status: string; updatedAt: Date }[] = [];
    for (const token of tokens) {
      let cursor: string | undefined;
      do {
        const page = await api('GET', `/api/orders?limit=100${cursor ? `&cursor=${cursor}` : ''}`, token);
        for (const order of page.body.items as { id: string; status: string; updatedAt: string }[])
          if (order.status !== 'PENDING' && wanted.has(order.id))
            found.push({ id: order.id, status: order.status, updatedAt: new Date(order.updatedAt) });
        cursor = page.body.nextCursor;
      } while (cursor);
    }
    return found;
  };
}

/**
 * The shop doing nothing (customers registered, no order coming): its commits per second and the CPU its
 * processes use, as a share of one core, over `idleSeconds`, after a few seconds for start-up work to settle.
 */
async function measureIdle(probe: ShopProbe) {
  console.log(`\nidle: ${idleSeconds} s with nothing to do`);
  await pause(5000);
  const from = { commits: await probe.commits(), cpu: await probe.cpu() };
  await pause(idleSeconds * 1000);
  const to = { commits: await probe.commits(), cpu: await probe.cpu() };
  const cpu = cpuDelta(from.cpu, to.cpu);
  const seconds = (to.commits.at - from.commits.at) / 1000;
  const percent = (value: number) => Number(((value / seconds) * 100).toFixed(2));
  const idle = {
    commitsPerSecond: Number(commitRate(from.commits, to.commits).toFixed(2)),
    commitsPerSecondByDatabase: Object.fromEntries(
      [...to.commits.byDatabase]
        .filter(([name]) => name !== 'shared' && !name.startsWith('template'))
        .map(([name, value]) => [
          name,
          Number(((value - (from.commits.byDatabase.get(name) ?? 0)) / seconds).toFixed(2)),
        ]),
    ),
    cpuPercentOfOneCore: percent(sum(cpu.values())),
    cpuPercentByProcess: Object.fromEntries([...cpu].map(([name, used]) => [name, percent(used)])),
  };
  console.log(`  ${idle.commitsPerSecond} commits/s, ${idle.cpuPercentOfOneCore}% of one core`);
  return idle;
}

/**
 * Places `count` orders from every client (at `rate` orders/s in total, or as fast as the 202s come back),
 * then waits until each is terminal. Latency runs from sending POST to the moment the shop stamped the order
 * terminal (same machine, same clock); throughput is the orders over that whole span.
 */
async function runPhase(
  api: Api,
  tokens: string[],
  productId: string,
  count: number,
  rate: number | undefined,
  label: string,
  terminal: (ids: readonly string[]) => Promise<{ id: string; status: string; updatedAt: Date }[]>,
) {
  console.log(`\n${label}: ${count} orders${rate ? ` at ${rate}/s` : ', as fast as the shop takes them'}`);
  const sentAt = new Map<string, number>();
  let next = 0;
  const started = Date.now();
  const report = (line: string) =>
    process.stdout.isTTY ? process.stdout.write(`\r  ${line}   `) : console.log(`  ${line}`);
  const placing = setInterval(() => report(`${sentAt.size}/${count} placed`), 1000);
  const client = async (token: string) => {
    for (;;) {
      const index = next++;
      if (index >= count) return;
      if (rate !== undefined) {
        const due = started + (index * 1000) / rate;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      }
      const at = Date.now();
      const placed = await api(
        'POST',
        '/api/orders',
        token,
        { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } },
        {
          'idempotency-key': randomUUID(),
        },
      );
      if (placed.status !== 202)
        throw new Error(`POST /api/orders answered ${placed.status}: ${JSON.stringify(placed.body)}`);
      sentAt.set(placed.body.id, at);
    }
  };
  await Promise.all(tokens.map(client));
  clearInterval(placing);

  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  let lastSettled = started;
  const pending = new Set(sentAt.keys());
  while (pending.size > 0) {
    for (const order of await terminal([...pending])) {
      if (!pending.delete(order.id)) continue;
      const settledAt = order.updatedAt.getTime();
      latencies.push(settledAt - sentAt.get(order.id)!);
      lastSettled = Math.max(lastSettled, settledAt);
      outcomes.set(order.status, (outcomes.get(order.status) ?? 0) + 1);
    }
    report(`${count - pending.size}/${count} settled`);
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const ordersPerSecond = Number((count / ((lastSettled - started) / 1000)).toFixed(1));
  console.log(`\n  ${ordersPerSecond} orders/s`);
  return { latencies, outcomes, ordersPerSecond };
}
