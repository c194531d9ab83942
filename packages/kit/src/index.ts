// Pure helpers that several services' domains share: identifiers, card numbers, keyset cursors, storable text,
// idempotency-key decisions, the one backoff and the one timeout. No I/O.
export { isUuid } from './uuid.ts';
export { isLuhnValid } from './luhn.ts';
export { decodeCursor, encodeCursor, isInstant } from './cursor.ts';
export { isStorableText } from './text.ts';
export * from './idempotency.ts';
export { backoffDelay, backoffSchedule, type BackoffPolicy, type BackoffStep } from './backoff.ts';
export { settlesWithin, TimeoutError, withTimeout, type TimeoutOptions } from './timeout.ts';
