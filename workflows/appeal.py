"""AppealWorkflow: one durable workflow per citizen's appeal.

The workflow only orchestrates. It reads no files and touches no database: the
plan comes from a local activity (recorded in history), and every write goes
through an idempotent activity keyed by the workflow id and `seq`, a step
number that replays identically.

The lifecycle is the list in `lifecycle()`. To add a step, write an
`async def` method here, add it to that list, and guard it with
`workflow.patched(...)` so that appeals already in flight keep replaying.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from activities.planning import PlanningActivities
    from activities.storage import StorageActivities
    from appeals.models import (
        Acknowledge,
        ActionReceipt,
        AppealInput,
        AppealResult,
        AppealState,
        AppealStatus,
        Clock,
        Recipient,
        SubmitAnswer,
        TimelineEntry,
    )
    from appeals.records import (
        AppealEvent,
        AppealPlan,
        NotificationRequest,
        PlanRequest,
        Projection,
    )
    from stack import search_attributes as sa
    from stack.settings import WORKFLOW_TYPE

ACKNOWLEDGE = "acknowledge"
ANSWER = "answer"

# Storage must eventually succeed: an appeal never drops out of sight, so retry forever.
STORAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["InvalidEvent"],
)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=50,
    non_retryable_error_types=["PermanentNotificationError"],
)
# A broken policy file is fixed by an operator; the appeal waits for the fix.
PLAN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@workflow.defn(name=WORKFLOW_TYPE)
class AppealWorkflow:
    @workflow.init
    def __init__(self, appeal: AppealInput) -> None:
        self.appeal = appeal
        self.state = AppealState(
            workflow_id=workflow.info().workflow_id,
            status=AppealStatus.registered,
            step="start",
            appeal=appeal,
        )
        self.plan: AppealPlan | None = None
        self.seq = 0
        self.acknowledged_at: datetime | None = None
        self.answered_at: datetime | None = None
        self.closed_at: datetime | None = None
        self._published: dict[str, Any] = {key.name: value for key, value in _current_search_attributes()}

    # --- The lifecycle -------------------------------------------------------------------

    @workflow.run
    async def run(self, appeal: AppealInput) -> AppealResult:
        for step in self.lifecycle():
            self.state.step = step.__name__
            await step()
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self.closed_at is not None
        return AppealResult(
            workflow_id=self.state.workflow_id,
            status=self.state.status,
            sla_breached=self.state.sla_breached,
            escalation_level=self.state.escalation_level,
            closed_at=self.closed_at,
        )

    def lifecycle(self) -> list[Callable[[], Awaitable[None]]]:
        """The appeal's named steps, in order."""
        return [self.register, self.route, self.await_acknowledgment, self.await_answer, self.close]

    async def register(self) -> None:
        if self.state.workflow_id != self.appeal.workflow_id:
            # The id is what makes a re-sent post find its appeal instead of starting another.
            raise ApplicationError(
                f"workflow id {self.state.workflow_id!r} does not match the appeal: "
                f"start it as {self.appeal.workflow_id!r} (appeal-<channel>-<external id>)",
                type="WrongWorkflowId",
                non_retryable=True,
            )
        await self.record("registered", f"registered from {self.appeal.channel}")

    async def route(self) -> None:
        self.plan = await workflow.execute_local_activity_method(
            PlanningActivities.plan_appeal,
            PlanRequest(appeal=self.appeal),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=PLAN_RETRY,
            summary="route and plan deadlines",
        )
        route, due = self.plan.route, self.plan.deadlines
        self.state.executor, self.state.ladder = route.executor, route.ladder
        self.state.policy, self.state.policy_version = self.plan.policy.name, self.plan.policy_version
        received = self.appeal.received_at
        self.state.clocks = {
            ACKNOWLEDGE: Clock(name=ACKNOWLEDGE, started_at=received, due_at=due.acknowledge),
            ANSWER: Clock(name=ANSWER, started_at=received, due_at=due.answer),
        }
        self.state.status = AppealStatus.awaiting_acknowledgment
        workflow.upsert_memo({"summary": f"{self.appeal.summary()} → {route.executor.address}"})
        entry = await self.record(
            "routed",
            f"routed to {route.executor.address} ({route.rule}), policy {self.plan.policy.name}",
            executor=route.executor.address,
            rule=route.rule,
            policy=self.plan.policy.name,
            policy_version=self.plan.policy_version,
            acknowledge_due=due.acknowledge.isoformat(),
            answer_due=due.answer.isoformat(),
        )
        await self.notify(
            entry.seq,
            "assigned",
            route.executor,
            f"New appeal {self.state.workflow_id}: acknowledge by {_utc(due.acknowledge)}",
            f"{self.appeal.text}\n\nAnswer due {_utc(due.answer)}.",
        )

    async def await_acknowledgment(self) -> None:
        await self.run_clock(ACKNOWLEDGE, lambda: self.acknowledged_at is not None)
        self.state.status = AppealStatus.in_progress
        await self.record(
            "acknowledged",
            f"acknowledged by {self.state.acknowledged_by}",
            by=self.state.acknowledged_by,
            on_time=self.state.clocks[ACKNOWLEDGE].breached_at is None,
        )

    async def await_answer(self) -> None:
        await self.run_clock(ANSWER, lambda: self.answered_at is not None)
        assert self.state.answer is not None
        self.state.status = AppealStatus.answered
        await self.record(
            "answered",
            f"answered by {self.state.answer.by}",
            by=self.state.answer.by,
            on_time=self.state.clocks[ANSWER].breached_at is None,
            attachments=len(self.state.answer.attachments),
        )

    async def close(self) -> None:
        self.closed_at = workflow.now()
        self.state.status = AppealStatus.closed
        await self.record("closed", "closed")

    # --- Clocks and escalation -----------------------------------------------------------

    async def run_clock(self, name: str, done: Callable[[], bool]) -> None:
        """Wait until `done()`; past the deadline, climb the ladder at the policy's interval.

        One durable timer is pending at a time; there is no polling.
        """
        assert self.plan is not None
        clock = self.state.clocks[name]
        alarm = clock.due_at
        while not done():
            remaining = alarm - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(
                        done, timeout=remaining, timeout_summary=f"{name} deadline {_utc(alarm)}"
                    )
                except TimeoutError:
                    pass
                continue
            if clock.breached_at is None:
                clock.breached_at = clock.due_at
                self.state.sla_breached = True
                await self.record(
                    "sla_breached",
                    f"{name} deadline {_utc(clock.due_at)} missed",
                    clock=name,
                    due_at=clock.due_at.isoformat(),
                )
            await self.escalate(name)
            alarm = workflow.now() + self.plan.policy.escalation_interval
        clock.stopped_at = self.acknowledged_at if name == ACKNOWLEDGE else self.answered_at

    async def escalate(self, clock: str) -> None:
        ladder = self.state.ladder
        level = min(self.state.escalation_level + 1, len(ladder))
        reminder = level == self.state.escalation_level
        self.state.escalation_level = level
        recipient = ladder[level - 1]
        kind = "escalation_reminder" if reminder else "escalated"
        entry = await self.record(
            kind,
            f"level {level}: {clock} overdue, {recipient.role} notified",
            level=level,
            clock=clock,
            recipient=recipient.address,
        )
        await self.notify(
            entry.seq,
            kind,
            recipient,
            f"Overdue appeal {self.state.workflow_id}: {clock} was due "
            f"{_utc(self.state.clocks[clock].due_at)} (escalation level {level})",
            f"Executor: {self.state.executor.address if self.state.executor else '-'}\n\n{self.appeal.text}",
        )

    # --- Recording: timeline, search attributes, storage, notifications ------------------

    async def record(self, kind: str, summary: str, **data: Any) -> TimelineEntry:
        self.seq += 1
        entry = TimelineEntry(seq=self.seq, at=workflow.now(), kind=kind, summary=summary, data=data)
        self.state.timeline.append(entry)
        self._publish_search_attributes()
        workflow.logger.info(summary, extra={"appeal_id": self.state.workflow_id, "kind": kind})
        await workflow.execute_activity_method(
            StorageActivities.record_event,
            AppealEvent(
                workflow_id=self.state.workflow_id,
                seq=entry.seq,
                kind=kind,
                at=entry.at,
                summary=summary,
                data=data,
                projection=self._projection(),
                appeal=self.appeal if kind == "registered" else None,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORAGE_RETRY,
            summary=f"store {kind}",
        )
        return entry

    async def notify(self, seq: int, kind: str, recipient: Recipient, subject: str, body: str) -> None:
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_notification,
                NotificationRequest(
                    workflow_id=self.state.workflow_id,
                    seq=seq,
                    kind=kind,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=NOTIFY_RETRY,
                summary=f"notify {recipient.role}",
            )
        except ActivityError as err:
            # A lost notification must be visible, not fatal: the clocks go on.
            await self.record(
                "notification_failed",
                f"{kind} to {recipient.address} failed: {err.cause or err}",
                recipient=recipient.address,
                notification_seq=seq,
            )

    def _projection(self) -> Projection:
        clocks = self.state.clocks
        return Projection(
            status=self.state.status,
            executor=self.state.executor.address if self.state.executor else None,
            ack_deadline=clocks[ACKNOWLEDGE].due_at if ACKNOWLEDGE in clocks else None,
            answer_deadline=clocks[ANSWER].due_at if ANSWER in clocks else None,
            acknowledged_at=self.acknowledged_at,
            answered_at=self.answered_at,
            closed_at=self.closed_at,
            escalation_level=self.state.escalation_level,
            sla_breached=self.state.sla_breached,
        )

    def _publish_search_attributes(self) -> None:
        """Upsert the attributes whose value changed since the last upsert."""
        p = self._projection()
        wanted: list[tuple[Any, Any]] = [
            (sa.APPEAL_STATUS, p.status.value),
            (sa.APPEAL_CHANNEL, self.appeal.channel.value),
            (sa.APPEAL_CATEGORY, self.appeal.category),
            (sa.MUNICIPALITY, self.appeal.municipality),
            (sa.EXECUTOR, p.executor),
            (sa.ACK_DEADLINE, p.ack_deadline),
            (sa.ANSWER_DEADLINE, p.answer_deadline),
            (sa.ESCALATION_LEVEL, p.escalation_level),
            (sa.SLA_BREACHED, p.sla_breached),
        ]
        updates: list[SearchAttributeUpdate[Any]] = []
        for key, value in wanted:
            if value is not None and self._published.get(key.name) != value:
                updates.append(key.value_set(value))
                self._published[key.name] = value
        if updates:
            workflow.upsert_search_attributes(updates)

    # --- Officials act through validated Updates -----------------------------------------

    @workflow.update
    def acknowledge(self, action: Acknowledge) -> ActionReceipt:
        self.acknowledged_at = workflow.now()
        self.state.acknowledged_by = action.by
        return self._receipt(ACKNOWLEDGE, AppealStatus.in_progress)

    @acknowledge.validator
    def _check_acknowledge(self, action: Acknowledge) -> None:
        self._refuse_if_closed(ACKNOWLEDGE)
        if self.acknowledged_at is not None:
            raise ValueError(
                f"already acknowledged by {self.state.acknowledged_by} "
                f"at {self.acknowledged_at.isoformat()}; acknowledge only once"
            )

    @workflow.update
    def answer(self, action: SubmitAnswer) -> ActionReceipt:
        now = workflow.now()
        if self.acknowledged_at is None:  # an answer is also the first reaction
            self.acknowledged_at = now
            self.state.acknowledged_by = action.by
        self.answered_at = now
        self.state.answer = action
        return self._receipt(ANSWER, AppealStatus.answered)

    @answer.validator
    def _check_answer(self, action: SubmitAnswer) -> None:
        self._refuse_if_closed(ANSWER)
        if self.answered_at is not None:
            raise ValueError(
                f"already answered by {self.state.answer.by if self.state.answer else '?'} "
                f"at {self.answered_at.isoformat()}"
            )
        if not action.text.strip():
            raise ValueError("the answer is empty: write what was done and when")

    def _refuse_if_closed(self, action: str) -> None:
        if self.closed_at is not None:
            raise ValueError(
                f"the appeal {self.state.workflow_id} was closed at "
                f"{self.closed_at.isoformat()}; a closed appeal cannot take '{action}'"
            )

    def _receipt(self, action: str, status: AppealStatus) -> ActionReceipt:
        return ActionReceipt(
            workflow_id=self.state.workflow_id,
            action=action,
            accepted_at=workflow.now(),
            status=status,
        )

    # --- Queries -------------------------------------------------------------------------

    @workflow.query
    def get_state(self) -> AppealState:
        return self.state

    @workflow.query
    def get_timeline(self) -> list[TimelineEntry]:
        return self.state.timeline


def _current_search_attributes() -> list[tuple[Any, Any]]:
    attributes = workflow.info().typed_search_attributes
    return [(pair.key, pair.value) for pair in attributes]
