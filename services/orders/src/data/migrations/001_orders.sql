-- The read model: one row per order, rewritten from the folded aggregate in the transaction that appends
-- its events, so it always equals a replay of the event store.
CREATE TABLE orders_view (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  status text NOT NULL,
  items jsonb NOT NULL,
  total jsonb NOT NULL,
  reason text,
  cancellation_requested boolean NOT NULL,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX orders_view_by_user ON orders_view (user_id, created_at DESC, id DESC);

-- Idempotency-Key records of POST /api/orders, scoped per user.
CREATE TABLE idempotency_keys (
  user_id uuid NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  status text NOT NULL CHECK (status IN ('IN_PROGRESS', 'DONE')),
  -- The answer first given, replayed to every later request with the same key and body.
  answer jsonb,
  locked_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
