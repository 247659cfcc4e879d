-- Notifications as an outbox: a step writes them with its events, in one transaction, and the
-- workers deliver them, so an action never waits for a mail server or a webhook.
ALTER TABLE notifications ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
