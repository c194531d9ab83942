// Money for people, without I/O: as many decimals as the currency has, and no amount ever misread.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { currencyExponent, formatMoney } from './money.model.ts';

describe('formatMoney', () => {
  it('when the currency has two decimals, then the minor units are cents', () => {
    assert.equal(formatMoney({ amount: 4500, currency: 'USD' }), '45.00 USD');
    assert.equal(formatMoney({ amount: 1999, currency: 'EUR' }), '19.99 EUR');
    assert.equal(formatMoney({ amount: 5, currency: 'GBP' }), '0.05 GBP');
    assert.equal(formatMoney({ amount: 0, currency: 'USD' }), '0.00 USD');
  });

  it('when the currency has no decimals, then the minor units are whole units', () => {
    assert.equal(formatMoney({ amount: 4500, currency: 'JPY' }), '4,500 JPY');
    assert.equal(formatMoney({ amount: 7, currency: 'KRW' }), '7 KRW');
  });

  it('when the currency has three decimals, then three are shown', () => {
    assert.equal(formatMoney({ amount: 1234, currency: 'KWD' }), '1.234 KWD');
    assert.equal(formatMoney({ amount: 5, currency: 'BHD' }), '0.005 BHD');
  });

  it('when the amount is large, then thousands are grouped', () => {
    assert.equal(formatMoney({ amount: 123456789, currency: 'USD' }), '1,234,567.89 USD');
    assert.equal(formatMoney({ amount: 100_000_000_00, currency: 'USD' }), '100,000,000.00 USD');
  });

  it('when the currency is one we do not list, then it has two decimals, as most do', () => {
    assert.equal(currencyExponent('XYZ'), 2);
    assert.equal(formatMoney({ amount: 250, currency: 'MAD' }), '2.50 MAD');
  });

  it('when the amount is not a whole number of minor units, then it is refused', () => {
    assert.throws(() => formatMoney({ amount: 10.5, currency: 'USD' }), RangeError);
  });

  it('when any amount is formatted, then reading it back gives the same minor units', () => {
    const currency = fc.constantFrom('USD', 'EUR', 'JPY', 'KWD', 'CLF', 'MAD');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000_00 }), currency, (amount, code) => {
        const text = formatMoney({ amount, currency: code });
        const match = /^(\d{1,3}(?:,\d{3})*)(?:\.(\d+))? ([A-Z]{3})$/.exec(text);
        assert.ok(match, text);
        const [, whole, fraction = '', suffix] = match;
        assert.equal(suffix, code);
        assert.equal(fraction.length, currencyExponent(code));
        assert.equal(Number(whole!.replaceAll(',', '') + fraction), amount);
      }),
    );
  });
});
