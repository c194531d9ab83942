import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Pool } from './db.ts';
import { eventually, recordingLogger } from './messaging/test-helpers.ts';
import { NotifiedCache } from './notified-cache.ts';
import { createTestDatabase, testPool, type TestDatabase } from './testing.ts';

describe('NotifiedCache', () => {
  let database: TestDatabase;
  let db: Pool;
  let cache: NotifiedCache<{ name: string }>;
  let loads: string[][];
  let a: string;
  let b: string;
  /** Runs inside the next load, after its read: a change that lands while the read's answer is on its way. */
  let duringNextLoad: (() => Promise<void>) | undefined;

  const rename = (id: string, name: string) =>
    db.query('UPDATE things SET name = $2 WHERE id = $1', [id, name]);
  const listenerTerminated = async () =>
    (
      await db.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      )
    ).rows.some((row) => row.ended);
  const nobody = 'nobody';
  const nameOf = async (id: string) => (await cache.get(id))?.name;

  before(async () => {
    database = await createTestDatabase('notified_cache');
    db = testPool(database.url, 4);
    await db.query(`
      CREATE TABLE things (id text PRIMARY KEY, name text NOT NULL);
      CREATE FUNCTION things_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('things', OLD.id); RETURN NULL; END $$;
      CREATE TRIGGER things_changed AFTER UPDATE OR DELETE ON things FOR EACH ROW EXECUTE FUNCTION things_changed();
    `);
    cache = new NotifiedCache({
      name: 'things-cache',
      pool: db,
      channel: 'things',
      log: recordingLogger().log,
      max: 100,
      load: async (keys) => {
        loads.push([...keys]);
        const { rows } = await db.query<{ id: string; name: string }>(
          'SELECT id, name FROM things WHERE id = ANY($1)',
          [keys],
        );
        const change = duringNextLoad;
        duringNextLoad = undefined;
        await change?.();
        return new Map(rows.map((row) => [row.id, { name: row.name }]));
      },
    });
    await cache.worker().start();
  });

  beforeEach(async () => {
    // Fresh keys for each test: what an earlier test cached stays cached.
    [a, b] = [randomUUID(), randomUUID()];
    await db.query(`INSERT INTO things VALUES ($1, 'Ada'), ($2, 'Bea')`, [a, b]);
    loads = [];
  });

  after(async () => {
    await cache.worker().stop();
    await db.end();
    await database.drop();
  });

  it('when a key is read twice, then the second read is served from memory; an unknown key is asked each time', async () => {
    assert.equal(await nameOf(a), 'Ada');
    assert.equal(await nameOf(a), 'Ada');
    assert.equal(await nameOf(nobody), undefined);
    assert.equal(await nameOf(nobody), undefined);
    assert.deepEqual(loads, [[a], [nobody], [nobody]]);
  });

  it('when some keys are known, then only the others are read, in one load', async () => {
    await cache.get(a);
    const found = await cache.getMany([a, b, nobody]);
    assert.deepEqual(Object.fromEntries(found), { [a]: { name: 'Ada' }, [b]: { name: 'Bea' } });
    assert.deepEqual(loads, [[a], [b, nobody]]);
  });

  it('when a cached row is updated or deleted by anyone, then the next reads see it within a second', async () => {
    await cache.getMany([a, b]);
    await rename(a, 'Ada L.');
    await db.query(`DELETE FROM things WHERE id = $1`, [b]);
    await eventually(async () => (await nameOf(a)) === 'Ada L.', 'the update is seen', 1000);
    await eventually(async () => (await nameOf(b)) === undefined, 'the delete is seen', 1000);
  });

  it('when a row changes while its read is on the way, then that answer is not kept', async () => {
    duringNextLoad = async () => {
      await rename(a, 'Ada L.');
      await new Promise((resolve) => setTimeout(resolve, 200));
    };
    assert.equal(await nameOf(a), 'Ada');
    assert.equal(await nameOf(a), 'Ada L.');
    assert.equal(loads.length, 2);
  });

  it('when the listen connection is lost, then reads go to the database until it listens again, and what was kept before is forgotten', async () => {
    await nameOf(a);
    assert.ok(await listenerTerminated(), 'the listen connection was found and ended');
    await rename(a, 'Ada L.');
    await eventually(async () => (await nameOf(a)) === 'Ada L.', 'the change is read while not listening');
    await eventually(async () => {
      loads = [];
      const names = [await nameOf(a), await nameOf(a)];
      assert.deepEqual(names, ['Ada L.', 'Ada L.']);
      return loads.length === 1;
    }, 'kept again once listening');
  });
});
