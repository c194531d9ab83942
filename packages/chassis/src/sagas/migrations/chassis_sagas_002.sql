-- The trace of the operation that began the saga, so an operator can open it in the trace UI.
ALTER TABLE saga_instances ADD COLUMN trace_id text;
CREATE INDEX saga_instances_finished ON saga_instances (updated_at) WHERE status IN ('COMPLETED', 'COMPENSATED');
