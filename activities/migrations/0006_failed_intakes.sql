-- Starts that could not run (an input that does not decode, an id or timestamp refused by the
-- workflow): recorded by the worker's intake watch, so an operator sees them in PostgreSQL too.
CREATE TABLE failed_intakes (
    run_id        text        PRIMARY KEY,
    workflow_id   text        NOT NULL,
    workflow_type text        NOT NULL,
    failed_at     timestamptz NOT NULL,
    reason        text        NOT NULL,  -- one line, without the input's values
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    resolved_by   text
);
CREATE INDEX failed_intakes_open ON failed_intakes (failed_at) WHERE resolved_at IS NULL;
