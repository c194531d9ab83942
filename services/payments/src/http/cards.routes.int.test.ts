// The internal card vault on real PostgreSQL: a card number in, a stable token out, the number kept here only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_CARDS } from '@souk/contracts';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';

describe('card vault API (internal)', () => {
  let payments: PaymentsFixture;

  before(async () => {
    payments = await startPayments('cards');
  });

  after(async () => {
    await payments.close();
  });

  const tokenise = (card: unknown, headers = payments.as.orders) =>
    payments.inject({ method: 'POST', url: '/internal/payments/cards', headers, payload: { card } });

  it('when orders hands over a card, then 201 with its token and last four, the same token each time, and the number is kept', async () => {
    const card = '5555555555554444';
    const first = await tokenise(card);
    assert.equal(first.statusCode, 201, first.body);
    const { token, last4 } = first.json<{ token: string; last4: string }>();
    assert.match(token, /^card_[0-9a-f]{32}$/);
    assert.equal(last4, '4444');
    assert.ok(!token.includes(card));
    assert.deepEqual((await tokenise(card)).json(), { token, last4 });
    assert.notEqual((await tokenise(TEST_CARDS.approves)).json().token, token);
    const { rows } = await payments.service.db.query('SELECT number FROM cards WHERE token = $1', [token]);
    assert.deepEqual(rows, [{ number: card }]);
  });

  it('when a tokenised card is charged by its token, then the processor is asked with the number', async () => {
    const { token } = (await tokenise('6011111111111117')).json<{ token: string }>();
    const response = await payments.charge({ ...payments.chargeBody(), cardToken: token });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(payments.processor.calls.at(-1)?.card, '6011111111111117');
  });

  it('when the number fails the Luhn check, then 400 INVALID_CARD; when it is not digits, then 400 VALIDATION_FAILED; nothing is kept', async () => {
    const { rows: before } = await payments.service.db.query('SELECT count(*)::int AS n FROM cards');
    const luhn = await tokenise('4242424242424241');
    assert.equal(luhn.statusCode, 400);
    assert.equal(luhn.json().code, 'INVALID_CARD');
    assert.ok(!luhn.body.includes('4242424242424241'), 'the problem does not repeat the number');
    for (const card of ['4242-4242-4242-4242', '42', 4242424242424242]) {
      const response = await tokenise(card);
      assert.equal(response.statusCode, 400, String(card));
      assert.equal(response.json().code, 'VALIDATION_FAILED');
    }
    const { rows: now } = await payments.service.db.query('SELECT count(*)::int AS n FROM cards');
    assert.deepEqual(now, before);
  });

  it('when there is no identity, then 401; a user or another service, then 403', async () => {
    const anonymous = await payments.inject({
      method: 'POST',
      url: '/internal/payments/cards',
      payload: { card: TEST_CARDS.approves },
    });
    assert.equal(anonymous.statusCode, 401);
    for (const headers of [payments.as.customer, payments.as.admin, payments.as.inventory])
      assert.equal((await tokenise(TEST_CARDS.approves, headers)).statusCode, 403);
  });
});
