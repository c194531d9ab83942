// The database's own guarantees, whatever the code above it does: one successful charge per order, balanced
// and append-only ledger journals.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  IDEMPOTENCY_MIGRATIONS,
  isUniqueViolation,
  migrate,
  withTransaction,
  type Pool,
} from '@souk/chassis';
import { createTestDatabase, testPool, type TestDatabase } from '@souk/chassis/testing';

describe('payments schema', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase('payments_schema');
    pool = testPool(database.url, 2);
    await migrate(pool, IDEMPOTENCY_MIGRATIONS);
    await migrate(pool, new URL('./migrations/', import.meta.url));
  });

  after(async () => {
    await pool.end();
    await database.drop();
  });

  const payment = async (orderId: string, status: string) => {
    const id = randomUUID();
    const key = randomUUID();
    await pool.query(
      `INSERT INTO idempotency_keys (caller, key, operation, fingerprint, state)
       VALUES ('orders', $1, 'charge', 'f', 'IN_PROGRESS')`,
      [key],
    );
    await pool.query('INSERT INTO payment_orders (order_id) VALUES ($1) ON CONFLICT DO NOTHING', [orderId]);
    await pool.query(
      `INSERT INTO payments (id, order_id, user_id, amount, currency, status, card_last4,
                             idempotency_caller, idempotency_key)
       VALUES ($1, $2, $3, 1999, 'USD', $4, '4242', 'orders', $5)`,
      [id, orderId, randomUUID(), status, key],
    );
    return id;
  };

  const book = (paymentId: string, journalId: string, entries: Array<[string, number]>) =>
    withTransaction(pool, async (tx) => {
      for (const [account, amount] of entries) {
        await tx.query(
          `INSERT INTO ledger_entries (journal_id, payment_id, kind, account, amount, currency)
           VALUES ($1, $2, 'charge', $3, $4, 'USD')`,
          [journalId, paymentId, account, amount],
        );
      }
    });

  it('when a second payment of an order is marked SUCCEEDED, then the database refuses it; FAILED and REFUNDED ones may be many', async () => {
    const orderId = randomUUID();
    await payment(orderId, 'SUCCEEDED');
    await payment(orderId, 'FAILED');
    await payment(orderId, 'REFUNDED');
    await payment(orderId, 'REFUNDED');
    await assert.rejects(payment(orderId, 'SUCCEEDED'), (error) =>
      isUniqueViolation(error, 'payments_one_success_per_order'),
    );
  });

  it('when a journal does not balance, then it is refused at commit; a balanced one is kept', async () => {
    const paymentId = await payment(randomUUID(), 'SUCCEEDED');
    await assert.rejects(
      book(paymentId, randomUUID(), [
        ['customer:a', -1999],
        ['merchant', 1998],
      ]),
      /does not balance/,
    );
    await book(paymentId, randomUUID(), [
      ['customer:a', -1999],
      ['merchant', 1999],
    ]);
    const { rows } = await pool.query('SELECT 1 FROM ledger_entries WHERE payment_id = $1', [paymentId]);
    assert.equal(rows.length, 2);
  });

  it('when a booked entry is changed or deleted, then the database refuses: the ledger is append-only', async () => {
    const paymentId = await payment(randomUUID(), 'SUCCEEDED');
    await book(paymentId, randomUUID(), [
      ['customer:b', -500],
      ['merchant', 500],
    ]);
    await assert.rejects(
      pool.query('UPDATE ledger_entries SET amount = 0 WHERE payment_id = $1', [paymentId]),
      /append-only/,
    );
    await assert.rejects(
      pool.query('DELETE FROM ledger_entries WHERE payment_id = $1', [paymentId]),
      /append-only/,
    );
  });
});
