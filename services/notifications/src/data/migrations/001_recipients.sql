-- Who to write to: this service's own copy, kept from user.registered; it never reads the users database.
CREATE TABLE recipients (
  user_id uuid PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  updated_at timestamptz NOT NULL
);
