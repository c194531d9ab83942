// PostgreSQL: one pool per service, SQL migrations applied once at start-up, and transactions as a function.
import { createHash } from 'node:crypto';
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

type Query = (this: pg.Client, ...args: unknown[]) => unknown;
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with the client as `this`, by apply
const tracedQuery = TracedClient.prototype.query as unknown as Query;

/** Distinct statement texts named so far; past the cap, new texts run unnamed (a guard against dynamic SQL). */
const statementNames = new Map<string, string>();
const MAX_NAMED_STATEMENTS = 1000;

/**
 * A client that prepares each parameterised statement once per connection, naming it by its text: PostgreSQL
 * then parses it once and, after a few runs, reuses its plan, where an unnamed statement is parsed and planned
 * at every run (a large share of the server's CPU on the order path, where statements are short).
 */
class PreparingClient extends TracedClient {}

(PreparingClient.prototype as unknown as { query: Query }).query = function preparedQuery(
  this: pg.Client,
  ...args: unknown[]
): unknown {
  const [text, values] = args;
  if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
    let name = statementNames.get(text);
    if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
      name = `souk_${createHash('sha1').update(text).digest('base64url')}`;
      statementNames.set(text, name);
    }
    if (name !== undefined) args[0] = { name, text };
  }
  return tracedQuery.apply(this, args);
};

export function createPool(url: string, options: { max?: number; applicationName?: string } = {}): Pool {
  return new pg.Pool({
    connectionString: url,
    // Its statements are prepared once per connection, and its queries are spans inside a traced operation
    // (tracing/pg.ts).
    Client: PreparingClient,
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
