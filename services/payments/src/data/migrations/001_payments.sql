-- Payments as this service sees an order: whether it still takes charges. A refund closes it for good.
CREATE TABLE payment_orders (
  order_id uuid PRIMARY KEY,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per charge attempt; its id is the processor's reference. Money is integer minor units.
CREATE TABLE payments (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES payment_orders (order_id),
  user_id uuid NOT NULL,
  amount bigint NOT NULL CONSTRAINT payments_amount_not_negative CHECK (amount >= 0),
  currency char(3) NOT NULL,
  status text NOT NULL
    CONSTRAINT payments_status_known CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED')),
  card_last4 char(4) NOT NULL,
  authorization_code text,
  failure_reason text,
  idempotency_caller text NOT NULL,
  idempotency_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_one_per_key UNIQUE (idempotency_caller, idempotency_key),
  FOREIGN KEY (idempotency_caller, idempotency_key) REFERENCES idempotency_keys (caller, key)
);

-- The last line of defence: whatever the code does, an order has at most one successful charge.
CREATE UNIQUE INDEX payments_one_success_per_order ON payments (order_id) WHERE status = 'SUCCEEDED';

CREATE INDEX payments_order_idx ON payments (order_id, created_at);
CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC, id DESC);
CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);
