// The card vault's memory of stored tokens, on real PostgreSQL: a card it stored once costs no more writes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Queryable } from '@souk/chassis';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';
import { CardVault } from './cards.repository.ts';

describe('card vault', () => {
  let payments: PaymentsFixture;

  before(async () => {
    payments = await startPayments('card-vault');
  });

  after(async () => {
    await payments.close();
  });

  /** A vault, as one process holds it, over the service's database, counting the statements it sends. */
  const vault = () => {
    const statements: string[] = [];
    const db = payments.service.db;
    const counting = {
      query: (text: string, values?: unknown[]) => {
        statements.push(text);
        return db.query(text, values);
      },
    } as unknown as Queryable;
    return {
      vault: new CardVault(counting, () => payments.service.config.current.internal.secret),
      statements,
    };
  };

  const storedNumbers = async (token: string) =>
    (await payments.service.db.query('SELECT number FROM cards WHERE token = $1', [token])).rows;

  it('when a vault tokenises the same card twice, then it writes once; another vault (process) writes it again, harmlessly', async () => {
    const card = '378282246310005';
    const first = vault();
    const token = await first.vault.tokenise(card);
    assert.deepEqual(await first.vault.tokenise(card), token);
    assert.equal(first.statements.length, 1);
    assert.deepEqual(await storedNumbers(token.token), [{ number: card }]);

    const second = vault();
    assert.deepEqual(await second.vault.tokenise(card), token);
    assert.equal(second.statements.length, 1);
    assert.deepEqual(await storedNumbers(token.token), [{ number: card }]);
  });

  it('when a vault that knows one card is handed a new one, then the new one is stored', async () => {
    const { vault: known } = vault();
    await known.tokenise('4111111111111111');
    const { token } = await known.tokenise('5105105105105100');
    assert.deepEqual(await storedNumbers(token), [{ number: '5105105105105100' }]);
  });
});
