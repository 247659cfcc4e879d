-- The full lifecycle: moderation, redirects, publication to the citizen, systemic incidents.

ALTER TABLE appeals
    ADD COLUMN formal_rejections integer NOT NULL DEFAULT 0,
    ADD COLUMN redirects         integer NOT NULL DEFAULT 0,
    ADD COLUMN incident_id       text,
    ADD COLUMN duplicate_of      text;
CREATE INDEX appeals_open_by_place ON appeals (category, address) WHERE closed_at IS NULL;

-- Answers sent back as formal (by the automatic check or a moderator), per executor.
CREATE VIEW formal_rejections_by_executor AS
SELECT data ->> 'executor' AS executor,
       count(*) AS rejections,
       count(*) FILTER (WHERE data ->> 'by' = 'automatic check') AS by_automatic_check,
       count(DISTINCT workflow_id) AS appeals
FROM appeal_events
WHERE kind = 'answer_returned'
GROUP BY data ->> 'executor';

-- Every answer published to a citizen, once per (appeal, step).
CREATE TABLE publications (
    workflow_id  text        NOT NULL REFERENCES appeals (workflow_id),
    seq          integer     NOT NULL,
    channel      text        NOT NULL,
    external_id  text        NOT NULL,
    recipient    text        NOT NULL,
    text         text        NOT NULL,
    attachments  jsonb       NOT NULL,
    adapter      text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending',  -- pending | published
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    PRIMARY KEY (workflow_id, seq)
);

-- Systemic incidents: one problem reported by many appeals.
CREATE TABLE incidents (
    incident_id    text PRIMARY KEY,
    title          text        NOT NULL,
    category       text        NOT NULL,
    municipality   text,
    address        text        NOT NULL,
    status         text        NOT NULL,  -- open | answered
    opened_at      timestamptz NOT NULL,
    committed_date date,
    linked         integer     NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_open_by_place ON incidents (category, address) WHERE status = 'open';
