// Pure helpers that several services' domains share: identifiers, card numbers, keyset cursors, idempotency-key
// decisions. No I/O.
export { isUuid } from './uuid.ts';
export { isLuhnValid } from './luhn.ts';
export { decodeCursor, encodeCursor } from './cursor.ts';
export * from './idempotency.ts';
