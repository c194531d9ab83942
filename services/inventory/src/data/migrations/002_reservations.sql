-- Stock held for orders. A RELEASED row without items is a tombstone: released before it was ever reserved.
CREATE TABLE reservations (
  id uuid PRIMARY KEY,
  status text NOT NULL CONSTRAINT reservations_status_known
    CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_items (
  reservation_id uuid NOT NULL REFERENCES reservations (id),
  position smallint NOT NULL,
  product_id uuid NOT NULL REFERENCES products (id),
  quantity integer NOT NULL CONSTRAINT reservation_items_quantity_positive CHECK (quantity > 0),
  -- The price is captured when the stock is reserved; later price changes do not touch it.
  unit_price_amount bigint NOT NULL,
  unit_price_currency char(3) NOT NULL,
  PRIMARY KEY (reservation_id, position),
  CONSTRAINT reservation_items_one_line_per_product UNIQUE (reservation_id, product_id)
);

CREATE INDEX reservation_items_product_idx ON reservation_items (product_id);
