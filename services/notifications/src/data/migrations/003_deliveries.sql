-- Every attempt to deliver a notification outside the app, successful or not.
CREATE TABLE deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notification_id uuid NOT NULL REFERENCES notifications (id),
  channel text NOT NULL CONSTRAINT deliveries_channel_known CHECK (channel IN ('email')),
  status text NOT NULL CONSTRAINT deliveries_status_known CHECK (status IN ('sent', 'failed')),
  recipient text NOT NULL,
  error text,
  at timestamptz NOT NULL
);

CREATE INDEX deliveries_notification_idx ON deliveries (notification_id, channel);

-- The log decides whether a notification went out; the database refuses a second success.
CREATE UNIQUE INDEX deliveries_sent_once ON deliveries (notification_id, channel) WHERE status = 'sent';
