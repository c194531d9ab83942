-- Card numbers live here and nowhere else: other services hold a token. The token is an HMAC of the number, so
-- the same card always gets the same token.
CREATE TABLE cards (
  token text PRIMARY KEY,
  number text NOT NULL,
  last4 char(4) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The card a charge was made with, so that a charge left PENDING can be looked up with the processor later.
ALTER TABLE payments ADD COLUMN card_token text REFERENCES cards (token);

-- The reconciler's scan: charges still PENDING, oldest touch first.
CREATE INDEX payments_pending_idx ON payments (updated_at) WHERE status = 'PENDING';
