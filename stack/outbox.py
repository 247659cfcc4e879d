"""The worker's delivery loop for the notification outbox (activities/outbox.py)."""

from __future__ import annotations

import asyncio

import asyncpg

from activities.outbox import NotificationOutbox
from stack import logs

log = logs.get(__name__)


async def deliver_forever(outbox: NotificationOutbox, idle: float = 0.5) -> None:
    """Until cancelled: deliver what is due. When a round delivers nothing (nothing due, or every
    endpoint failing), wait `idle` seconds: an outage must not take the worker's time from the steps."""
    while True:
        try:
            if await outbox.deliver_due():
                continue
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:  # PostgreSQL away: next round
            log.warning("notification outbox skipped a round", error=type(err).__name__)
        await asyncio.sleep(idle)
