"""Storage activities: the audit trail and the appeals projection in PostgreSQL.

One activity, `record_event`, writes an event and the projection it implies in
one transaction. The event's key (workflow id, seq) makes a retry a no-op, and
the projection only moves forward, so a late retry never rolls it back.
"""

from __future__ import annotations

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from appeals.clocks import Clock
from appeals.models import AppealInput
from appeals.records import AppealEvent
from stack import logs

log = logs.get(__name__)

_INSERT_APPEAL = """
INSERT INTO appeals (workflow_id, channel, external_id, category, municipality, priority,
                     text, author, address, received_at, registered_at, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (workflow_id) DO NOTHING
"""

_INSERT_EVENT = """
INSERT INTO appeal_events (workflow_id, seq, kind, occurred_at, summary, data)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (workflow_id, seq) DO NOTHING
"""

_PROJECT = """
UPDATE appeals SET status = $3, executor = $4, ack_deadline = $5, answer_deadline = $6,
       acknowledged_at = $7, answered_at = $8, closed_at = $9, escalation_level = $10,
       sla_breached = $11, policy = $12, policy_version = $13, cycle = $14, paused = $15,
       formal_rejections = $16, redirects = $17, incident_id = $18, duplicate_of = $19,
       category = COALESCE($20, category), municipality = COALESCE($21, municipality),
       last_event_seq = $2, updated_at = now()
WHERE workflow_id = $1 AND last_event_seq < $2
"""

_CLOCK = """
INSERT INTO appeal_clocks (workflow_id, clock, cycle, kind, started_at, due_at, paused,
                           paused_since, breached_at, stopped_at, pauses, marks, last_event_seq, number)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (workflow_id, number) DO UPDATE SET
    due_at = EXCLUDED.due_at, paused = EXCLUDED.paused, paused_since = EXCLUDED.paused_since,
    breached_at = EXCLUDED.breached_at, stopped_at = EXCLUDED.stopped_at,
    pauses = EXCLUDED.pauses, marks = EXCLUDED.marks, last_event_seq = EXCLUDED.last_event_seq
WHERE appeal_clocks.last_event_seq < EXCLUDED.last_event_seq
"""


class StorageActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def record_event(self, event: AppealEvent) -> bool:
        """Returns True if this call wrote the event, False if it was already there."""
        log.info("record event", appeal_id=event.workflow_id, seq=event.seq, kind=event.kind)
        p = event.projection
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                if event.appeal is not None:
                    await conn.execute(_INSERT_APPEAL, *_appeal_row(event.workflow_id, event.appeal, event))
                status = await conn.execute(
                    _INSERT_EVENT,
                    event.workflow_id,
                    event.seq,
                    event.kind,
                    event.at,
                    event.summary,
                    event.data,
                )
                await conn.execute(
                    _PROJECT,
                    event.workflow_id,
                    event.seq,
                    p.status.value,
                    p.executor,
                    p.ack_deadline,
                    p.answer_deadline,
                    p.acknowledged_at,
                    p.answered_at,
                    p.closed_at,
                    p.escalation_level,
                    p.sla_breached,
                    p.policy,
                    p.policy_version,
                    p.cycle,
                    p.paused,
                    p.formal_rejections,
                    p.redirects,
                    p.incident_id,
                    p.duplicate_of,
                    p.category,
                    p.municipality,
                )
                await conn.executemany(_CLOCK, [_clock_row(event.workflow_id, event.seq, c) for c in p.clocks])
        except (
            asyncpg.ForeignKeyViolationError,
            asyncpg.UniqueViolationError,  # the same source appeal under another workflow id
            asyncpg.DataError,
        ) as err:
            # The event itself is wrong; retrying cannot fix it.
            # Retryable on purpose: the step stays pending and visible (last failure in the UI)
            # until someone fixes the cause, instead of the workflow moving on without its record.
            raise ApplicationError(
                f"event {event.seq} ({event.kind}) of {event.workflow_id} refused by PostgreSQL: "
                f"{type(err).__name__} ({err.sqlstate})",
                type="InvalidEvent",
            ) from err
        return bool(status == "INSERT 0 1")


    @activity.defn
    async def appeal_exists(self, workflow_id: str) -> bool:
        """True if an appeal with this workflow id was registered (mark_duplicate's original)."""
        return bool(await self._pool.fetchval("SELECT 1 FROM appeals WHERE workflow_id = $1", workflow_id))


def _appeal_row(workflow_id: str, appeal: AppealInput, event: AppealEvent) -> tuple[object, ...]:
    return (
        workflow_id,
        appeal.channel.value,
        appeal.external_id,
        appeal.category,
        appeal.municipality,
        appeal.priority.value,
        appeal.text,
        appeal.author.model_dump(mode="json", exclude_none=True),
        appeal.address,
        appeal.received_at,
        event.at,
        event.projection.status.value,
    )


def _clock_row(workflow_id: str, seq: int, clock: Clock) -> tuple[object, ...]:
    dumped = clock.model_dump(mode="json")
    return (
        workflow_id,
        clock.name,
        clock.cycle,
        clock.kind.value,
        clock.started_at,
        clock.due_at,
        clock.paused,
        clock.paused_since,
        clock.breached_at,
        clock.stopped_at,
        dumped["pauses"],
        dumped["marks"],
        seq,
        clock.number,
    )
