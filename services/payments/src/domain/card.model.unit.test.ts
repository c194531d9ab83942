// Luhn check digits, without I/O.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_CARDS } from '@souk/contracts';
import fc from 'fast-check';
import { lastFour, luhnValid } from './card.model.ts';

/** The digit that makes `payload` followed by it Luhn-valid, computed the textbook way. */
function checkDigit(payload: string): number {
  const digits = [...payload].reverse().map(Number);
  const sum = digits.reduce((total, digit, index) => {
    if (index % 2 === 1) return total + digit;
    const doubled = digit * 2;
    return total + (doubled > 9 ? doubled - 9 : doubled);
  }, 0);
  return (10 - (sum % 10)) % 10;
}

describe('luhnValid', () => {
  it('when the number is one of the test cards, then it is valid', () => {
    for (const card of Object.values(TEST_CARDS)) assert.equal(luhnValid(card), true, card);
  });

  it('when a known-good number has one digit changed, then it is invalid', () => {
    assert.equal(luhnValid('4242424242424241'), false);
    assert.equal(luhnValid('4000000000000003'), false);
  });

  it('when the number holds anything but digits, or nothing, then it is invalid', () => {
    for (const number of ['', '4242 4242 4242 4242', '42424242424242a2', '-4242424242424242'])
      assert.equal(luhnValid(number), false, number);
  });

  it('for any digits, then appending their check digit makes them valid and any other digit invalid', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{11,18}$/), fc.integer({ min: 1, max: 9 }), (payload, shift) => {
        const digit = checkDigit(payload);
        assert.equal(luhnValid(`${payload}${digit}`), true);
        assert.equal(luhnValid(`${payload}${(digit + shift) % 10}`), false);
      }),
    );
  });

  it('for any valid number, then swapping two different adjacent digits (not 0/9) is caught', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{11,18}$/), fc.nat(), (payload, at) => {
        const number = `${payload}${checkDigit(payload)}`;
        const index = at % (number.length - 1);
        const [a, b] = [number[index]!, number[index + 1]!];
        fc.pre(a !== b && `${a}${b}` !== '09' && `${a}${b}` !== '90');
        const swapped = `${number.slice(0, index)}${b}${a}${number.slice(index + 2)}`;
        assert.equal(luhnValid(swapped), false);
      }),
    );
  });
});

describe('lastFour', () => {
  it('when a card number is shown, then only its last four digits are', () => {
    assert.equal(lastFour(TEST_CARDS.approves), '4242');
  });
});
