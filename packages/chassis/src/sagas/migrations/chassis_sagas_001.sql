CREATE TABLE saga_instances (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  state jsonb NOT NULL,
  -- RUNNING → COMPLETED, or RUNNING → COMPENSATING → COMPENSATED. Only the last two are terminal.
  status text NOT NULL CHECK (status IN ('RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED')),
  next_step integer NOT NULL DEFAULT 0,
  failure_reason text,
  -- Which process runs the saga now; a lease that ran out means its runner died and another may take over.
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saga_instances_unfinished ON saga_instances (lease_until) WHERE status IN ('RUNNING', 'COMPENSATING');

-- The step log: every attempt's outcome, forward and compensating, for resumption and for the timeline.
CREATE TABLE saga_steps (
  saga_id uuid NOT NULL REFERENCES saga_instances (id),
  step_index integer NOT NULL,
  name text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('forward', 'compensation')),
  status text NOT NULL CHECK (status IN ('STARTED', 'SUCCEEDED', 'FAILED', 'IN_DOUBT')),
  attempts integer NOT NULL DEFAULT 0,
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (saga_id, step_index, direction)
);
