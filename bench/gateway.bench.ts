// `npm run bench:gateway`: the gateway against nginx, both in front of the same static upstream, on the same
// cores and driven by the same client. Three targets, measured in interleaved rounds with wrk (32 connections,
// 1 thread): the upstream called directly, nginx (Debian's, 1 worker, a keep-alive upstream pool) and the
// gateway as services/gateway runs (a static registry pointing at the upstream). The gateway is measured twice:
// proxy-only (an anonymous GET: route, header hygiene, per-IP rate limit, breaker, proxy) and the full chain
// (a bearer token verified, a per-user rate limit, a client's traceparent continued, breaker, proxy).
// Then a fixed-rate client at half the gateway's capacity gives the latency it adds over a direct call.
// Options: --duration S (per round, default 5), --rounds N (default 3), --connections N (default 32),
// --cpu-prof (writes the gateway's CPU profile to bench/results/profiles/), --probe (reports, for each fixed-rate
// phase, what each process did: CPU, time waiting for a core, GC pauses, event-loop stalls; see lib/phase-probe.ts),
// --pin (the bench at nice -10, and in the fixed-rate phase the proxies on a core of their own; README's
// Performance → Gateway says what it changed), --body-bytes N (the product answered is padded to N bytes: how the
// gateway, which collects an upstream's answer before sending it on, keeps up with nginx as answers grow).
// Ports 17001 (upstream), 17002 (nginx), 17003 (gateway). Writes bench/results/gateway.svg.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@souk/contracts';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { histogramSvg, histogramText, quantile } from './lib/chart.ts';
import { schedstatReader, startPhaseProbe, type PhaseReport } from './lib/phase-probe.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    'cpu-prof': { type: 'boolean', default: false },
    probe: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    'body-bytes': { type: 'string', default: '0' },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const root = fileURLToPath(new URL('../', import.meta.url));
const PORTS = { upstream: 17001, nginx: 17002, gateway: 17003 } as const;
const PRODUCT_PATH = '/api/products/5f0c6a4e-8f1d-4a57-9c1e-3f2b7d9e8a10';
const say = (line: string) => console.log(`  ${line}`);
const ms = (value: number) => Number(value.toFixed(2));
const PHASE_PROBE = path.join(root, 'bench', 'lib', 'phase-probe.ts');
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** One load target: where wrk points and the headers it sends. */
interface Target {
  name: string;
  port: number;
  headers: Record<string, string>;
}

interface Round {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const work = await mkdtemp(path.join(tmpdir(), 'souk-bench-gateway-'));
const children: ChildProcess[] = [];
try {
  await main();
} finally {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(running.map((child) => once(child, 'exit')));
  await rm(work, { recursive: true, force: true });
}

async function main(): Promise<void> {
  // The users service's signing key: its public half is served by the upstream, the token signed here.
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA', use: 'sig' }] };
  const token = await new SignJWT({ role: 'customer' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: 'JWT' })
    .setSubject('bench-user')
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);

  console.log(`Starting the static upstream, nginx and the gateway… (load average ${load()})`);
  const priority = values.pin ? raisePriority() : 'Normal priority.';
  say(priority);
  const upstream = await startUpstream(JSON.stringify(jwks));
  const nginxServer = await startNginx();
  const gateway = await startGateway();
  const probes = values.probe ? phaseProbes({ upstream, nginx: nginxServer, gateway }) : undefined;

