"""Deliver something outside exactly once as far as we can: record it, lock it, send, mark it.

The row is inserted first (idempotent), then locked while the adapter sends, so two
attempts of the same activity (a retry racing a slow worker) cannot both send. Each
attempt and its error are kept on the row. A crash between sending and marking can
repeat a delivery; receivers drop the repeat by the idempotency key.

A ledger may keep a receipt (a JSON object) on the row: what the receiver gave back
(a Telegram message id, a VK comment id). The adapter gets the receipt as the last
attempt left it and adds to it as it goes; it is saved after every attempt, failed ones
included, so an answer sent in parts is resumed where it stopped, not sent twice.

The error kept on the row and raised to Temporal is a short reason ("HTTP 500
Internal Server Error", "connection refused", "timeout"): no URL, no response body.
A rate limit is retried no sooner than the receiver asked (`next_retry_delay`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.exceptions import ApplicationError

from activities.notifiers import (
    DeliveryError,
    PermanentDeliveryError,
    RateLimited,
    TransientDeliveryError,
    describe_failure,
)

Receipt = dict[str, Any]
Send = Callable[[Receipt], Awaitable[None]]


@dataclass(frozen=True)
class Ledger:
    """Where deliveries of one kind are recorded."""

    table: str
    key_columns: tuple[str, ...]
    done_status: str
    done_at_column: str
    receipt_column: str | None = None

    def _where(self) -> str:
        return " AND ".join(f"{c} = ${n}" for n, c in enumerate(self.key_columns, start=1))

    def select_sql(self) -> str:
        receipt = f", {self.receipt_column} AS receipt" if self.receipt_column else ", NULL::jsonb AS receipt"
        return f"SELECT status{receipt} FROM {self.table} WHERE {self._where()} FOR UPDATE"

    def mark_sql(self) -> str:
        n = len(self.key_columns)
        receipt = f"{self.receipt_column} = ${n + 3}, " if self.receipt_column else ""
        return (
            f"UPDATE {self.table} SET attempts = attempts + 1, {receipt}"
            f"status = CASE WHEN ${n + 1} THEN '{self.done_status}' ELSE status END, "
            f"{self.done_at_column} = CASE WHEN ${n + 1} THEN now() ELSE {self.done_at_column} END, "
            f"last_error = ${n + 2} WHERE {self._where()}"
        )


def _raise_for(failure: Exception) -> None:
    if isinstance(failure, PermanentDeliveryError):
        raise ApplicationError(str(failure), type="PermanentDeliveryError", non_retryable=True) from None
    if isinstance(failure, RateLimited) and failure.retry_after:
        raise ApplicationError(
            str(failure), type="RateLimited", next_retry_delay=timedelta(seconds=failure.retry_after)
        ) from None
    raise failure from None  # Temporal retries the activity by its retry policy.


async def deliver_once(
    pool: asyncpg.Pool,
    ledger: Ledger,
    key: Sequence[object],
    insert: tuple[str, Sequence[object]],
    send: Send,
) -> bool:
    """Returns True if this call delivered it, False if it had been delivered before."""
    async with pool.acquire() as conn:
        await conn.execute(insert[0], *insert[1])
        failure: Exception | None = None
        async with conn.transaction():
            row = await conn.fetchrow(ledger.select_sql(), *key)
            if row["status"] == ledger.done_status:
                return False
            receipt: Receipt = dict(row["receipt"] or {})
            try:
                await send(receipt)
            except DeliveryError as err:
                failure = err
            except Exception as err:
                # An adapter's own exception may quote anything; keep only what kind it was.
                failure = TransientDeliveryError(describe_failure(err))
            if failure is not None:
                # Whatever the adapter was handling when it failed (a library error quoting a URL with a
                # token, a server's reply) goes no further, not even as a suppressed context.
                failure.__context__ = failure.__cause__ = None
            error = str(failure)[:200] if failure else None
            extra = (receipt or None,) if ledger.receipt_column else ()
            await conn.execute(ledger.mark_sql(), *key, failure is None, error, *extra)
    if failure is not None:
        _raise_for(failure)
    return True
