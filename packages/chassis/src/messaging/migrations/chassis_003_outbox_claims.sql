-- The relay claims rows with a lease (no transaction stays open while it publishes), and parks a row the broker
-- refuses for good, with its error, so that the rows after it go out.
ALTER TABLE outbox
  ADD COLUMN claimed_by uuid,
  ADD COLUMN claimed_until timestamptz,
  ADD COLUMN parked_at timestamptz;

DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unsent ON outbox (position) WHERE published_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_parked ON outbox (position) WHERE parked_at IS NOT NULL;
