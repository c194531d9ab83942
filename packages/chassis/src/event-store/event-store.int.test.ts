import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, migrate, withTransaction, type Pool } from '../db.ts';
import { createTestDatabase, type TestDatabase } from '../testing.ts';
import { ConcurrencyError, EVENT_STORE_MIGRATIONS, eventStore } from './event-store.ts';

describe('event store', () => {
  let database: TestDatabase;
  let db: Pool;

  before(async () => {
    database = await createTestDatabase('event_store');
    db = createPool(database.url);
    await migrate(db, EVENT_STORE_MIGRATIONS);
  });

  after(async () => {
    await db.end();
    await database.drop();
  });

  it('when events are appended at the expected version, then the stream reads them back in order', async () => {
    const version = await withTransaction(db, (tx) =>
      eventStore.append(tx, 's-1', 0, [
        { type: 'Opened', data: { n: 1 } },
        { type: 'Noted', data: { n: 2 }, metadata: { by: 'test' } },
      ]),
    );
    assert.equal(version, 2);
    await withTransaction(db, (tx) => eventStore.append(tx, 's-1', 2, [{ type: 'Closed', data: {} }]));
    const events = await eventStore.readStream(db, 's-1');
    assert.deepEqual(
      events.map((e) => [e.version, e.type]),
      [
        [1, 'Opened'],
        [2, 'Noted'],
        [3, 'Closed'],
      ],
    );
    assert.deepEqual(events[1]!.metadata, { by: 'test' });
  });

  it('when two writers append at the same version, then exactly one wins and the other gets ConcurrencyError', async () => {
    await withTransaction(db, (tx) => eventStore.append(tx, 's-2', 0, [{ type: 'Opened', data: {} }]));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        withTransaction(db, (tx) => eventStore.append(tx, 's-2', 1, [{ type: 'Raced', data: { i } }])),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConcurrencyError);
    assert.equal((await eventStore.readStream(db, 's-2')).length, 2);
  });

  it('when the expected version is stale, then nothing is appended', async () => {
    await assert.rejects(
      withTransaction(db, (tx) => eventStore.append(tx, 's-1', 1, [{ type: 'Late', data: {} }])),
      ConcurrencyError,
    );
    assert.equal((await eventStore.readStream(db, 's-1')).length, 3);
  });

  it('readAll returns events of every stream in global order after a position', async () => {
    const all = await eventStore.readAll(db);
    assert.ok(all.length >= 5);
    assert.deepEqual(
      all.map((e) => e.position),
      [...all.map((e) => e.position)].sort((a, b) => a - b),
    );
    const rest = await eventStore.readAll(db, all[1]!.position);
    assert.equal(rest.length, all.length - 2);
  });
});
