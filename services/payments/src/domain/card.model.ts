// Card numbers: the Luhn check digit that catches a mistyped number before any processor sees it.

/** Whether the number carries a valid Luhn check digit (12 to 19 digits). */
export { isLuhnValid as luhnValid } from '@souk/kit';

/** The number with all but its last four digits hidden, for logs and stored records. */
export const lastFour = (number: string): string => number.slice(-4);
