// Money as people read it: integer minor units shown with as many decimals as the currency has.
import type { Money } from '@souk/contracts';

/** ISO 4217 minor units of the currencies that do not have two; every other code has two. */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export const currencyExponent = (currency: string): number => EXPONENTS[currency] ?? 2;

/** `{ amount: 4500, currency: 'USD' }` reads "45.00 USD"; 4500 JPY reads "4,500 JPY". */
export function formatMoney(money: Money): string {
  if (!Number.isSafeInteger(money.amount))
    throw new RangeError(`Not an amount of minor units: ${money.amount}`);
  const exponent = currencyExponent(money.currency);
  const digits = Math.abs(money.amount)
    .toString()
    .padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+$)/g, ',');
  const fraction = exponent === 0 ? '' : `.${digits.slice(digits.length - exponent)}`;
  return `${money.amount < 0 ? '-' : ''}${whole}${fraction} ${money.currency}`;
}
