// Test support: throwaway databases on a real PostgreSQL server, throwaway etcd servers, and a service
// configured for a test.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withTimeout } from '@souk/kit';
import pg from 'pg';
import { freePort } from './net.ts';

export { freePort };
import type { ConfigSource } from './config.ts';
import { createPool, type Pool, type Transaction } from './db.ts';

/** The machine's PostgreSQL, where tests look when SOUK_TEST_DATABASE_URL names no other. */
export const DEFAULT_TEST_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The server integration tests use (`npm test` starts an embedded one when nothing answers at the default). */
export const TEST_SERVER_URL = process.env.SOUK_TEST_DATABASE_URL ?? DEFAULT_TEST_SERVER_URL;

/** The broker the tests of the amqp transport use. */
export const TEST_AMQP_URL = process.env.SOUK_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Whether something accepts a TCP connection at the URL's host and port within a second. */
export function answers(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || defaultPort), timeout: 1000 });
    const settle = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once('connect', () => settle(true));
    socket.once('timeout', () => settle(false));
    socket.once('error', () => settle(false));
  });
}

/**
 * For `describe(…, { skip })` of a test that needs RabbitMQ: the one line that says none answers, or undefined.
 * Under CI=true it throws that line instead: there a missing broker must fail the run, not thin it out.
 */
export async function skipWithoutRabbitMq(
  url = TEST_AMQP_URL,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (await answers(url, 5672)) return undefined;
  const reason = `RabbitMQ is not answering on ${new URL(url).host} (start it, or set SOUK_TEST_AMQP_URL)`;
  if (env.CI === 'true') throw new Error(`${reason}; with CI=true that is a failure, not a skip`);
  return reason;
}

/** The etcd binary: SOUK_TEST_ETCD_BIN, else the first `etcd` on the PATH. */
function findEtcd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates =
    env.SOUK_TEST_ETCD_BIN === undefined
      ? (env.PATH ?? '').split(path.delimiter).map((folder) => path.join(folder, 'etcd'))
      : [env.SOUK_TEST_ETCD_BIN];
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** For `describe(…, { skip })` of a test that needs etcd: the one line that says there is none, or undefined. */
export function skipWithoutEtcd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (findEtcd(env) !== undefined) return undefined;
  const reason = 'no etcd binary on the PATH (install etcd-server, or set SOUK_TEST_ETCD_BIN)';
  if (env.CI === 'true') throw new Error(`${reason}; with CI=true that is a failure, not a skip`);
  return reason;
}

export interface TestEtcd {
  /** The client URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Kills the server, keeping its data, as an outage would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Kills it and removes its data. */
  stop(): Promise<void>;
}

/** A single-member etcd on free ports with its data in a temporary folder, answering when this resolves. */
export async function startTestEtcd(): Promise<TestEtcd> {
  const binary = findEtcd();
  if (binary === undefined) throw new Error(skipWithoutEtcd() ?? 'no etcd binary');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'souk-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    `--name=test`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--log-level=error',
  ];
  let child: ChildProcess | undefined;
  const launch = async () => {
    const started = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child = started;
    const deadline = Date.now() + 15_000;
    while (!(await etcdHealthy(url))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`etcd did not start on ${url}: ${stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function etcdHealthy(url: string): Promise<boolean> {
  try {
    const response = await withTimeout(1000, (signal) => fetch(`${url}/health`, { signal }));
    return response.ok && ((await response.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database; `drop()` removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `souk_test_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_SERVER_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export const TEST_INTERNAL_SECRET = 'test-internal-secret-0123456789abcdef';

/** Environment for a service under test: its database, the shared secret, an ephemeral port, quiet logs. */
export function testEnvironment(databaseUrl?: string): NodeJS.ProcessEnv {
  return {
    SOUK__INTERNAL__SECRET: TEST_INTERNAL_SECRET,
    SOUK__HTTP__PORT: '0',
    SOUK__LOG__LEVEL: process.env.SOUK_TEST_LOG_LEVEL ?? 'silent',
    ...(databaseUrl === undefined ? {} : { SOUK__DATABASE__URL: databaseUrl }),
  };
}

/** A config source held in memory, so a test can change configuration and watch the service react. */
export class MemoryConfigSource implements ConfigSource {
  readonly description = 'memory';
  #value: Record<string, unknown>;
  readonly #listeners = new Set<() => void>();

  constructor(value: Record<string, unknown> = {}) {
    this.#value = value;
  }

  async load(): Promise<Record<string, unknown>> {
    return structuredClone(this.#value);
  }

  set(value: Record<string, unknown>): void {
    this.#value = value;
    for (const listener of this.#listeners) listener();
  }

  watch(onChange: () => void): () => void {
    this.#listeners.add(onChange);
    return () => this.#listeners.delete(onChange);
  }
}

/** An HTTP answer read off a raw socket: for requests no HTTP client would send. */
export interface RawAnswer {
  status: number;
  /** The status line and headers, lower-cased. */
  head: string;
  body: Record<string, unknown>;
}

/** Writes `request` as is to a socket on 127.0.0.1:`port` and reads the answer until the server closes. */
export function exchangeRaw(port: number, request: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      resolve({
        status: Number(head.split(' ')[1]),
        head: head.toLowerCase(),
        body: JSON.parse(body) as RawAnswer['body'],
      });
    });
    socket.end(request);
  });
}

/** Requests Node's HTTP parser or the router refuses, with the problem every Souk server answers them with. */
export const MALFORMED_REQUESTS = [
  ['an unknown method', 'FOO /api/products HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
  [
    'a 100 KB header',
    `GET /api/products HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(100_000)}\r\n\r\n`,
    431,
    'HEADERS_TOO_LARGE',
  ],
  [
    'two Content-Length headers',
    'POST /api/users HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}',
    400,
    'MALFORMED_REQUEST',
  ],
  [
    'a path that is not UTF-8',
    'GET /api/products/%ff HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
    400,
    'INVALID_PATH',
  ],
  [
    'a NUL in the query',
    'GET /api/products?q=a%00b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
    400,
    'INVALID_TEXT',
  ],
] as const;

/**
 * A pool for a test database. `pool.end()` resolves before its sockets are closed, so dropping the database
 * right after can kill a connection still closing; that error is expected and must not crash the run.
 */
export function testPool(url: string, max = 10): Pool {
  const pool = createPool(url, { max });
  pool.on('error', () => {});
  return pool;
}

/**
 * The pool, counting the commits made through it: each statement outside a transaction is one, as PostgreSQL
 * counts them, and so is each COMMIT.
 */
export function countingCommits(pool: Pool): {
  pool: Pool;
  readonly commits: number;
  /** The statements run outside a transaction, each its own commit, in order. */
  readonly autocommitted: readonly string[];
} {
  let commits = 0;
  const autocommitted: string[] = [];
  const countedClient = (client: Transaction) =>
    new Proxy(client, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property);
        if (property === 'query')
          return (...args: Parameters<Transaction['query']>) => {
            if (args[0] === 'COMMIT') commits += 1;
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const counted = new Proxy(pool, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (property === 'query')
        return (...args: Parameters<Pool['query']>) => {
          commits += 1;
          autocommitted.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text);
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      if (property === 'connect') return async () => countedClient(await target.connect());
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    pool: counted,
    get commits() {
      return commits;
    },
    autocommitted,
  };
}
