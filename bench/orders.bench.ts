// `npm run bench:orders`: orders per second and the latency from POST /api/orders to CONFIRMED, on the local
// profile (a fresh shop on embedded PostgreSQL and the PostgreSQL bus), driven through the gateway.
// Options: --orders N (default 600), --concurrency N (default 24), --transport postgres|amqp.
// Writes a latency histogram to bench/results/orders-<transport>.svg.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deleteAmqpTopology } from '@souk/chassis';
import { TEST_CARDS } from '@souk/contracts';
import { startShop } from '@souk/supervisor';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '24' },
    transport: { type: 'string', default: 'postgres' },
  },
});
const totalOrders = Number(values.orders);
const concurrency = Number(values.concurrency);
const transport = values.transport === 'amqp' ? 'amqp' : 'postgres';
const root = fileURLToPath(new URL('../', import.meta.url));
const admin = { email: 'bench-admin@souk.local', password: 'bench-admin-password' };

const dataDir = await mkdtemp(path.join(tmpdir(), 'souk-bench-'));
const namespace = `souk-bench-${randomUUID().slice(0, 8)}`;
console.log(`Starting a fresh shop (${transport} transport)…`);
const shop = await startShop({
  root,
  dataDir,
  databasePort: 54349,
  portOffset: 200,
  env: {
    ...process.env,
    SOUK_ADMIN_EMAIL: admin.email,
    SOUK_ADMIN_PASSWORD: admin.password,
    SOUK__LOG__LEVEL: 'warn',
    SOUK__MESSAGING__TRANSPORT: transport,
    SOUK__MESSAGING__NAMESPACE: namespace,
  },
  // Every benchmark customer registers from this one IP, in a burst.
  serviceEnv: { gateway: { SOUK__RATE_LIMIT__REGISTER_MAX: String(Math.max(10, concurrency)) } },
  say: (line) => console.log(`  ${line}`),
  onLogLine: (source, line) => {
    if (/"level":[56]\d/.test(line)) console.log(`  ${source} ${line}`);
  },
});

