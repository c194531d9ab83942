CREATE TABLE event_store (
  position bigserial PRIMARY KEY,
  stream_id text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- One writer per version: the optimistic-concurrency guarantee.
  UNIQUE (stream_id, version)
);
