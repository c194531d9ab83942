// Pure helpers that several services' domains share: identifiers, card numbers, keyset cursors, storable text,
// idempotency-key decisions. No I/O.
export { isUuid } from './uuid.ts';
export { isLuhnValid } from './luhn.ts';
export { decodeCursor, encodeCursor, isInstant } from './cursor.ts';
export { isStorableText } from './text.ts';
export * from './idempotency.ts';
