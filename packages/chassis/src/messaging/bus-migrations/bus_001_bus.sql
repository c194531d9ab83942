-- The local profile's message bus. A publish stores each message once and one delivery per subscribed group;
-- consumers of a group compete for its deliveries (FOR UPDATE SKIP LOCKED) and delete them when handled.
CREATE TABLE bus_subscriptions (
  group_name text NOT NULL,
  type text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (type, group_name)
);

CREATE TABLE bus_messages (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL,
  type text NOT NULL,
  envelope json NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX bus_messages_published_at ON bus_messages (published_at);

-- `attempts` counts claims and fences acknowledgements: a consumer whose lease expired and whose delivery was
-- claimed again can no longer settle it. `locked_until` is the lease of the consumer handling it now;
-- `available_at` delays a retry. A delivery past its attempts is kept as `dead`: the group's dead letters.
CREATE TABLE bus_deliveries (
  group_name text NOT NULL,
  message_position bigint NOT NULL REFERENCES bus_messages (position) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  available_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_error text,
  dead_at timestamptz,
  PRIMARY KEY (group_name, message_position)
);

CREATE INDEX bus_deliveries_pending ON bus_deliveries (group_name, message_position) WHERE status = 'pending';
CREATE INDEX bus_deliveries_dead ON bus_deliveries (group_name, dead_at) WHERE status = 'dead';
CREATE INDEX bus_deliveries_message ON bus_deliveries (message_position);
