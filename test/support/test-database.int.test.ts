import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import pg from 'pg';
import { provideTestDatabase } from './test-database.ts';

/** A URL where nothing listens: a port taken from the OS and given back. */
async function silentUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

describe('the PostgreSQL of a test run', () => {
  it('when SOUK_TEST_DATABASE_URL names a server, then none is started', async () => {
    const started = await provideTestDatabase(
      { SOUK_TEST_DATABASE_URL: 'postgres://elsewhere/postgres' },
      await silentUrl(),
    );
    assert.equal(started, undefined);
  });

  it('when nothing answers at the default address, then an embedded one serves the run and is gone after stop', async () => {
    const started = await provideTestDatabase({}, await silentUrl());
    assert.ok(started);
    const client = new pg.Client({ connectionString: started.url });
    await client.connect();
    try {
      await client.query('CREATE DATABASE souk_test_provided');
      const { rows } = await client.query<{ ok: number }>('SELECT 1 AS ok');
      assert.deepEqual(rows, [{ ok: 1 }]);
    } finally {
      await client.end();
    }
    await started.stop();
    await assert.rejects(async () => {
      const after = new pg.Client({ connectionString: started.url, connectionTimeoutMillis: 2000 });
      await after.connect();
    }, /ECONNREFUSED/);
  });
});
