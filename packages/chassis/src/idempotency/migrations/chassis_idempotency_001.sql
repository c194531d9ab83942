-- Idempotency keys, scoped per caller (a service, or a user). The answer is stored once the work is done; until then the key
-- is held by a lease, and a retry after the lease ran out resumes the work.
CREATE TABLE idempotency_keys (
  caller text NOT NULL,
  key text NOT NULL,
  operation text NOT NULL,
  -- A hash of the operation and its canonical request body: the same key with another body is refused.
  fingerprint text NOT NULL,
  state text NOT NULL CONSTRAINT idempotency_keys_state_known CHECK (state IN ('IN_PROGRESS', 'COMPLETED')),
  leased_until timestamptz,
  response_status smallint,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (caller, key),
  CONSTRAINT idempotency_keys_completed_has_response
    CHECK ((state = 'COMPLETED') = (response IS NOT NULL AND response_status IS NOT NULL))
);
