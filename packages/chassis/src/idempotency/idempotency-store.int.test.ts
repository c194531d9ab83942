// The idempotency store against PostgreSQL: who may complete a key, and which keys retention removes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPool, migrate, withTransaction, type Pool } from '../db.ts';
import { createTestDatabase, type TestDatabase } from '../testing.ts';
import { IDEMPOTENCY_MIGRATIONS, claimKey, completeKey, pruneExpiredIdempotencyKeys } from './index.ts';

describe('idempotency store', () => {
  let database: TestDatabase;
  let db: Pool;
  const answer = { ok: true as const, status: 201 as const, value: { done: true } };

  before(async () => {
    database = await createTestDatabase('idempotency_store');
    db = createPool(database.url);
    await migrate(db, IDEMPOTENCY_MIGRATIONS);
  });

  after(async () => {
    await db?.end();
    await database?.drop();
  });

  const claim = (key: string, leaseMs: number) =>
    withTransaction(db, (tx) =>
      claimKey(tx, { caller: 'test', key, operation: 'op', fingerprint: 'f' }, leaseMs),
    );
  const complete = (key: string, held?: string) =>
    withTransaction(db, (tx) => completeKey(tx, 'test', key, answer, held));

  it('when a retry resumed a key whose lease ran out, then the displaced claim cannot complete it, and the retry can', async () => {
    const key = randomUUID();
    const first = await claim(key, 1);
    assert.equal(first.action, 'new');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await claim(key, 60_000);
    assert.equal(second.action, 'resume');
    assert.ok('claim' in first && 'claim' in second);
    assert.equal(await complete(key, first.claim), false);
    assert.equal(await complete(key, second.claim), true);
    assert.equal(await complete(key, second.claim), false, 'a completed key is not completed again');
    assert.deepEqual(await claim(key, 1), { action: 'replay', answer });
  });

  it('when keys are pruned, then those completed or abandoned before the cut-off go, and live or recent ones stay', async () => {
    const [oldDone, oldAbandoned, oldLeased, recentDone] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await claim(oldDone, 1);
    await complete(oldDone);
    await claim(oldAbandoned, 1);
    await claim(oldLeased, 3_600_000);
    await claim(recentDone, 1);
    await complete(recentDone);
    await db.query(`UPDATE idempotency_keys SET updated_at = now() - interval '2 days' WHERE key = ANY($1)`, [
      [oldDone, oldAbandoned, oldLeased],
    ]);
    await db.query(`UPDATE idempotency_keys SET leased_until = now() - interval '2 days' WHERE key = $1`, [
      oldAbandoned,
    ]);
    const pruned = await pruneExpiredIdempotencyKeys(db, new Date(Date.now() - 86_400_000));
    const { rows } = await db.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1)', [
      [oldDone, oldAbandoned, oldLeased, recentDone],
    ]);
    assert.equal(pruned, 2);
    assert.deepEqual(rows.map((row) => row.key).sort(), [oldLeased, recentDone].sort());
  });
});
