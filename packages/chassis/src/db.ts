// PostgreSQL: one pool per service, SQL migrations applied once at start-up, and transactions as a function.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TracedClient } from './tracing/pg.ts';

export type Pool = pg.Pool;
export type Queryable = pg.Pool | pg.PoolClient;
export type Transaction = pg.PoolClient;

// BIGINT (int8) counts and sums arrive as numbers; Souk's values stay well inside 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export function createPool(url: string, options: { max?: number; applicationName?: string } = {}): Pool {
  return new pg.Pool({
    connectionString: url,
    // Its queries are spans inside a traced operation (tracing/pg.ts).
    Client: TracedClient,
    max: options.max ?? 10,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
}

export async function withTransaction<T>(pool: Pool, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** PostgreSQL's SQLSTATE for a unique violation, for callers that turn it into a 409. */
export const UNIQUE_VIOLATION = '23505';
export const isUniqueViolation = (error: unknown, constraint?: string): boolean =>
  error instanceof Error &&
  (error as { code?: string }).code === UNIQUE_VIOLATION &&
  (constraint === undefined || (error as { constraint?: string }).constraint === constraint);

/**
 * Applies every `*.sql` file in `folder` not applied yet, in name order, each in its own transaction.
 * An advisory lock serialises instances that start together.
 */
export async function migrate(pool: Pool, folder: URL | string): Promise<string[]> {
  const dir = typeof folder === 'string' ? folder : fileURLToPath(folder);
  const files = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const applied: string[] = [];
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['souk.migrations']);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ name: string }>('SELECT name FROM schema_migrations');
    const done = new Set(rows.map((row) => row.name));
    for (const file of files) {
      if (done.has(file)) continue;
      await tx.query(await readFile(path.join(dir, file), 'utf8'));
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
      applied.push(file);
    }
  });
  return applied;
}
