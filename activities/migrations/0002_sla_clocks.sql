-- The SLA timeline per clock: start, pauses, warnings, breach, stop. One row per clock and
-- answer cycle (a refuted answer opens cycle 2 with a new answer clock).

ALTER TABLE appeals
    ADD COLUMN policy         text,
    ADD COLUMN policy_version text,
    ADD COLUMN cycle          integer NOT NULL DEFAULT 1,
    ADD COLUMN paused         boolean NOT NULL DEFAULT false;

CREATE TABLE appeal_clocks (
    workflow_id    text        NOT NULL REFERENCES appeals (workflow_id),
    number         integer     NOT NULL,  -- the clock's position in the appeal: its identity
    clock          text        NOT NULL,
    cycle          integer     NOT NULL,
    kind           text        NOT NULL,  -- working | calendar
    started_at     timestamptz NOT NULL,
    due_at         timestamptz NOT NULL,
    paused         interval    NOT NULL,
    paused_since   timestamptz,
    breached_at    timestamptz,
    stopped_at     timestamptz,
    pauses         jsonb       NOT NULL,
    marks          jsonb       NOT NULL,
    last_event_seq integer     NOT NULL,
    PRIMARY KEY (workflow_id, number)
);
CREATE INDEX appeal_clocks_breached ON appeal_clocks (clock, breached_at) WHERE breached_at IS NOT NULL;
