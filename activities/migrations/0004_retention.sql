-- Retention (152-ФЗ): the personal data of appeals closed longer ago than APPEALS_RETENTION_DAYS
-- is erased by the retention workflow (workflows/retention.py, started by a Temporal Schedule).
-- Rows are never deleted: the audit trail keeps its rows, kinds and seqs; only personal values
-- are replaced by '[erased]', and `erased_at` says when.

ALTER TABLE appeals ADD COLUMN erased_at timestamptz;
ALTER TABLE appeal_events ADD COLUMN erased_at timestamptz;
ALTER TABLE notifications ADD COLUMN erased_at timestamptz;
ALTER TABLE publications ADD COLUMN erased_at timestamptz;
CREATE INDEX appeals_due_for_erasure ON appeals (closed_at) WHERE closed_at IS NOT NULL AND erased_at IS NULL;

-- One row per retention run (the retention workflow's id), kept forever: when, up to which
-- closing instant, and how many appeals it erased.
CREATE TABLE retention_runs (
    run_key        text PRIMARY KEY,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    cutoff         timestamptz NOT NULL,  -- appeals closed before this instant are erased
    retention_days integer     NOT NULL,
    appeals_erased integer     NOT NULL DEFAULT 0
);

-- The one exception to the append-only audit trail: erasure. An UPDATE of appeal_events passes
-- only if all of these hold, otherwise it is refused as before:
--   * the transaction declared it is erasing: SET LOCAL appeals.erasure = 'on' (no accident);
--   * the row is erased once: erased_at goes from NULL to a value;
--   * the row keeps its identity: workflow_id, seq, kind, occurred_at and recorded_at unchanged;
--   * the appeal is closed;
--   * data keeps its keys, and every value is either unchanged or the string "[erased]".
-- The summary may change (personal words in it are replaced). DELETE is always refused.
CREATE OR REPLACE FUNCTION appeal_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('appeals.erasure', true) = 'on'
       AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
       AND NEW.workflow_id = OLD.workflow_id AND NEW.seq = OLD.seq AND NEW.kind = OLD.kind
       AND NEW.occurred_at = OLD.occurred_at AND NEW.recorded_at = OLD.recorded_at
       AND EXISTS (SELECT 1 FROM appeals a WHERE a.workflow_id = OLD.workflow_id AND a.closed_at IS NOT NULL)
       AND jsonb_typeof(OLD.data) = 'object' AND jsonb_typeof(NEW.data) = 'object'
       AND ARRAY(SELECT jsonb_object_keys(OLD.data) ORDER BY 1) = ARRAY(SELECT jsonb_object_keys(NEW.data) ORDER BY 1)
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_each(NEW.data) AS n
           WHERE n.value IS DISTINCT FROM OLD.data -> n.key AND n.value <> '"[erased]"'::jsonb
       )
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'appeal_events is append-only (% refused)', TG_OP;
END $$;
