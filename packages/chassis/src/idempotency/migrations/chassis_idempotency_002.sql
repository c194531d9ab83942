-- Which claim holds an unfinished key: a resume after the lease ran out takes a new one, so the worker it
-- displaced can no longer complete the key. Completed keys are pruned by age, hence the index.
ALTER TABLE idempotency_keys ADD COLUMN claim uuid;
CREATE INDEX idempotency_keys_updated_idx ON idempotency_keys (updated_at);
