// Every settled charge and every refund leaves its public event in the outbox, in the same transaction.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_CARDS } from '@souk/contracts';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';

describe('payment events', () => {
  let payments: PaymentsFixture;

  before(async () => {
    payments = await startPayments('payment_events');
  });

  after(async () => {
    await payments.close();
  });

  const eventsFor = async (orderId: string) => {
    const { rows } = await payments.service.db.query<{
      type: string;
      data: { orderId: string; amount: unknown };
    }>(
      `SELECT envelope->>'type' AS type, envelope->'data' AS data FROM outbox WHERE envelope->>'subject' = $1 ORDER BY position`,
      [orderId],
    );
    return rows;
  };

  it('when a charge succeeds and is refunded, then payment.succeeded then payment.refunded are in the outbox', async () => {
    const body = payments.chargeBody();
    assert.equal((await payments.charge(body)).statusCode, 201);
    assert.equal((await payments.refund(body.orderId)).statusCode, 200);
    const events = await eventsFor(body.orderId);
    assert.deepEqual(
      events.map((e) => e.type),
      ['payment.succeeded', 'payment.refunded'],
    );
    assert.deepEqual(events[0]!.data.amount, body.amount);
  });

  it('when a card is declined, then payment.failed is in the outbox; a replay adds nothing', async () => {
    const body = payments.chargeBody({ card: TEST_CARDS.declines });
    const key = 'declined-once';
    assert.equal((await payments.charge(body, key)).statusCode, 402);
    assert.equal((await payments.charge(body, key)).statusCode, 402);
    assert.deepEqual(
      (await eventsFor(body.orderId)).map((e) => e.type),
      ['payment.failed'],
    );
  });
});
