-- Every users instance keeps the accounts GetUser answered in memory and forgets one when this notifies its id
-- (see USERS_CHANGED_CHANNEL): whoever changes or deletes the row, the service or an operator's SQL.
CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('souk_users', OLD.id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION notify_user_changed();
