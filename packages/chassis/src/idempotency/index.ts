// Idempotency keys: stored per caller in the service's database, replayed over HTTP.
export {
  claimKey,
  completeKey,
  completedAnswer,
  fingerprintOf,
  pruneExpiredIdempotencyKeys,
  releaseKey,
  storedAnswer,
  type KeyClaim,
  type KeyHeld,
} from './idempotency-store.ts';
export {
  IDEMPOTENCY_KEY_HEADER,
  IdempotencyKeyHeader,
  REPLAYED_HEADER,
  idempotencyKeyHeader,
  idempotencyKeyOf,
  sendReply,
} from './idempotent-reply.ts';

/** The `idempotency_keys` table; createService applies it before the service's own migrations. */
export const IDEMPOTENCY_MIGRATIONS = new URL('./migrations/', import.meta.url);
