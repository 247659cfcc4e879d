-- The appeals projection, the append-only audit trail, and the notification record.

CREATE TABLE appeals (
    workflow_id      text PRIMARY KEY,
    channel          text        NOT NULL,
    external_id      text        NOT NULL,
    category         text,
    municipality     text,
    priority         text        NOT NULL,
    text             text        NOT NULL,
    author           jsonb       NOT NULL,  -- personal data
    address          text,
    received_at      timestamptz NOT NULL,
    registered_at    timestamptz NOT NULL,
    status           text        NOT NULL,
    executor         text,
    ack_deadline     timestamptz,
    answer_deadline  timestamptz,
    acknowledged_at  timestamptz,
    answered_at      timestamptz,
    closed_at        timestamptz,
    escalation_level integer     NOT NULL DEFAULT 0,
    sla_breached     boolean     NOT NULL DEFAULT false,
    last_event_seq   integer     NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, external_id)
);
CREATE INDEX appeals_open_by_executor ON appeals (executor, status) WHERE closed_at IS NULL;

CREATE TABLE appeal_events (
    workflow_id text        NOT NULL REFERENCES appeals (workflow_id),
    seq         integer     NOT NULL,
    kind        text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    summary     text        NOT NULL,
    data        jsonb       NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, seq)
);
CREATE INDEX appeal_events_kind_time ON appeal_events (kind, occurred_at);

-- The audit trail is append-only: history is never rewritten.
CREATE FUNCTION appeal_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'appeal_events is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER appeal_events_append_only BEFORE UPDATE OR DELETE ON appeal_events
    FOR EACH ROW EXECUTE FUNCTION appeal_events_append_only();

CREATE TABLE notifications (
    idempotency_key text PRIMARY KEY,
    workflow_id     text        NOT NULL REFERENCES appeals (workflow_id),
    seq             integer     NOT NULL,
    kind            text        NOT NULL,
    recipient_role  text        NOT NULL,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    adapter         text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',  -- pending | sent
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX notifications_by_appeal ON notifications (workflow_id, seq);