  const targets: Target[] = [
    { name: 'direct', port: PORTS.upstream, headers: {} },
    { name: 'nginx', port: PORTS.nginx, headers: {} },
    { name: 'gateway', port: PORTS.gateway, headers: {} },
    {
      name: 'gateway full chain',
      port: PORTS.gateway,
      headers: {
        authorization: `Bearer ${token}`,
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    },
  ];
  for (const target of targets) await expectOk(target);

  console.log(`\nWarm-up: 2 s per target`);
  for (const target of targets) await wrk(target, 2);
  const results = new Map<string, Round[]>(targets.map((target) => [target.name, []]));
  for (let round = 1; round <= rounds; round++) {
    console.log(`Round ${round}/${rounds}: ${duration} s per target`);
    for (const target of targets) {
      const result = await wrk(target, duration);
      results.get(target.name)!.push(result);
      say(
        `${target.name.padEnd(20)} ${String(Math.round(result.requestsPerSecond)).padStart(6)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms`,
      );
    }
  }
  const median = (name: string): Round => {
    const sorted = [...results.get(name)!].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const capacity = Object.fromEntries(targets.map((target) => [target.name, median(target.name)]));
  const nginx = capacity.nginx!.requestsPerSecond;
  const proxyOnly = capacity.gateway!.requestsPerSecond;

  console.log(`\n| target | req/s | p50 | p99 | × nginx |`);
  console.log('|---|---|---|---|---|');
  for (const target of targets) {
    const { requestsPerSecond, p50Ms, p99Ms } = capacity[target.name]!;
    console.log(
      `| ${target.name} | ${Math.round(requestsPerSecond)} | ${p50Ms} ms | ${p99Ms} ms | ${(requestsPerSecond / nginx).toFixed(2)}× |`,
    );
  }

  // Half of the gateway's capacity, the same schedule for each target: the latency the gateway adds.
  const rate = Math.max(100, Math.round(proxyOnly / 2));
  console.log(`\nFixed rate: ${rate} req/s for ${2 * duration} s per target (half the gateway's capacity)`);
  const cores = values.pin
    ? await giveProxiesTheirOwnCore([nginxServer, gateway], [upstream])
    : 'Every process on every core.';
  say(cores);
  const fixed = new Map<string, number[]>();
  for (const target of [targets[0]!, targets[1]!, targets[2]!]) {
    await fixedRate(target, rate, 1); // warm the connections
    await probes?.next();
    const latencies = (await fixedRate(target, rate, 2 * duration)).sort((a, b) => a - b);
    const reports = await probes?.next();
    fixed.set(target.name, latencies);
    say(
      `${target.name.padEnd(20)} p50 ${ms(quantile(latencies, 0.5))} ms  p99 ${ms(quantile(latencies, 0.99))} ms  max ${ms(latencies.at(-1)!)} ms`,
    );
    if (reports !== undefined) printReports(reports);
  }
  const p99 = (name: string) => quantile(fixed.get(name)!, 0.99);
  const p50 = (name: string) => quantile(fixed.get(name)!, 0.5);

  const summary = {
    machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}, load average at the end ${load()}`,
    client: `wrk, ${connections} connections, 1 thread; ${rounds} interleaved rounds of ${duration} s, median round`,
    capacity: Object.fromEntries(
      Object.entries(capacity).map(([name, round]) => [
        name,
        { requestsPerSecond: Math.round(round.requestsPerSecond), p50Ms: round.p50Ms, p99Ms: round.p99Ms },
      ]),
    ),
    ratios: {
      gatewayOverNginx: Number((proxyOnly / nginx).toFixed(3)),
      fullChainOverNginx: Number((capacity['gateway full chain']!.requestsPerSecond / nginx).toFixed(3)),
      fullChainOverProxyOnly: Number(
        (capacity['gateway full chain']!.requestsPerSecond / proxyOnly).toFixed(3),
      ),
      nginxOverDirect: Number((nginx / capacity.direct!.requestsPerSecond).toFixed(3)),
    },
    halfCapacity: {
      rate,
      conditions: `${priority} ${cores}`,
      p50Ms: Object.fromEntries([...fixed.keys()].map((name) => [name, ms(p50(name))])),
      p99Ms: Object.fromEntries([...fixed.keys()].map((name) => [name, ms(p99(name))])),
      gatewayP99AddedMs: ms(p99('gateway') - p99('direct')),
      nginxP99AddedMs: ms(p99('nginx') - p99('direct')),
    },
  };
  console.log(`\n${JSON.stringify(summary, null, 2)}\n`);
  const gatewayLatencies = fixed.get('gateway')!;
  console.log(histogramText(gatewayLatencies));
  const file = path.join(root, 'bench', 'results', 'gateway.svg');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    histogramSvg(gatewayLatencies, {
      title: `GET ${'/api/products/:id'} through the gateway at ${rate} req/s (half its capacity)`,
      samples: 'requests',
      latencyMs: { p50: p50('gateway'), p99: p99('gateway') },
      markers: [
        { label: 'direct p99', ms: p99('direct'), color: '#6e7781' },
        { label: 'nginx p99', ms: p99('nginx'), color: '#9a6700' },
      ],
    }),
  );
  console.log(`Chart: ${path.relative(process.cwd(), file)}`);
  if (values['cpu-prof']) {
    gateway.kill('SIGTERM');
    await once(gateway, 'exit');
    console.log(`Gateway CPU profile: bench/results/profiles/`);
  }
}

/**
 * Other work on a shared machine takes a core from whichever bench process happens to be waiting; at nice -10
 * (it needs root) the bench's processes, wrk and every target alike, get the cores first and that work the rest.
 */
function raisePriority(): string {
  try {
    setPriority(-10);
    return 'The bench and its children run at nice -10.';
  } catch {
    return 'Not allowed to raise the priority: the bench shares the cores with the machine’s other work.';
  }
}

/**
 * --pin: the proxy under test gets a core of its own: nginx and the gateway (every thread) on the last core, the
 * bench's client and the upstream on the others; the direct calls run with the client and the upstream where
 * they are for the proxies. Sharing every core, the three busy processes of a proxied request wait for each
 * other's cores, and the proxy that takes the most CPU per request makes the others wait the longest (measured
 * with --probe). It is not the default: pinned, the gateway's own helper threads (the collector's among them)
 * share its one core, and the tail did not shrink (README, Performance → Gateway).
 */
async function giveProxiesTheirOwnCore(proxies: ChildProcess[], rest: ChildProcess[]): Promise<string> {
  const last = cpus().length - 1;
  if (last < 1) return 'One core: the proxies share it with the client.';
  const pin = (pid: number, list: string) =>
    promisify(execFile)('taskset', ['-a', '-p', '-c', list, String(pid)]);
  try {
    for (const proxy of proxies)
      for (const pid of [proxy.pid!, ...childrenOf(proxy.pid!)]) await pin(pid, String(last));
    for (const pid of [process.pid, ...rest.map((child) => child.pid!)]) await pin(pid, `0-${last - 1}`);
  } catch (error) {
    return `Could not pin the processes (${(error as Error).message}): every process shares every core.`;
  }
  return `Cores: nginx and the gateway on core ${last}; the client and the upstream on ${last === 1 ? 'core 0' : `cores 0-${last - 1}`}.`;
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(' ')
    .filter(Boolean)
    .map(Number);
}

function probeFlags(): string[] {
  return values.probe ? ['--import', PHASE_PROBE] : [];
}

function probeEnv(name: string): NodeJS.ProcessEnv {
  return values.probe ? { SOUK_BENCH_PROBE_FILE: path.join(work, `probe-${name}.json`) } : {};
}

type ProbeReports = Record<string, PhaseReport | { runMs: number; waitMs: number }>;

/**
 * Every process of a fixed-rate phase, probed: `next()` ends a phase and starts the next. The gateway and the
 * upstream report through their --import'ed probe, the bench's client through its own; nginx (C, one worker)
 * only through its worker's schedstat.
 */
function phaseProbes(processes: Record<'upstream' | 'nginx' | 'gateway', ChildProcess>): {
  next(): Promise<ProbeReports>;
} {
  const client = startPhaseProbe();
  const [worker] = childrenOf(processes.nginx.pid!);
  const nginxSchedstat = schedstatReader(`/proc/${worker}/schedstat`);
  let nginxBefore = nginxSchedstat();
  let phase = 0;
  const remote = async (name: 'upstream' | 'gateway'): Promise<PhaseReport> => {
    processes[name].kill('SIGUSR2');
    const file = path.join(work, `probe-${name}.json`);
    for (;;) {
      // Absent before the first report, and possibly half-written while the probe writes it.
      const report = await readFile(file, 'utf8')
        .then((text) => JSON.parse(text) as PhaseReport)
        .catch(() => undefined);
      if (report?.phase === phase) return report;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    async next() {
      const nginxNow = nginxSchedstat();
      const reports: ProbeReports = {
        client: client.next(),
        upstream: await remote('upstream'),
        gateway: await remote('gateway'),
        nginx: { runMs: nginxNow[0] - nginxBefore[0], waitMs: nginxNow[1] - nginxBefore[1] },
      };
      nginxBefore = nginxNow;
      phase++;
      return reports;
    },
  };
}

function printReports(reports: ProbeReports): void {
  for (const [name, report] of Object.entries(reports)) {
    const cpu = `main thread ran ${Math.round(report.runMs)} ms, waited for a core ${Math.round(report.waitMs)} ms`;
    if (!('stalls' in report)) {
      say(`  ${name.padEnd(9)}${cpu}`);
      continue;
    }
    const { scavenges, markCompacts, stalls } = report;
    say(
      `  ${name.padEnd(9)}${cpu}; CPU ${Math.round(report.cpuMs)} ms; scavenges ${scavenges.count} (${Math.round(scavenges.totalMs)} ms, max ${ms(scavenges.maxMs)}), mark-compacts ${markCompacts.count} (max ${ms(markCompacts.maxMs)} ms)`,
    );
    say(
      `           loop stalls > 5 ms: ${stalls.count}, ${Math.round(stalls.totalMs)} ms (waiting for a core ${Math.round(stalls.waitMs)}, GC ${Math.round(stalls.gcMs)}); largest ${stalls.largest.join(', ')}`,
    );
  }
}

/** Starts a child and remembers it, so that it is stopped whatever happens. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv, ipc = false): ChildProcess {
  const child = spawn(command, args, {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit', ...(ipc ? (['ipc'] as const) : [])],
  });
  children.push(child);
  return child;
}

async function startUpstream(jwks: string): Promise<ChildProcess> {
  const child = start(
    process.execPath,
    [
      ...probeFlags(),
      path.join(root, 'bench', 'lib', 'static-upstream.ts'),
      String(PORTS.upstream),
      values['body-bytes'],
    ],
    { ...process.env, SOUK_BENCH_JWKS: jwks, ...probeEnv('upstream') },
    true,
  );
  await once(child, 'message');
  return child;
}

/** Debian's nginx as a reverse proxy tuned the usual way: one worker, a keep-alive pool, no access log. */
async function startNginx(): Promise<ChildProcess> {
  const conf = path.join(work, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${work}/client-body;
  proxy_temp_path ${work}/proxy;
  fastcgi_temp_path ${work}/fastcgi;
  uwsgi_temp_path ${work}/uwsgi;
  scgi_temp_path ${work}/scgi;
  upstream shop { server 127.0.0.1:${PORTS.upstream}; keepalive 128; keepalive_requests 1000000; }
  # nginx closes a keep-alive connection after 1000 requests by default; the node servers never do.
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${PORTS.nginx};
    location / {
      proxy_pass http://shop;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const child = start('nginx', ['-p', work, '-c', conf, '-e', `${work}/nginx-error.log`], process.env);
  await waitForPort(PORTS.nginx);
  return child;
}

async function startGateway(): Promise<ChildProcess> {
  const upstream = `http://127.0.0.1:${PORTS.upstream}`;
  const profiles = path.join(root, 'bench', 'results', 'profiles');
  if (values['cpu-prof']) await mkdir(profiles, { recursive: true });
  const child = start(
    process.execPath,
    [
      ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []),
      ...probeFlags(),
      path.join(root, 'services', 'gateway', 'src', 'main.ts'),
    ],
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SOUK__PROFILE: 'local',
      SOUK__HTTP__PORT: String(PORTS.gateway),
      SOUK__REGISTRY: JSON.stringify({ users: upstream, inventory: upstream }),
      SOUK__INTERNAL__SECRET: 'bench-internal-secret-bench-internal-secret',
      SOUK_CONFIG_FILE: path.join(work, 'gateway.yaml'),
      // No access log on either proxy: nginx's is off, and the gateway's request lines are at info.
      SOUK__LOG__LEVEL: 'warn',
      // One client from one IP sends every request: a limit it never reaches, still counted per request.
      SOUK__RATE_LIMIT__MAX: '1000000000',
      ...probeEnv('gateway'),
    },
  );
  await waitFor(async () => (await fetch(`http://127.0.0.1:${PORTS.gateway}/health/ready`)).ok);
  return child;
}

