-- The catalog and its stock. Money is integer minor units with its currency.
CREATE TABLE products (
  id uuid PRIMARY KEY,
  sku text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  price_amount bigint NOT NULL CONSTRAINT products_price_not_negative CHECK (price_amount >= 0),
  price_currency char(3) NOT NULL,
  -- The last line of defence: whatever the code does, stock never goes below zero.
  available bigint NOT NULL CONSTRAINT products_available_not_negative CHECK (available >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- SKUs are unique case-insensitively.
CREATE UNIQUE INDEX products_sku_key ON products (lower(sku));

-- The catalog's page order (keyset pagination).
CREATE INDEX products_name_id_idx ON products (name, id);
