// Card numbers: the Luhn check digit that catches a mistyped number before any processor sees it.

/** Whether a string of digits carries a valid Luhn check digit. Anything but digits is invalid. */
export function luhnValid(number: string): boolean {
  if (!/^[0-9]+$/.test(number)) return false;
  let sum = 0;
  for (let index = 0; index < number.length; index++) {
    let digit = number.charCodeAt(number.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The number with all but its last four digits hidden, for logs and stored records. */
export const lastFour = (number: string): string => number.slice(-4);
