-- What a channel gave back for a published answer: the Telegram message ids, the VK comment or
-- message ids (one per part of a long answer). Saved after every attempt, failed ones included,
-- so a retry resumes after the parts already sent instead of sending them again.
ALTER TABLE publications ADD COLUMN receipt jsonb;
