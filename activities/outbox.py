"""Deliver the notifications that steps wrote into the outbox (`notifications`), once per key.

Each due row is locked while it is sent (`FOR UPDATE SKIP LOCKED`), so workers share the work
and never send one notification twice at the same time. A transient failure is retried with
backoff; a permanent one, or too many attempts, marks the row failed with a short reason.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import structlog

from activities.notifiers import Notifier, PermanentDeliveryError, describe_failure
from appeals.models import Recipient
from appeals.records import NotificationRequest

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 50
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=10)

_NEXT = """
SELECT idempotency_key, workflow_id, seq, kind, recipient_role, recipient, subject, body, attempts
FROM notifications
WHERE status = 'pending' AND next_attempt_at <= now()
ORDER BY next_attempt_at
LIMIT 1
FOR UPDATE SKIP LOCKED
"""
_SENT = """
UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL
WHERE idempotency_key = $1
"""
_FAILED = """
UPDATE notifications SET attempts = attempts + 1, last_error = $2,
       status = CASE WHEN $3 THEN 'failed' ELSE status END,
       next_attempt_at = now() + $4::interval
WHERE idempotency_key = $1
"""


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


class NotificationOutbox:
    def __init__(self, pool: asyncpg.Pool, notifier: Notifier) -> None:
        self._pool = pool
        self._notifier = notifier

    async def deliver_due(self, limit: int = 50) -> int:
        """Try up to `limit` due notifications; returns how many were delivered."""
        attempted = delivered = 0
        while attempted < limit:
            async with self._pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(_NEXT)
                if row is None:
                    return delivered
                attempted += 1
                request = NotificationRequest(
                    workflow_id=row["workflow_id"],
                    seq=row["seq"],
                    kind=row["kind"],
                    recipient=Recipient(role=row["recipient_role"], address=row["recipient"]),
                    subject=row["subject"],
                    body=row["body"],
                )
                try:
                    await self._notifier.send(request)
                except Exception as err:  # any failure is kept on the row, never lost
                    attempts = row["attempts"] + 1
                    final = isinstance(err, PermanentDeliveryError) or attempts >= MAX_ATTEMPTS
                    reason = describe_failure(err)
                    await conn.execute(_FAILED, row["idempotency_key"], reason, final, backoff(attempts))
                    log.warning(
                        "notification not delivered",
                        appeal_id=row["workflow_id"],
                        seq=row["seq"],
                        kind=row["kind"],
                        role=row["recipient_role"],
                        reason=reason,
                        final=final,
                    )
                else:
                    await conn.execute(_SENT, row["idempotency_key"])
                    delivered += 1
        return delivered
