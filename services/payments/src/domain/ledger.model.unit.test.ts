// The double-entry ledger, without I/O: every journal balances; a charge and its refund net to zero.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MERCHANT_ACCOUNT,
  balances,
  chargeJournal,
  customerAccount,
  isBalanced,
  refundJournal,
  transfer,
} from './ledger.model.ts';

const USER = '00000000-0000-4000-8000-000000000001';
const money = fc.record({
  amount: fc.integer({ min: 0, max: 100_000_000_00 }),
  currency: fc.constantFrom('USD', 'EUR', 'JPY'),
});

describe('ledger journals', () => {
  it('when an order is charged, then the customer gives the amount and the merchant receives it', () => {
    assert.deepEqual(chargeJournal(USER, { amount: 1999, currency: 'USD' }), {
      kind: 'charge',
      entries: [
        { account: `customer:${USER}`, amount: -1999, currency: 'USD' },
        { account: MERCHANT_ACCOUNT, amount: 1999, currency: 'USD' },
      ],
    });
  });

  it('when a customer account is named, then the user id is lower-cased so that one user has one account', () => {
    assert.equal(customerAccount(USER.toUpperCase()), customerAccount(USER));
  });

  it('for any amount, then a charge balances, a refund balances, and together they leave every account at zero', () => {
    fc.assert(
      fc.property(money, (amount) => {
        const charge = chargeJournal(USER, amount);
        const refund = refundJournal(USER, amount);
        assert.equal(isBalanced(charge.entries), true);
        assert.equal(isBalanced(refund.entries), true);
        assert.deepEqual(balances([...charge.entries, ...refund.entries]), new Map());
      }),
    );
  });

  it('for any transfers, then the ledger as a whole balances and the balances sum to zero per currency', () => {
    const account = fc.constantFrom('merchant', 'customer:a', 'customer:b');
    fc.assert(
      fc.property(fc.array(fc.tuple(account, account, money), { maxLength: 20 }), (moves) => {
        const entries = moves.flatMap(([from, to, amount]) => transfer(from, to, amount));
        assert.equal(isBalanced(entries), true);
        const perCurrency = new Map<string, number>();
        for (const [key, total] of balances(entries)) {
          const currency = key.split(' ')[1]!;
          perCurrency.set(currency, (perCurrency.get(currency) ?? 0) + total);
        }
        assert.ok([...perCurrency.values()].every((sum) => sum === 0));
      }),
    );
  });

  it('when entries do not sum to zero in some currency, then they do not balance', () => {
    assert.equal(isBalanced([{ account: 'merchant', amount: 5, currency: 'USD' }]), false);
    assert.equal(
      isBalanced([
        { account: 'merchant', amount: 5, currency: 'USD' },
        { account: 'customer:a', amount: -5, currency: 'EUR' },
      ]),
      false,
    );
  });
});
