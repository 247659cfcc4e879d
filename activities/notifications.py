"""The notification activity: officials and citizens hear of deadlines and answers, once."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities.delivery import Ledger, deliver_once
from activities.notifiers import Notifier
from appeals.records import NotificationRequest

LEDGER = Ledger("notifications", ("idempotency_key",), done_status="sent", done_at_column="sent_at")

_INSERT = """
INSERT INTO notifications (idempotency_key, workflow_id, seq, kind, recipient_role, recipient,
                           subject, body, adapter)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (idempotency_key) DO NOTHING
"""


class NotificationActivities:
    def __init__(self, pool: asyncpg.Pool, notifier: Notifier) -> None:
        self._pool = pool
        self._notifier = notifier

    @activity.defn
    async def send_notification(self, notification: NotificationRequest) -> bool:
        """Returns True if this call sent it, False if it had been sent before."""
        key = notification.idempotency_key
        row = (
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
        return await deliver_once(
            self._pool, LEDGER, (key,), (_INSERT, row), lambda _receipt: self._notifier.send(notification)
        )