async function expectOk(target: Target): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${target.port}${PRODUCT_PATH}`, { headers: target.headers });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${target.name} answered ${response.status}: ${body}`);
}

async function waitForPort(port: number): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => resolve(socket.end() && true));
        socket.once('error', () => resolve(false));
      }),
  );
}

async function waitFor(ready: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error('a bench process did not come up');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One wrk run; its Lua `done` prints what it measured as JSON, errors included, so a failing target shows. */
async function wrk(target: Target, seconds: number): Promise<Round> {
  const script = path.join(work, 'report.lua');
  await writeFile(
    script,
    `done = function(summary, latency, requests)
  io.write(string.format('{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
`,
  );
  const headers = Object.entries(target.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const child = spawn(
    'wrk',
    [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '-s',
      script,
      ...headers,
      `http://127.0.0.1:${target.port}${PRODUCT_PATH}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await once(child, 'exit');
  const line = output.split('\n').find((text) => text.startsWith('{"requests"'));
  if (line === undefined) throw new Error(`wrk printed no result for ${target.name}:\n${output}`);
  const result = JSON.parse(line) as Record<string, number>;
  const errors = result.status! + result.connect! + result.read! + result.write! + result.timeout!;
  if (errors > 0) throw new Error(`${target.name}: ${errors} errors in one wrk run (${line})`);
  return {
    requestsPerSecond: result.requests! / (result.durationUs! / 1e6),
    p50Ms: ms(result.p50Us! / 1000),
    p99Ms: ms(result.p99Us! / 1000),
  };
}

/**
 * An open-loop client: request i is due at start + i/rate whatever happened before it, and its latency runs
 * from that due time to the end of its response, so a stall counts against every request it delayed (wrk2's
 * correction for coordinated omission; wrk2 itself is not packaged here). `connections` keep-alive sockets carry
 * the requests, each one at a time, as wrk's do.
 */
async function fixedRate(target: Target, rate: number, seconds: number): Promise<number[]> {
  const request = Buffer.from(
    `GET ${PRODUCT_PATH} HTTP/1.1\r\nhost: 127.0.0.1:${target.port}\r\n${Object.entries(target.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`,
  );
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const idle: Connection[] = [];
  const due: number[] = [];
  let sent = 0;
  const started = performance.now();
  let finished!: () => void;
  let failed!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });

  const dispatch = () => {
    while (due.length > 0 && idle.length > 0) idle.pop()!.send(due.shift()!);
  };
  class Connection {
    readonly socket: Socket;
    #dueAt = 0;
    #buffer: Buffer = Buffer.alloc(0);

    constructor() {
      this.socket = connect(target.port, '127.0.0.1');
      this.socket.setNoDelay(true);
      this.socket.on('data', (chunk: Buffer) => this.#receive(chunk));
      this.socket.on('error', (error) => {
        failed(new Error(`${target.name}: ${error.message}`));
      });
    }

    send(dueAt: number): void {
      this.#dueAt = dueAt;
      this.socket.write(request);
    }

    /** Reads one response framed by Content-Length (every target sends one for this answer). */
    #receive(chunk: Buffer): void {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = this.#buffer.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (length === null || !head.startsWith('HTTP/1.1 200')) {
        failed(new Error(`${target.name}: ${head}`));
        return;
      }
      if (this.#buffer.length < end + 4 + Number(length[1])) return;
      this.#buffer = Buffer.alloc(0);
      latencies.push(performance.now() - this.#dueAt);
      if (latencies.length === total) finished();
      idle.push(this);
      dispatch();
    }
  }
  const pool = Array.from({ length: connections }, () => new Connection());
  await Promise.all(pool.map((connection) => once(connection.socket, 'connect')));
  idle.push(...pool);
  const timer = setInterval(() => {
    const now = performance.now();
    while (sent < total && started + (sent * 1000) / rate <= now) due.push(started + (sent++ * 1000) / rate);
    dispatch();
    if (sent === total) clearInterval(timer);
  }, 1);
  await done.finally(() => {
    clearInterval(timer);
    for (const connection of pool) connection.socket.destroy();
  });
  return latencies;
}
