import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { migrate, type Pool, type Transaction } from '../db.ts';
import { createTestDatabase, testPool, type TestDatabase } from '../testing.ts';
import { activeTraceId, contextFromTraceparent, inSpan } from '../tracing/tracer.ts';
import { createEnvelope } from './envelope.ts';
import { batchedConsumeOnce, consumeOnce, once, pruneInbox } from './inbox.ts';
import { MESSAGING_MIGRATIONS } from './outbox.ts';

describe('inbox', () => {
  let database: TestDatabase;
  let db: Pool;
  const message = () => createEnvelope('test.happened', { n: 1 }, { source: 'souk/test' });
  const apply = (tx: Transaction) => tx.query('UPDATE counter SET applied = applied + 1').then(() => {});
  const applied = async () =>
    (await db.query<{ applied: number }>('SELECT applied FROM counter')).rows[0]!.applied;

  before(async () => {
    database = await createTestDatabase('inbox');
    db = testPool(database.url, 12);
    await migrate(db, MESSAGING_MIGRATIONS);
    await db.query('CREATE TABLE counter (applied integer NOT NULL)');
  });

  beforeEach(async () => {
    await db.query('TRUNCATE inbox, counter');
    await db.query('INSERT INTO counter VALUES (0)');
  });

  after(async () => {
    await db.end();
    await database.drop();
  });

  it('when the same message arrives twice, then the effect runs once and the duplicate is skipped', async () => {
    const envelope = message();
    assert.equal(await consumeOnce(db, 'notifications', envelope, apply), true);
    assert.equal(await consumeOnce(db, 'notifications', envelope, apply), false);
    assert.equal(await applied(), 1);
  });

  it('when duplicates arrive concurrently, then the effect runs once', async () => {
    const envelope = message();
    const slowApply = async (tx: Transaction) => {
      await apply(tx);
      await new Promise((resolve) => setTimeout(resolve, 30));
    };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => consumeOnce(db, 'notifications', envelope, slowApply)),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await applied(), 1);
  });

  it('when two consumers get the same message, then each applies it once', async () => {
    const envelope = message();
    assert.equal(await consumeOnce(db, 'notifications', envelope, apply), true);
    assert.equal(await consumeOnce(db, 'orders', envelope, apply), true);
    assert.equal(await applied(), 2);
  });

  it('when the effect fails, then nothing is recorded and a redelivery applies it', async () => {
    const envelope = message();
    await assert.rejects(
      consumeOnce(db, 'notifications', envelope, async (tx) => {
        await apply(tx);
        throw new Error('the effect failed');
      }),
      /the effect failed/,
    );
    assert.equal(await applied(), 0);
    assert.equal(await consumeOnce(db, 'notifications', envelope, apply), true);
    assert.equal(await applied(), 1);
  });

  it('when a handler is wrapped with once(), then it receives the transaction and envelope, once', async () => {
    const seen: string[] = [];
    const handle = once(db, 'notifications', async (tx, envelope) => {
      seen.push(envelope.id);
      await apply(tx);
    });
    const envelope = message();
    await handle(envelope);
    await handle(envelope);
    assert.deepEqual(seen, [envelope.id]);
  });

  it('when entries are older than the retention, then pruning forgets them', async () => {
    await consumeOnce(db, 'notifications', message(), apply);
    const anHourAgo = () => new Date(Date.now() - 3_600_000);
    assert.equal(await pruneInbox(db, anHourAgo()), 0);
    await db.query(`UPDATE inbox SET processed_at = now() - interval '2 hours'`);
    assert.equal(await pruneInbox(db, anHourAgo()), 1);
  });

  describe('batched', () => {
    it('when many messages arrive at once, then each is applied once, in fewer transactions than messages', async () => {
      let commits = 0;
      const counting = new Proxy(db, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property);
          if (property === 'connect')
            return async () => {
              commits += 1;
              return target.connect();
            };
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const consume = batchedConsumeOnce();
      const envelopes = Array.from({ length: 20 }, message);
      const results = await Promise.all(
        [...envelopes, envelopes[0]!].map((envelope) => consume(counting, 'notifications', envelope, apply)),
      );
      assert.equal(results.filter(Boolean).length, 20, 'the duplicate of the first is skipped');
      assert.equal(await applied(), 20);
      assert.ok(commits < 20, `${commits} transactions for 21 messages`);
    });

    it('when one effect of a batch fails, then it alone is rolled back and rejected, and the others commit', async () => {
      const consume = batchedConsumeOnce();
      const [first, failing, third] = [message(), message(), message()];
      const results = await Promise.allSettled([
        consume(db, 'notifications', first, apply),
        consume(db, 'notifications', failing, async (tx) => {
          await apply(tx);
          throw new Error('this one fails');
        }),
        consume(db, 'notifications', third, apply),
      ]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal(await applied(), 2);
      const { rows } = await db.query<{ message_id: string }>('SELECT message_id FROM inbox');
      assert.deepEqual(rows.map((row) => row.message_id).sort(), [first.id, third.id].sort());
    });

    it("when messages of different traces share a transaction, then each effect runs in its own message's trace", async () => {
      const consume = batchedConsumeOnce();
      const traceIds = Array.from({ length: 5 }, () => randomBytes(16).toString('hex'));
      const seen = new Map<string, string | undefined>();
      await Promise.all(
        traceIds.map((traceId) =>
          // As the transport calls a handler: inside its message's CONSUMER span.
          inSpan('handle', { parent: contextFromTraceparent(`00-${traceId}-00f067aa0ba902b7-01`) }, () =>
            consume(db, 'notifications', message(), async (tx) => {
              await apply(tx);
              seen.set(traceId, activeTraceId());
            }),
          ),
        ),
      );
      assert.deepEqual(
        traceIds.map((traceId) => seen.get(traceId)),
        traceIds,
      );
    });
  });
});
