-- What each user has been told, one row per event that told them.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  -- The second guard behind the inbox: whatever the broker redelivers, one event makes one notification.
  event_id text NOT NULL CONSTRAINT notifications_event_id_key UNIQUE,
  user_id uuid NOT NULL,
  type text NOT NULL,
  subject text NOT NULL,
  message text NOT NULL,
  order_id uuid,
  -- The event's time, to the millisecond, which is what the API shows and its cursor holds.
  created_at timestamptz NOT NULL,
  -- When this service learnt of it: the email sweeper's clock.
  recorded_at timestamptz NOT NULL
);

-- A user's list, newest first (keyset pagination).
CREATE INDEX notifications_user_page_idx ON notifications (user_id, created_at DESC, id DESC);

CREATE INDEX notifications_recorded_at_idx ON notifications (recorded_at);
