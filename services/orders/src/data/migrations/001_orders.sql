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
