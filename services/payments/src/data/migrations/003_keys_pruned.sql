-- Idempotency keys are pruned after a while (pruneExpiredIdempotencyKeys) but payments are kept for good: a
-- payment keeps the caller and key it was made under as a record, no longer as a reference.
ALTER TABLE payments DROP CONSTRAINT payments_idempotency_caller_idempotency_key_fkey;
