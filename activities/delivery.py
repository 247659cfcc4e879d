"""Deliver something outside exactly once as far as we can: record it, lock it, send, mark it.

The row is inserted first (idempotent), then locked while the adapter sends, so two
attempts of the same activity (a retry racing a slow worker) cannot both send. Each
attempt and its error are kept on the row. A crash between sending and marking can
repeat a delivery; receivers drop the repeat by the idempotency key.

The error kept on the row and raised to Temporal is a short reason ("HTTP 500
Internal Server Error", "connection refused", "timeout"): no URL, no response body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
from temporalio.exceptions import ApplicationError

from activities.notifiers import DeliveryError, PermanentDeliveryError, TransientDeliveryError, describe_failure


@dataclass(frozen=True)
class Ledger:
    """Where deliveries of one kind are recorded."""

    table: str
    key_columns: tuple[str, ...]
    done_status: str
    done_at_column: str

    def _where(self) -> str:
        return " AND ".join(f"{c} = ${n}" for n, c in enumerate(self.key_columns, start=1))

    def select_sql(self) -> str:
        return f"SELECT status FROM {self.table} WHERE {self._where()} FOR UPDATE"

    def mark_sql(self) -> str:
        n = len(self.key_columns)
        return (
            f"UPDATE {self.table} SET attempts = attempts + 1, "
            f"status = CASE WHEN ${n + 1} THEN '{self.done_status}' ELSE status END, "
            f"{self.done_at_column} = CASE WHEN ${n + 1} THEN now() ELSE {self.done_at_column} END, "
            f"last_error = ${n + 2} WHERE {self._where()}"
        )


async def deliver_once(
    pool: asyncpg.Pool,
    ledger: Ledger,
    key: Sequence[object],
    insert: tuple[str, Sequence[object]],
    send: Callable[[], Awaitable[None]],
) -> bool:
    """Returns True if this call delivered it, False if it had been delivered before."""
    async with pool.acquire() as conn:
        await conn.execute(insert[0], *insert[1])
        failure: Exception | None = None
        async with conn.transaction():
            status = await conn.fetchval(ledger.select_sql(), *key)
            if status == ledger.done_status:
                return False
            try:
                await send()
            except DeliveryError as err:
                failure = err
            except Exception as err:
                # An adapter's own exception may quote anything; keep only what kind it was.
                failure = TransientDeliveryError(describe_failure(err))
            error = str(failure)[:200] if failure else None
            await conn.execute(ledger.mark_sql(), *key, failure is None, error)
    if isinstance(failure, PermanentDeliveryError):
        raise ApplicationError(str(failure), type="PermanentDeliveryError", non_retryable=True) from None
    if failure is not None:
        raise failure from None  # Temporal retries the activity by its retry policy.
    return True
