"""The journal: what happened, written down once for everyone who needs it.

A step records timeline entries and the notifications they cause, then commits: one activity
writes the events, the notifications (an outbox the worker delivers from, so an
action never waits for a mail server) and the projection in one transaction. The commit
also upserts the search attributes that changed. Commits run one at a time, so when one
returns, everything recorded before it is durable.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from enum import StrEnum
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.storage import StorageActivities
    from appeals.clocks import Clock
    from appeals.models import Recipient
    from appeals.records import EventBatch, EventRecord, NotificationRequest, Projection
    from appeals.state import TimelineEntry
    from appeals.vocabulary import ClockName, EventKind
    from workflows import search_attributes as sa
    from workflows.appeal.state import RunState

# Storage must eventually succeed: an appeal never drops out of sight, so retry forever. Inputs are
# checked at the door, so nothing that reaches a workflow is unstorable; if something still is, the
# step stays pending and visible (the last failure in the UI) instead of half-applied.
STORAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
STORE_TIMEOUT = timedelta(seconds=30)


class Journal:
    s: RunState
    answer_clocks: frozenset[str]

    def _journal_init(self) -> None:
        self._events: list[EventRecord] = []
        self._notices: list[NotificationRequest] = []
        self._sent_clocks: dict[int, str] = {}  # each clock as last written: only changes travel
        self._commit_lock = asyncio.Lock()

    def record(self, kind: StrEnum, summary: str, /, **data: Any) -> TimelineEntry:
        """A timeline entry, stored with the next commit."""
        self.s.seq += 1
        entry = TimelineEntry(seq=self.s.seq, at=workflow.now(), kind=kind.value, summary=summary, data=data)
        self.s.view.timeline.append(entry)
        self._events.append(EventRecord(seq=entry.seq, kind=entry.kind, at=entry.at, summary=summary, data=data))
        workflow.logger.info(
            f"appeal event {kind.value}",  # never the summary: it may quote people's words
            extra={"appeal_id": self.s.view.workflow_id, "kind": kind.value, "step": self.s.view.step},
        )
        return entry

    def notify(self, seq: int, kind: StrEnum, recipients: list[Recipient], subject: str, body: str) -> None:
        """Notifications caused by the entry `seq`: delivered by the worker after the commit, once per key."""
        for recipient in recipients:
            self._notices.append(
                NotificationRequest(
                    workflow_id=self.s.view.workflow_id,
                    seq=seq,
                    kind=kind.value,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                )
            )

    async def commit(self) -> None:
        """Write what was recorded; returns once it is durable."""
        async with self._commit_lock:
            if not self._events:
                return
            events, self._events = self._events, []
            notices, self._notices = self._notices, []
            projection = self.projection(self.changed_clocks())
            registering = events[0].kind == EventKind.registered
            self.publish_search_attributes(projection)
            # A regular activity, not a local one: it is scheduled only by a workflow task that
            # completed, so the (workflow id, seq) of every stored event is the one in the history. A
            # local activity would also write from a task attempt that timed out, whose seq numbering
            # a later attempt, seeing more events, may not repeat.
            await workflow.execute_activity_method(
                StorageActivities.record_batch,
                EventBatch(
                    workflow_id=self.s.view.workflow_id,
                    events=events,
                    projection=projection,
                    appeal=self.s.appeal if registering else None,
                    notifications=notices,
                ),
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORAGE_RETRY,
                summary=f"store {', '.join(e.kind for e in events)}",
            )

    def changed_clocks(self) -> list[Clock]:
        changed = []
        for clock in self.s.view.clocks:
            dumped = clock.model_dump_json()
            if self._sent_clocks.get(clock.number) != dumped:
                self._sent_clocks[clock.number] = dumped
                changed.append(clock)
        return changed

    def projection(self, clocks: list[Clock]) -> Projection:
        view = self.s.view
        ack = view.clock(ClockName.acknowledge)
        answer = next((c for c in reversed(view.clocks) if c.name in self.answer_clocks), None)
        return Projection(
            status=view.status,
            executor=view.executor.address if view.executor else None,
            ack_deadline=ack.due_at if ack else None,
            answer_deadline=answer.due_at if answer else None,
            acknowledged_at=self.s.acknowledged_at,
            answered_at=self.s.answered_at,
            closed_at=self.s.closed_at,
            escalation_level=view.escalation_level,
            sla_breached=view.sla_breached,
            policy=view.policy,
            policy_version=view.policy_version,
            cycle=view.cycle,
            paused=self.s.paused_since is not None,
            clocks=clocks,
            category=self.s.appeal.category,
            municipality=self.s.appeal.municipality,
            formal_rejections=view.formal_rejections,
            redirects=len(view.redirects),
            incident_id=view.incident_id,
            duplicate_of=view.duplicate_of,
        )

    def publish_search_attributes(self, p: Projection) -> None:
        """Upsert the attributes whose value changed since the last upsert. None carry no
        personal data: an operator recognises an appeal by category, place, executor and status."""
        wanted: list[tuple[Any, Any]] = [
            (sa.APPEAL_STATUS, p.status.value),
            (sa.APPEAL_CHANNEL, self.s.appeal.channel.value),
            (sa.APPEAL_CATEGORY, p.category),
            (sa.MUNICIPALITY, p.municipality),
            (sa.EXECUTOR, p.executor),
            (sa.ACK_DEADLINE, p.ack_deadline),
            (sa.ANSWER_DEADLINE, p.answer_deadline),
            (sa.ESCALATION_LEVEL, p.escalation_level),
            (sa.SLA_BREACHED, p.sla_breached),
            (sa.INCIDENT_ID, p.incident_id),
        ]
        updates: list[SearchAttributeUpdate[Any]] = []
        for key, value in wanted:
            if value is not None and self.s.published.get(key.name) != value:
                updates.append(key.value_set(value))
                self.s.published[key.name] = value
        if updates:
            workflow.upsert_search_attributes(updates)
