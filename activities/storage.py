"""Storage activities: the audit trail and the appeals projection in PostgreSQL.

One activity, `record_event`, writes an event and the projection it implies in
one transaction. The event's key (workflow id, seq) makes a retry a no-op, and
the projection only moves forward, so a late retry never rolls it back.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from appeals.clocks import Clock
from appeals.models import AppealInput
from appeals.records import AppealEvent, EventBatch, EventRecord, NotificationRequest, Projection

log = structlog.get_logger(__name__)

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


_OUTBOX = """
INSERT INTO notifications (idempotency_key, workflow_id, seq, kind, recipient_role, recipient,
                           subject, body, adapter)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (idempotency_key) DO NOTHING
"""


class StorageActivities:
    def __init__(self, pool: asyncpg.Pool, adapter: str = "log") -> None:
        self._pool = pool
        self._adapter = adapter  # the notifier that will deliver what is put in the outbox

    @activity.defn
    async def record_event(self, event: AppealEvent) -> bool:
        """One event and its projection. Returns True if this call wrote the event."""
        batch = EventBatch(
            workflow_id=event.workflow_id,
            events=[EventRecord(seq=event.seq, kind=event.kind, at=event.at, summary=event.summary, data=event.data)],
            projection=event.projection,
            appeal=event.appeal,
        )
        return await self.record_batch(batch) == 1

    @activity.defn
    async def record_batch(self, batch: EventBatch) -> int:
        """A step's events, their notifications (the outbox) and the projection, in one transaction.

        Idempotent: events are keyed by (workflow id, seq), notifications by their key, and the
        projection only moves forward. Returns how many events this call wrote."""
        last = batch.events[-1]
        log.info("record events", appeal_id=batch.workflow_id, seq=last.seq, kinds=[e.kind for e in batch.events])
        p = batch.projection
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                if batch.appeal is not None:
                    await conn.execute(_INSERT_APPEAL, *_appeal_row(batch.workflow_id, batch.appeal, last.at))
                written = 0
                for e in batch.events:
                    status = await conn.execute(
                        _INSERT_EVENT, batch.workflow_id, e.seq, e.kind, e.at, e.summary, e.data
                    )
                    written += status == "INSERT 0 1"
                await conn.execute(_PROJECT, batch.workflow_id, last.seq, *_projection_row(p))
                await conn.executemany(_CLOCK, [_clock_row(batch.workflow_id, last.seq, c) for c in p.clocks])
                if batch.notifications:
                    await conn.executemany(_OUTBOX, [_notification_row(n, self._adapter) for n in batch.notifications])
        except (
            asyncpg.ForeignKeyViolationError,
            asyncpg.UniqueViolationError,  # the same source appeal under another workflow id
            asyncpg.DataError,
        ) as err:
            # Retryable on purpose: the step stays pending and visible (last failure in the UI)
            # until someone fixes the cause, instead of the workflow moving on without its record.
            raise ApplicationError(
                f"events {batch.events[0].seq}..{last.seq} of {batch.workflow_id} refused by PostgreSQL: "
                f"{type(err).__name__} ({err.sqlstate})",
                type="InvalidEvent",
            ) from err
        return written

    @activity.defn
    async def appeal_exists(self, workflow_id: str) -> bool:
        """True if an appeal with this workflow id was registered (mark_duplicate's original)."""
        return bool(await self._pool.fetchval("SELECT 1 FROM appeals WHERE workflow_id = $1", workflow_id))


def _projection_row(p: Projection) -> tuple[object, ...]:
    return (
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


def _notification_row(n: NotificationRequest, adapter: str) -> tuple[object, ...]:
    return (
        n.idempotency_key,
        n.workflow_id,
        n.seq,
        n.kind,
        n.recipient.role,
        n.recipient.address,
        n.subject,
        n.body,
        adapter,
    )


def _appeal_row(workflow_id: str, appeal: AppealInput, registered_at: datetime) -> tuple[object, ...]:
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
        registered_at,
        "registered",
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
