// The double-entry ledger: every movement of money is a journal of entries that sum to zero, per currency.
// An entry's amount is signed minor units: what an account receives is positive, what it gives is negative.
import type { Money } from '@souk/contracts';

export const MERCHANT_ACCOUNT = 'merchant';
export const customerAccount = (userId: string): string => `customer:${userId.toLowerCase()}`;

export type JournalKind = 'charge' | 'refund';

export interface LedgerEntry {
  readonly account: string;
  readonly amount: number;
  readonly currency: string;
}

export interface Journal {
  readonly kind: JournalKind;
  readonly entries: readonly LedgerEntry[];
}

/** `money` leaves `from` and reaches `to`. */
export function transfer(from: string, to: string, money: Money): LedgerEntry[] {
  return [
    { account: from, amount: -money.amount, currency: money.currency },
    { account: to, amount: money.amount, currency: money.currency },
  ];
}

/** A charge moves the amount from the customer to the merchant. */
export const chargeJournal = (userId: string, amount: Money): Journal => ({
  kind: 'charge',
  entries: transfer(customerAccount(userId), MERCHANT_ACCOUNT, amount),
});

/** A refund moves it back: a charge and its refund net to zero on every account. */
export const refundJournal = (userId: string, amount: Money): Journal => ({
  kind: 'refund',
  entries: transfer(MERCHANT_ACCOUNT, customerAccount(userId), amount),
});

/** Each account's balance per currency, e.g. `merchant USD → 1999`. Accounts at zero are left out. */
export function balances(entries: readonly LedgerEntry[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const entry of entries) {
    const key = `${entry.account} ${entry.currency}`;
    totals.set(key, (totals.get(key) ?? 0) + entry.amount);
  }
  for (const [key, total] of totals) if (total === 0) totals.delete(key);
  return totals;
}

/** Whether the entries sum to zero in every currency: money is neither made nor lost. */
export function isBalanced(entries: readonly LedgerEntry[]): boolean {
  const sums = new Map<string, number>();
  for (const entry of entries) sums.set(entry.currency, (sums.get(entry.currency) ?? 0) + entry.amount);
  return [...sums.values()].every((sum) => sum === 0);
}
