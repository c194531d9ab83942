-- Every inventory instance keeps the prices it was asked for in memory and forgets one when this notifies its
-- product's id (see PRICES_CHANGED_CHANNEL). Only a price's columns count: stock changes at every order.
CREATE FUNCTION notify_price_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('souk_prices', OLD.id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER products_price_changed AFTER UPDATE OF price_amount, price_currency OR DELETE ON products
  FOR EACH ROW EXECUTE FUNCTION notify_price_changed();
