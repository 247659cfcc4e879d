"""The notification activity: record, send once, mark sent.

The row is locked while the adapter sends, so two attempts of the same
activity (a retry racing a slow worker) cannot both send; every attempt and its
error are kept on the row.
"""

from __future__ import annotations

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifiers import Notifier, PermanentNotificationError
from appeals.records import NotificationRequest

_INSERT = """
INSERT INTO notifications (idempotency_key, workflow_id, seq, kind, recipient_role, recipient,
                           subject, body, adapter)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (idempotency_key) DO NOTHING
"""

_MARK = """
UPDATE notifications
SET attempts = attempts + 1,
    status = CASE WHEN $2 THEN 'sent' ELSE status END,
    sent_at = CASE WHEN $2 THEN now() ELSE sent_at END,
    last_error = $3
WHERE idempotency_key = $1
"""


class NotificationActivities:
    def __init__(self, pool: asyncpg.Pool, notifier: Notifier) -> None:
        self._pool = pool
        self._notifier = notifier

    @activity.defn
    async def send_notification(self, notification: NotificationRequest) -> bool:
        """Returns True if this call sent it, False if it had been sent before."""
        key = notification.idempotency_key
        async with self._pool.acquire() as conn:
            await conn.execute(
                _INSERT,
                key,
                notification.workflow_id,
                notification.seq,
                notification.kind,
                notification.recipient.role,
                notification.recipient.address,
                notification.subject,
                notification.body,
                self._notifier.name,
            )
            failure: Exception | None = None
            async with conn.transaction():
                status = await conn.fetchval(
                    "SELECT status FROM notifications WHERE idempotency_key = $1 FOR UPDATE", key
                )
                if status == "sent":
                    return False
                try:
                    await self._notifier.send(notification)
                except Exception as err:
                    failure = err
                await conn.execute(_MARK, key, failure is None, str(failure)[:500] if failure else None)
        if isinstance(failure, PermanentNotificationError):
            raise ApplicationError(
                str(failure), type="PermanentNotificationError", non_retryable=True
            ) from failure
        if failure is not None:
            raise failure  # Temporal retries the activity by its retry policy.
        return True
