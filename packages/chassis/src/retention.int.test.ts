import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Pool, Queryable } from './db.ts';
import { eventually, recordingLogger } from './messaging/test-helpers.ts';
import { RetentionWorker, type RetentionRule } from './retention.ts';
import { createTestDatabase, testPool, type TestDatabase } from './testing.ts';

describe('retention', () => {
  let database: TestDatabase;
  let db: Pool;
  const now = new Date('2026-06-01T12:00:00Z');
  const HOUR = 3_600_000;

  /** A rule over a real table: rows whose `spent_at` is older than the cut-off go. */
  const spentRows = (keepMs: () => number): RetentionRule => ({
    name: 'spent-rows',
    keepMs,
    async prune(queryable: Queryable, olderThan: Date) {
      const { rowCount } = await queryable.query('DELETE FROM spent WHERE spent_at < $1', [olderThan]);
      return rowCount ?? 0;
    },
  });
  const remaining = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM spent')).rows[0]!.n;

  before(async () => {
    database = await createTestDatabase('retention');
    db = testPool(database.url, 4);
    await db.query('CREATE TABLE spent (id serial PRIMARY KEY, spent_at timestamptz NOT NULL)');
  });

  beforeEach(async () => {
    await db.query('TRUNCATE spent');
    for (const hoursAgo of [1, 5, 30, 100]) {
      await db.query('INSERT INTO spent (spent_at) VALUES ($1)', [new Date(now.getTime() - hoursAgo * HOUR)]);
    }
  });

  after(async () => {
    await db.end();
    await database.drop();
  });

  it('when a run finds rows spent before the kept period, then exactly those are deleted and counted', async () => {
    const worker = new RetentionWorker({
      db,
      log: recordingLogger().log,
      intervalMs: () => HOUR,
      clock: () => now,
    });
    worker.add(spentRows(() => 24 * HOUR));
    assert.deepEqual(await worker.runOnce(), { 'spent-rows': 2 });
    assert.equal(await remaining(), 2);
    assert.deepEqual(await worker.runOnce(), { 'spent-rows': 0 }, 'a second run finds nothing more');
  });

  it('when the kept period changes, then the next run uses the new one', async () => {
    let keepMs = 200 * HOUR;
    const worker = new RetentionWorker({
      db,
      log: recordingLogger().log,
      intervalMs: () => HOUR,
      clock: () => now,
    });
    worker.add(spentRows(() => keepMs));
    assert.deepEqual(await worker.runOnce(), { 'spent-rows': 0 });
    keepMs = 2 * HOUR;
    assert.deepEqual(await worker.runOnce(), { 'spent-rows': 3 });
  });

  it('when one rule fails, then it is logged and the other rules still run', async () => {
    const { log, lines } = recordingLogger();
    const worker = new RetentionWorker({ db, log, intervalMs: () => HOUR, clock: () => now });
    worker.add({
      name: 'broken',
      keepMs: () => HOUR,
      prune: (queryable) => queryable.query('DELETE FROM no_such_table').then(() => 0),
    });
    worker.add(spentRows(() => 24 * HOUR));
    assert.deepEqual(await worker.runOnce(), { 'spent-rows': 2 });
    assert.ok(lines.some((line) => line.msg.includes('retention rule failed') && line.rule === 'broken'));
  });

  it('when started, then it runs on its interval until stopped', async () => {
    const worker = new RetentionWorker({
      db,
      log: recordingLogger().log,
      intervalMs: () => 20,
      clock: () => now,
    });
    worker.add(spentRows(() => 24 * HOUR));
    worker.start();
    await eventually(async () => (await remaining()) === 2, 'the scheduled run pruned the old rows');
    await worker.stop();
    await db.query('INSERT INTO spent (spent_at) VALUES ($1)', [new Date(now.getTime() - 50 * HOUR)]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await remaining(), 3, 'a stopped worker prunes nothing more');
  });
});