const api = async (
  method: string,
  url: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => {
  const response = await fetch(`${shop.gatewayUrl}${url}`, {
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

try {
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

  const capacity = await runPhase(tokens, product.body.id, totalOrders, undefined, 'capacity');
  const rate = Math.max(1, Math.floor(capacity.ordersPerSecond / 2));
  const { latencies, outcomes, ordersPerSecond } = await runPhase(
    tokens,
    product.body.id,
    Math.min(totalOrders, rate * 10),
    rate,
    'latency',
  );

  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const memory = await shop.memory();
  const summary = {
    transport,
    orders: totalOrders,
    concurrency,
    capacityOrdersPerSecond: capacity.ordersPerSecond,
    latencyPhase: {
      targetOrdersPerSecond: rate,
      achievedOrdersPerSecond: ordersPerSecond,
      orders: latencies.length,
    },
    latencyMs: {
      p50: Math.round(at(0.5)),
      p90: Math.round(at(0.9)),
      p99: Math.round(at(0.99)),
      max: Math.round(sorted.at(-1)!),
    },
    outcomes: Object.fromEntries(outcomes),
    machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}`,
    memoryMiB: memory ? Math.round(memory.bytes / 2 ** 20) : undefined,
  };
  console.log(`\n${JSON.stringify(summary, null, 2)}\n`);
  console.log(histogramText(sorted));
  const file = path.join(root, 'bench', 'results', `orders-${transport}.svg`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    histogramSvg(sorted, { ...summary, ordersPerSecond: capacity.ordersPerSecond, rate }),
  );
  console.log(`Chart: ${path.relative(process.cwd(), file)}`);
} finally {
  await shop.stop();
  await rm(dataDir, { recursive: true, force: true });
  if (transport === 'amqp')
    await deleteAmqpTopology('amqp://guest:guest@127.0.0.1:5672', namespace, ['notifications']);
}

/**
 * Places `count` orders from every client (at `rate` orders/s in total, or as fast as the 202s come back),
 * then waits until each is terminal. Latency runs from sending POST to the moment the shop stamped the order
 * terminal (same machine, same clock); throughput is the orders over that whole span.
 */
async function runPhase(
  tokens: string[],
  productId: string,
  count: number,
  rate: number | undefined,
  label: string,
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
    for (const token of tokens) {
      let cursor: string | undefined;
      do {
        const page = await api('GET', `/api/orders?limit=100${cursor ? `&cursor=${cursor}` : ''}`, token);
        for (const order of page.body.items as { id: string; status: string; updatedAt: string }[]) {
          if (order.status === 'PENDING' || !pending.delete(order.id)) continue;
          const settledAt = Date.parse(order.updatedAt);
          latencies.push(settledAt - sentAt.get(order.id)!);
          lastSettled = Math.max(lastSettled, settledAt);
          outcomes.set(order.status, (outcomes.get(order.status) ?? 0) + 1);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
    }
    report(`${count - pending.size}/${count} settled`);
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const ordersPerSecond = Number((count / ((lastSettled - started) / 1000)).toFixed(1));
  console.log(`\n  ${ordersPerSecond} orders/s`);
  return { latencies, outcomes, ordersPerSecond };
}

function buckets(sorted: number[], count = 24) {
  const max = sorted.at(-1)!;
  const width = Math.max(1, Math.ceil(max / count));
  const counts = Array.from({ length: count }, () => 0);
  for (const value of sorted) counts[Math.min(count - 1, Math.floor(value / width))]! += 1;
  return { width, counts };
}

function histogramText(sorted: number[]): string {
  const { width, counts } = buckets(sorted, 16);
  const peak = Math.max(...counts);
  return counts
    .map((n, i) => `${String(i * width).padStart(6)} ms │${'█'.repeat(Math.round((n / peak) * 50))} ${n}`)
    .join('\n');
}

function histogramSvg(
  sorted: number[],
  summary: {
    rate: number;
    ordersPerSecond: number;
    latencyMs: Record<string, number>;
    transport: string;
  },
): string {
  const { width, counts } = buckets(sorted);
  const peak = Math.max(...counts);
  const [w, h, pad] = [720, 320, 48];
  const barWidth = (w - 2 * pad) / counts.length;
  const x = (ms: number) => pad + (ms / (width * counts.length)) * (w - 2 * pad);
  const bars = counts
    .map((n, i) => {
      const barHeight = (n / peak) * (h - 2 * pad);
      return `<rect x="${(pad + i * barWidth).toFixed(1)}" y="${(h - pad - barHeight).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="#3b7dd8"/>`;
    })
    .join('');
  const marker = (label: string, ms: number, color: string) =>
    `<line x1="${x(ms)}" x2="${x(ms)}" y1="${pad}" y2="${h - pad}" stroke="${color}" stroke-dasharray="4 3"/><text x="${x(ms) + 4}" y="${pad + 12}" fill="${color}">${label} ${ms} ms</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad}" y="24" font-size="15">POST /api/orders → CONFIRMED at ${summary.rate} orders/s (${summary.transport} bus); capacity ${summary.ordersPerSecond} orders/s</text>
${bars}
${marker('p50', summary.latencyMs.p50!, '#1a7f37')}${marker('p99', summary.latencyMs.p99!, '#cf222e')}
<line x1="${pad}" x2="${w - pad}" y1="${h - pad}" y2="${h - pad}" stroke="#444"/>
<text x="${pad}" y="${h - pad + 18}">0 ms</text><text x="${w - pad}" y="${h - pad + 18}" text-anchor="end">${width * counts.length} ms</text>
<text x="${w / 2}" y="${h - 10}" text-anchor="middle">latency (ms); bar height = orders</text>
</svg>
`;
}
