"""The intake watch: no start that failed drops out of sight.

A start that cannot run (its input does not decode, or the workflow refuses its id or its
timestamps) fails its workflow at once. The workflow's own code may never have run, so the
worker looks for such runs in Temporal's visibility and records each once in PostgreSQL
(`failed_intakes`), logs it without personal data and counts it (`appeal_intakes_failed`).
Every worker may run it: the run id is the key.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client
from temporalio.runtime import Runtime

from stack import logs

log = logs.get(__name__)

LOOK_BACK = timedelta(days=30)  # on an empty table: what failed before this worker first ran
OVERLAP = timedelta(hours=1)  # visibility is eventually consistent: look again a little back

_INSERT = """
INSERT INTO failed_intakes (run_id, workflow_id, workflow_type, failed_at, reason)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING
"""
_BRACKETS = re.compile(r"\s*\[type=[^\]]*\]")


def one_line(message: str) -> str:
    """A failure message in one line, without pydantic's echo of the input (personal data)."""
    lines = [
        _BRACKETS.sub("", line).strip()
        for line in message.splitlines()
        if line.strip() and not line.strip().startswith("For further information")
    ]
    return "; ".join(lines)[:1000] or "failed"


async def record_failed(client: Client, pool: asyncpg.Pool, since: datetime, task_queue: str) -> list[str]:
    """Record every run on `task_queue` that failed after `since` (an appeal, an incident, a type
    that does not exist); returns the workflow ids recorded now."""
    known = {r["run_id"] for r in await pool.fetch("SELECT run_id FROM failed_intakes WHERE failed_at >= $1", since)}
    after = since.astimezone(UTC).isoformat()
    query = f'ExecutionStatus="Failed" AND TaskQueue="{task_queue}" AND CloseTime > "{after}"'
    new: list[str] = []
    async for execution in client.list_workflows(query):
        if execution.run_id in known:
            continue
        reason = "failed"
        async for event in client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history_events():
            if event.HasField("workflow_execution_failed_event_attributes"):
                failure = event.workflow_execution_failed_event_attributes.failure
                reason = one_line(str(await client.data_converter.decode_failure(failure)))
        failed_at = execution.close_time or datetime.now(UTC)
        status = await pool.execute(_INSERT, execution.run_id, execution.id, execution.workflow_type, failed_at, reason)
        if status == "INSERT 0 1":
            new.append(execution.id)
            log.warning("intake failed", appeal_id=execution.id, workflow_type=execution.workflow_type, reason=reason)
    return new


async def watch(client: Client, pool: asyncpg.Pool, rt: Runtime | None, task_queue: str, every: float = 15.0) -> None:
    """Until cancelled: record failed starts and count them."""
    counter = (rt or Runtime.default()).metric_meter.create_counter(
        "appeal_intakes_failed", "Appeal and incident starts that failed and were recorded in failed_intakes"
    )
    while True:
        try:
            latest = await pool.fetchval("SELECT max(failed_at) FROM failed_intakes")
            since = (latest - OVERLAP) if latest else datetime.now(UTC) - LOOK_BACK
            for _ in await record_failed(client, pool, since, task_queue):
                counter.add(1)
        except (OSError, RuntimeError, asyncpg.PostgresError) as err:  # Temporal or PostgreSQL away: next round
            log.warning("intake watch skipped a round", error=type(err).__name__)
        await asyncio.sleep(every)
