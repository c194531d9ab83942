// The engines a fleet runs on (PostgreSQL, RabbitMQ, Redis, etcd): where to find each, whether it answers, and
// one line that says how to start it when it does not. etcd alone is started here when its binary is installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { settlesWithin, withTimeout } from '@souk/kit';
import pg from 'pg';

export interface EngineAddresses {
  postgres: string;
  amqp: string;
  redis: string;
  etcd: string;
}

/** The defaults of this kind of machine, each overridable by environment. */
export function engineAddresses(env: NodeJS.ProcessEnv): EngineAddresses {
  return {
    postgres: env.SOUK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    amqp: env.SOUK_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    redis: env.SOUK_REDIS_URL ?? 'redis://127.0.0.1:6379',
    etcd: env.SOUK_ETCD_URL ?? 'http://127.0.0.1:2379',
  };
}

/** What to do when an engine does not answer, on a Debian machine like this one. */
export const HOW_TO_START: Record<keyof EngineAddresses, { name: string; advice: string; variable: string }> =
  {
    postgres: {
      name: 'PostgreSQL',
      advice: 'apt-get install postgresql, then pg_ctlcluster <version> main start',
      variable: 'SOUK_POSTGRES_URL',
    },
    amqp: {
      name: 'RabbitMQ',
      advice: 'apt-get install rabbitmq-server, then rabbitmq-server -detached',
      variable: 'SOUK_AMQP_URL',
    },
    redis: {
      name: 'Redis',
      advice: 'apt-get install redis-server, then redis-server --daemonize yes --bind 127.0.0.1',
      variable: 'SOUK_REDIS_URL',
    },
    etcd: {
      name: 'etcd',
      advice: 'apt-get install etcd-server etcd-client (Souk then starts it itself)',
      variable: 'SOUK_ETCD_URL',
    },
  };

/** One line naming the engine, where it was looked for, and how to start it. */
export const missingEngineLine = (engine: keyof EngineAddresses, url: string): string => {
  const { name, advice, variable } = HOW_TO_START[engine];
  return `${name} does not answer at ${redact(url)}: start it (${advice}) or point ${variable} at one.`;
};

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//');

/** Whether something accepts TCP connections at the URL's host and port. */
export function listening(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function etcdAnswers(url: string): Promise<boolean> {
  try {
    const response = await withTimeout(1000, (signal) => fetch(new URL('/version', url), { signal }));
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** An etcd this process started, with its data under the data folder; stopped with the fleet. */
export interface OwnEtcd {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts Debian's etcd on the URL's port, data in `dataDir`; resolves once it answers. */
export async function startEtcd(url: string, dataDir: string, binary = 'etcd'): Promise<OwnEtcd> {
  const client = new URL(url);
  const peerPort = Number(client.port) + 1;
  await mkdir(dataDir, { recursive: true });
  const child = spawn(
    binary,
    [
      '--name',
      'souk',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      client.origin,
      '--advertise-client-urls',
      client.origin,
      '--listen-peer-urls',
      `http://${client.hostname}:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://${client.hostname}:${peerPort}`,
      '--initial-cluster',
      `souk=http://${client.hostname}:${peerPort}`,
    ],
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_resolve, reject) =>
    child.once('error', (error) => reject(new Error(`etcd could not start: ${error.message}`))),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await Promise.race([etcdAnswers(url), failed])) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`etcd started from ${binary} did not answer at ${url} within 10 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      if (!(await settlesWithin(5000, exited))) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Whether an executable of that name is on PATH. */
export async function onPath(binary: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const { access, constants } = await import('node:fs/promises');
  for (const folder of (env.PATH ?? '').split(path.delimiter)) {
    if (folder === '') continue;
    try {
      await access(path.join(folder, binary), constants.X_OK);
      return true;
    } catch {
      // Not in this folder.
    }
  }
  return false;
}

/** Creates each database that does not exist yet on the server; returns the URL of each. */
export async function ensureDatabases(
  serverUrl: string,
  names: readonly string[],
): Promise<Map<string, string>> {
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database');
    const existing = new Set(rows.map((row) => row.datname));
    for (const name of names) {
      if (!existing.has(name)) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    }
  } finally {
    await admin.end();
  }
  return new Map(
    names.map((name) => {
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return [name, url.toString()];
    }),
  );
}
