"""FROZEN: the AppealWorkflow before it was rebuilt as steps, kept only to replay tests/histories/v1/. Never edit.

The workflow only orchestrates. The plan (route, SLA policy, working calendar)
comes from a local activity and is pinned in the history, so deadlines replay
identically whatever the files say later. Every write goes through an idempotent
activity keyed by the workflow id and `seq`, a step number that replays identically.

Two things run side by side:
- the lifecycle, a readable list of named steps (`lifecycle()`), which waits for
  the officials' and the citizen's actions (Temporal Updates);
- the SLA supervisor, which holds one durable timer for the next thing any clock
  must do — a warning, a breach or the next escalation — and nothing else.

To add a step, write an `async def` method, add it to `lifecycle()`, and guard it
with `workflow.patched(...)` so that the appeals already in flight keep replaying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.checking import CheckingActivities
    from activities.incidents import IncidentActivities
    from activities.notifications import NotificationActivities
    from activities.planning import PlanningActivities
    from activities.publishing import PublishingActivities
    from activities.storage import StorageActivities
    from appeals import clocks
    from appeals.clocks import Alarm, Clock
    from appeals.durations import Duration, Kind
    from appeals.incidents import IncidentAnswered, JoinIncident
    from appeals.models import (
        Acknowledge,
        ActionReceipt,
        AnswerKind,
        AppealInput,
        AppealStatus,
        AskCitizen,
        CitizenReply,
        DeclareWhiteSpot,
        Extend,
        InterimAnswer,
        MarkDuplicate,
        MarkNotAppeal,
        Moderate,
        MoveCommitment,
        PauseClocks,
        Rate,
        Recipient,
        Reclassify,
        Redirect,
        Refute,
        RepinPolicy,
        ResumeClocks,
        SubmitAnswer,
        received_at_problem,
    )
    from appeals.moderation import Verdict
    from appeals.records import (
        AppealEvent,
        AppealPlan,
        CheckRequest,
        IncidentLookup,
        NotificationRequest,
        PlanRequest,
        Projection,
        Publication,
    )
    from appeals.safety import UndecodablePayload
    from appeals.sla import Role, SlaPolicy
    from appeals.state import AppealResult, AppealState, ClockView, Commitment, TimelineEntry
    from appeals.working_calendar import WorkingCalendar
    from stack import search_attributes as sa
    from workflows import metrics

ACKNOWLEDGE, ANSWER, FINAL, COMMITMENT = "acknowledge", "answer", "final", "commitment"
REWORK, REDIRECT, CLARIFICATION = "rework", "redirect", "clarification"
ANSWER_CLOCKS = (ANSWER, FINAL, COMMITMENT, REWORK)

# Storage must eventually succeed: an appeal never drops out of sight, so retry forever. Inputs are
# checked at the door, so nothing that reaches a workflow is unstorable; if something still is, the
# step stays pending and visible (the activity's last failure in the UI) instead of half-applied.
STORAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
# Patch markers for appeals in flight (see the README, "Versioning").
NOTIFY_IN_BACKGROUND = "notify-in-background"  # an action never waits for a notification
DUPLICATE_CHECKED = "duplicate-original-checked"  # mark_duplicate checks that the original exists
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=50,
    non_retryable_error_types=["PermanentDeliveryError"],
)
# A broken policy file is fixed by an operator; the appeal waits for the fix.
PLAN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


def _now() -> datetime:
    """Workflow time to the whole second: clock arithmetic must not carry the milliseconds
    a workflow task happens to take (a deadline at 18:00:00.004 would spill into tomorrow)."""
    return workflow.now().replace(microsecond=0)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _problems(err: ValidationError) -> str:
    """A pydantic error in one line, naming each field; never the input values (personal data)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in err.errors())


# A start whose input does not decode fails the workflow at once (visible as Failed, and recorded by
# the intake watch), instead of failing its first task again and again.
@workflow.defn(name="AppealWorkflow", failure_exception_types=[ValidationError, UndecodablePayload])
class AppealWorkflow:
    @workflow.init
    def __init__(self, appeal: AppealInput | None = None, *extra: Any) -> None:
        if appeal is None or extra:
            # A raw start from another SDK or the CLI: say what is wrong instead of a TypeError,
            # which would fail the first workflow task again and again.
            raise ApplicationError(
                f"input: an appeal workflow takes exactly one AppealInput, got {1 + len(extra) if appeal else 0} "
                "inputs (see schema/appeal-input.schema.json)",
                type="InvalidAppeal",
                non_retryable=True,
            )
        # The SDK decodes without type hints when the count differs from the signature's (which
        # counts `*extra`), so the one input arrives as JSON; a bad one fails the workflow at once.
        self.appeal = AppealInput.model_validate(appeal)
        self.state = AppealState(
            workflow_id=workflow.info().workflow_id,
            status=AppealStatus.registered,
            step="start",
            appeal=appeal,
        )
        self.plan: AppealPlan | None = None
        self.calendar: WorkingCalendar | None = None
        self.seq = 0
        self.acknowledged_at: datetime | None = None
        self.answered_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.paused_since: datetime | None = None
        self.escalation_due: datetime | None = None
        self.revision = 0  # bumped on every clock change: wakes the supervisor
        self.submitted: SubmitAnswer | None = None  # an answer waiting for the quality gate
        self.submitted_seq = 0
        self.awaiting_verdict = False  # a moderator's verdict is taken only while this is set
        self.pending_answer: IncidentAnswered | None = None  # an incident answer before routing
        self.reminders = 0  # consecutive reminders at the top of the ladder
        self.pending_join: JoinIncident | None = None  # an incident that found us before routing
        self.background: list[asyncio.Task[None]] = []  # notifications that must not hold the clocks
        self.verdict: Moderate | None = None
        self.satisfied = False  # the citizen rated the published answer 4 or 5
        self.ended_as: AppealStatus | None = None
        self.end_reason: str | None = None
        self._published: dict[str, Any] = {
            pair.key.name: pair.value for pair in workflow.info().typed_search_attributes
        }

    # --- The lifecycle -------------------------------------------------------------------

    @workflow.run
    async def run(self, appeal: AppealInput | None = None, *extra: Any) -> AppealResult:
        supervisor = asyncio.create_task(self.supervise())
        for step in self.lifecycle():
            if self.ended and step != self.close:
                continue
            self.state.step = step.__name__
            await step()
        await supervisor
        await asyncio.gather(*self.background)
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
        return [self.register, self.route, self.await_acknowledgment, self.resolve, self.close]

    async def register(self) -> None:
        if self.state.workflow_id != self.appeal.workflow_id:
            # The id is what makes a re-sent post find its appeal instead of starting another.
            raise ApplicationError(
                f"workflow id {self.state.workflow_id!r} does not match the appeal: "
                f"start it as {self.appeal.workflow_id!r} (appeal-<channel>-<external id>)",
                type="WrongWorkflowId",
                non_retryable=True,
            )
        problem = received_at_problem(self.appeal.received_at, workflow.now())
        if problem is not None:  # the source's clock is wrong: fix it and submit again
            raise ApplicationError(problem, type="InvalidAppeal", non_retryable=True)
        await self.record("registered", f"registered from {self.appeal.channel}")
        metrics.count("appeals_started", channel=self.appeal.channel.value)

    async def route(self) -> None:
        self.pin(await self.fetch_plan())
        assert self.plan is not None and self.calendar is not None
        route, policy, received = self.plan.route, self.plan.policy, self.appeal.received_at
        self.state.executor, self.state.ladder = route.executor, route.ladder
        self._add_clock(clocks.start_clock(self.calendar, ACKNOWLEDGE, received, policy.acknowledge, policy.thresholds))
        self._add_clock(clocks.start_clock(self.calendar, ANSWER, received, policy.answer, policy.thresholds))
        if policy.redirect is not None:  # 59-ФЗ: a redirect must happen within its own clock
            self._add_clock(clocks.start_clock(self.calendar, REDIRECT, received, policy.redirect, []))
        self.state.status = AppealStatus.awaiting_acknowledgment
        self.revision += 1
        workflow.upsert_memo({"summary": f"{self.appeal.summary()} → {route.executor.address}"})
        acknowledge_due, answer_due = self.due(ACKNOWLEDGE), self.due(ANSWER)
        entry = await self.record(
            "routed",
            f"routed to {route.executor.address} ({route.rule}), policy {policy.name}",
            executor=route.executor.address,
            rule=route.rule,
            policy=policy.name,
            policy_version=self.plan.policy_version,
            zone=self.calendar.zone_name,
            acknowledge_due=acknowledge_due.isoformat(),
            answer_due=answer_due.isoformat(),
        )
        await self.inform(
            entry.seq,
            "assigned",
            [route.executor],
            f"New appeal {self.state.workflow_id}: acknowledge by {_utc(acknowledge_due)}",
            f"{self.appeal.text}\n\nAnswer due {_utc(answer_due)}.",
        )
        await self.join_open_incident()
        if self.pending_join is not None:
            join, self.pending_join = self.pending_join, None
            await self.joined(join)
        if self.pending_answer is not None:
            answered, self.pending_answer = self.pending_answer, None
            await self.incident_answer(answered)

    async def join_open_incident(self) -> None:
        """Suggestion rule: an open incident with the same category and address takes this appeal."""
        if not (self.appeal.category and self.appeal.address) or self.state.incident_id:
            return
        incident = await workflow.execute_activity_method(
            IncidentActivities.find_open_incident,
            IncidentLookup(
                category=self.appeal.category, address=self.appeal.address, received_at=self.appeal.received_at
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORAGE_RETRY,
            summary="look for an open incident here",
        )
        if incident is not None:
            await workflow.get_external_workflow_handle(f"incident-{incident}").signal(
                "appeal_joined", self.state.workflow_id
            )

    async def await_acknowledgment(self) -> None:
        await workflow.wait_condition(lambda: self.acknowledged_at is not None or self.ended)

    async def resolve(self) -> None:
        """Until the citizen accepts: an answer, the quality gate, publication, the feedback window.

        A formal answer goes straight back with the reasons and a rework clock; otherwise a
        ЦУР moderator accepts or rejects it. An accepted answer is published in the appeal's
        channel, and a refutation within the feedback window starts the next answer cycle.
        """
        while not self.ended:
            await workflow.wait_condition(lambda: self.submitted is not None or self.ended)
            if self.ended:
                return
            answer = self.submitted
            assert answer is not None
            if not await self.passes_moderation(answer):
                continue
            cycle = self.state.cycle
            await self.publish(answer)
            if not await self.citizen_refutes(cycle):
                return

    async def passes_moderation(self, answer: SubmitAnswer) -> bool:
        report = await workflow.execute_local_activity_method(
            CheckingActivities.check_answer,
            CheckRequest(
                answer=answer.text,
                appeal_text=self.appeal.text,
                attachments=len(answer.attachments),
                citizen_contacts=[c for c in (self.appeal.author.contact, self.appeal.author.handle) if c],
            ),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=PLAN_RETRY,
            summary="check the answer for an отписка",
        )
        if self.ended:  # closed (not an appeal, duplicate) while the check ran
            return False
        self.state.quality = report
        reasons = [r.message for r in report.reasons]
        if report.verdict == Verdict.formal:
            await self.send_back(answer, reasons, by="automatic check", score=report.score)
            return False
        self.state.status = AppealStatus.in_moderation
        self.awaiting_verdict = True  # from the moment the status says so
        await self.record(
            "sent_to_moderation",
            f"answer by {answer.by} to the ЦУР moderator (score {report.score:.0f}, {report.verdict})",
            score=report.score,
            verdict=report.verdict.value,
            reasons=reasons,
        )
        await workflow.wait_condition(lambda: self.verdict is not None or self.ended)
        verdict, self.verdict, self.awaiting_verdict = self.verdict, None, False
        if verdict is None:
            return False
        if not verdict.accept:
            await self.send_back(answer, verdict.reasons, by=verdict.by)
            return False
        await self.record("answer_accepted", f"answer accepted by moderator {verdict.by}", by=verdict.by)
        return True

    async def send_back(self, answer: SubmitAnswer, reasons: list[str], *, by: str, score: float | None = None) -> None:
        """Back to the executor with the reasons and a rework deadline; counted per executor."""
        assert self.plan is not None and self.calendar is not None
        self.submitted = None
        self.answered_at = None
        self.state.formal_rejections += 1
        metrics.count("formal_answers_returned", by="automatic" if by == "automatic check" else "moderator")
        rework = clocks.start_clock(
            self.calendar, REWORK, _now(), self.plan.policy.rework, self.plan.policy.thresholds, cycle=self.state.cycle
        )
        self._add_clock(rework)
        self.state.status = AppealStatus.rework
        self.revision += 1
        executor = self.state.executor.address if self.state.executor else None
        entry = await self.record(
            "answer_returned",
            f"answer by {answer.by} sent back by {by}: {'; '.join(reasons)}; rework due {_utc(rework.due_at)}",
            by=by,
            executor=executor,
            reasons=reasons,
            score=score,
            rework_due=rework.due_at.isoformat(),
        )
        assert self.state.executor is not None
        await self.inform(
            entry.seq,
            "answer_returned",
            [self.state.executor],
            f"Appeal {self.state.workflow_id}: the answer was sent back, rework by {_utc(rework.due_at)}",
            "\n".join(f"- {r}" for r in reasons),
        )

    async def publish(self, answer: SubmitAnswer) -> None:
        """Publish first, then record it: the status says "answered" only once the citizen has it."""
        author = self.appeal.author
        await workflow.execute_activity_method(
            PublishingActivities.publish_answer,
            Publication(
                workflow_id=self.state.workflow_id,
                seq=self.submitted_seq,  # the answer's own step: one publication per answer
                channel=self.appeal.channel.value,
                external_id=self.appeal.external_id,
                recipient=author.handle or author.contact or author.name or "",
                text=answer.text,
                attachments=[a.model_dump(mode="json") for a in answer.attachments],
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORAGE_RETRY,
            summary=f"publish the answer to {self.appeal.channel}",
        )
        answered = [c for c in self.state.clocks if c.name in ANSWER_CLOCKS and c.cycle == self.state.cycle]
        metrics.count("appeals_answered", within_sla=all(c.breached_at is None for c in answered))
        self.submitted = None
        self.state.status = AppealStatus.answered
        self.revision += 1
        await self.record("published", f"published to the citizen via {self.appeal.channel}")

    async def citizen_refutes(self, cycle: int) -> bool:
        """The feedback window: True if the citizen refuted the answer (the cycle moved on).

        A refutation can arrive while the publication is still being stored, so the test is
        the cycle number, not a flag that could be reset after it was set.
        """
        assert self.plan is not None and self.calendar is not None
        window_ends = clocks.after(self.calendar, _now(), self.plan.policy.feedback_window)
        try:
            await workflow.wait_condition(
                lambda: self.state.cycle != cycle or self.ended or self.satisfied,
                timeout=max(window_ends - workflow.now(), timedelta(0)),
                timeout_summary=f"feedback window until {self._local(window_ends)}",
            )
        except TimeoutError:
            return False
        return self.state.cycle != cycle

    async def close(self) -> None:
        for clock in self.running():
            clocks.stop(clock, _now())
        self.closed_at = workflow.now()
        final = self.ended_as
        if final is None:
            unsolvable = self.state.answer is not None and self.state.answer.kind == AnswerKind.cannot_be_solved
            final = AppealStatus.closed_unsolvable if unsolvable else AppealStatus.closed
        self.state.status = final
        self.revision += 1
        why = self.end_reason or "the feedback window passed without a refutation"
        await self.record("closed", f"{final.value}: {why}", status=final.value)

    @property
    def ended(self) -> bool:
        return self.ended_as is not None

    def end(self, status: AppealStatus, reason: str) -> None:
        """Close early with a final status of its own (not an appeal, duplicate, no reply)."""
        self.ended_as, self.end_reason = status, reason
        for clock in self.running():
            clocks.stop(clock, _now())
        self.revision += 1

    # --- Planning ------------------------------------------------------------------------

    async def fetch_plan(self) -> AppealPlan:
        return await workflow.execute_local_activity_method(
            PlanningActivities.plan_appeal,
            PlanRequest(appeal=self.appeal, now=workflow.now()),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=PLAN_RETRY,
            summary="route, policy and calendar",
        )

    def pin(self, plan: AppealPlan) -> None:
        self.plan = plan
        self.calendar = WorkingCalendar.from_snapshot(plan.calendar)
        self.state.policy, self.state.policy_version = plan.policy.name, plan.policy_version

    def due(self, name: str) -> datetime:
        clock = self.state.clock(name)
        assert clock is not None
        return clock.due_at

    def running(self, *names: str) -> list[Clock]:
        return [c for c in self.state.clocks if c.running and (not names or c.name in names)]

    # --- The SLA supervisor --------------------------------------------------------------

    async def supervise(self) -> None:
        """Fire each clock's warnings, breach and escalations on time; one timer at a time."""
        while self.closed_at is None:
            alarm = self.next_alarm()
            seen = self.revision
            wait = None if alarm is None else alarm.at - workflow.now()
            if wait is None or wait > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda seen=seen: self.revision != seen or self.closed_at is not None,  # type: ignore[misc]
                        timeout=wait,
                        timeout_summary=None if alarm is None else self.describe(alarm),
                    )
                except TimeoutError:
                    pass
                continue
            assert alarm is not None
            await self.fire(alarm)

    def next_alarm(self) -> Alarm | None:
        alarms = [a for c in self.state.clocks if (a := clocks.next_alarm(c)) is not None]
        overdue = [c for c in self.state.clocks if c.running and c.breached_at is not None and c.name != CLARIFICATION]
        ticking = [c for c in overdue if c.ticking]
        if not overdue:
            self.escalation_due = None  # handled: the climb stops
        elif self.escalation_due is not None and ticking:  # paused: kept, and moved on resume
            clock = ticking[0]
            alarms.append(
                Alarm(at=self.escalation_due, clock=clock.name, number=clock.number, cycle=clock.cycle, kind="escalate")
            )
        return min(alarms, key=lambda a: a.at, default=None)

    def describe(self, alarm: Alarm) -> str:
        """The timer's summary in the UI, e.g. "answer deadline 2026-12-03 18:00 +05"."""
        what = {"breach": "deadline", "warning": "warning", "escalate": "next escalation"}[alarm.kind]
        return f"{alarm.clock} {what} {self._local(alarm.at)}"

    def _local(self, moment: datetime) -> str:
        if self.calendar is None:
            return _utc(moment)
        local = moment.astimezone(self.calendar.zone)
        return local.strftime("%Y-%m-%d %H:%M ") + local.strftime("%z")[:3]

    async def fire(self, alarm: Alarm) -> None:
        assert self.plan is not None and self.calendar is not None
        clock = self.state.clocks[alarm.number]
        if alarm.kind == "warning":
            assert alarm.mark is not None
            mark = clock.marks[alarm.mark]
            mark.sent_at = workflow.now()
            share = f"{mark.percent}% of the time used" if mark.percent else "the commitment date is near"
            entry = await self.record(
                "sla_warning",
                f"{clock.name}: {share}, due {_utc(clock.due_at)}",
                clock=clock.name,
                percent=mark.percent,
                due_at=clock.due_at.isoformat(),
            )
            self._notify_later(
                entry.seq,
                "warning",
                self.recipients(mark.notify),
                f"Appeal {self.state.workflow_id}: {share} — {clock.name} due {_utc(clock.due_at)}",
                self.appeal.text,
            )
        elif alarm.kind == "breach" and clock.name == CLARIFICATION:
            self.end(AppealStatus.closed_no_reply, f"no reply from the citizen by {_utc(clock.due_at)}")
        elif alarm.kind == "breach":
            metrics.count("sla_breaches", clock=clock.name)
            clock.breached_at = clock.due_at  # the exact moment, whenever the worker got to it
            self.state.sla_breached = True
            if self.escalation_due is None:
                # Notifications go out in working hours; the breach itself is recorded now.
                self.escalation_due = self.calendar.next_working_moment(clock.due_at)
            self.revision += 1
            await self.record(
                "sla_breached",
                f"{clock.name} deadline {_utc(clock.due_at)} missed",
                clock=clock.name,
                cycle=clock.cycle,
                due_at=clock.due_at.isoformat(),
            )
        else:
            await self.escalate(clock)
            # Past the top rung, reminders back off (x2 each, up to x16): the appeal stays in sight
            # without flooding the ladder or the history.
            interval = self.plan.policy.escalation_interval
            factor = 2 ** min(self.reminders, 4)
            interval = interval.model_copy(update={"amount": interval.amount * factor})
            self.escalation_due = self.calendar.next_working_moment(clocks.after(self.calendar, _now(), interval))

    async def escalate(self, clock: Clock) -> None:
        assert self.plan is not None
        ladder = self.state.ladder
        level = min(self.state.escalation_level + 1, len(ladder))
        reminder = level == self.state.escalation_level
        first = self.state.escalation_level == 0
        self.state.escalation_level = level
        recipients = [ladder[level - 1]]
        if first:  # the policy's breach recipients hear of the first breach too
            recipients += [r for r in self.recipients(self.plan.policy.breach_notify) if r not in recipients]
        kind = "escalation_reminder" if reminder else "escalated"
        self.reminders = self.reminders + 1 if reminder else 0
        metrics.count("escalations_sent", level=level)
        entry = await self.record(
            kind,
            f"level {level}: {clock.name} overdue, {recipients[0].role} notified",
            level=level,
            clock=clock.name,
            recipient=recipients[0].address,
        )
        self._notify_later(
            entry.seq,
            kind,
            recipients,
            f"Overdue appeal {self.state.workflow_id}: {clock.name} was due "
            f"{_utc(clock.due_at)} (escalation level {level})",
            f"Executor: {self.state.executor.address if self.state.executor else '-'}\n\n{self.appeal.text}",
        )

    async def inform(self, seq: int, kind: str, recipients: list[Recipient], subject: str, body: str) -> None:
        """Notify for an action or a step, which never waits for delivery: an endpoint that is down
        must not hold an operator's Update, routing or the quality gate. Delivery catches up later,
        once per key. Appeals that started before this change keep waiting, as they did."""
        if workflow.patched(NOTIFY_IN_BACKGROUND):
            self._notify_later(seq, kind, recipients, subject, body)
        else:
            await self.notify(seq, kind, recipients, subject, body)

    def _notify_later(self, seq: int, kind: str, recipients: list[Recipient], subject: str, body: str) -> None:
        """Notify without holding the SLA supervisor: a slow webhook must not delay the next breach."""
        self.background.append(asyncio.create_task(self.notify(seq, kind, recipients, subject, body)))

    def recipients(self, roles: list[Role]) -> list[Recipient]:
        found: list[Recipient] = []
        for role in roles:
            recipient = self.recipient(role)
            if recipient is not None and recipient not in found:
                found.append(recipient)
        return found

    def recipient(self, role: Role) -> Recipient | None:
        ladder = self.state.ladder
        if role == Role.executor:
            return self.state.executor
        if role == Role.head:
            return ladder[0] if ladder else None
        if role == Role.tsur:
            return ladder[-1] if ladder else None
        author = self.appeal.author
        address = author.contact or author.handle or author.name
        return Recipient(role="citizen", address=address) if address else None

    # --- Recording: timeline, search attributes, storage, notifications ------------------

    async def record(self, kind: str, summary: str, /, **data: Any) -> TimelineEntry:
        self.seq += 1
        entry = TimelineEntry(seq=self.seq, at=workflow.now(), kind=kind, summary=summary, data=data)
        self.state.timeline.append(entry)
        projection = self._projection()
        self._publish_search_attributes(projection)
        workflow.logger.info(
            f"appeal event {kind}",
            extra={
                "appeal_id": self.state.workflow_id,
                "kind": kind,
                "step": self.state.step,
                "executor": self.state.executor.address if self.state.executor else None,
            },
        )
        await workflow.execute_activity_method(
            StorageActivities.record_event,
            AppealEvent(
                workflow_id=self.state.workflow_id,
                seq=entry.seq,
                kind=kind,
                at=entry.at,
                summary=summary,
                data=data,
                projection=projection,
                appeal=self.appeal if kind == "registered" else None,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORAGE_RETRY,
            summary=f"store {kind}",
        )
        return entry

    async def notify(self, seq: int, kind: str, recipients: list[Recipient], subject: str, body: str) -> None:
        sends = [
            workflow.execute_activity_method(
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
                summary=f"notify {recipient.role.replace('_', ' ')}",
            )
            for recipient in recipients
        ]
        for recipient, outcome in zip(recipients, await asyncio.gather(*sends, return_exceptions=True), strict=True):
            if isinstance(outcome, ActivityError):
                # A lost notification must be visible, not fatal: the clocks go on.
                await self.record(
                    "notification_failed",
                    f"{kind} to the {recipient.role.replace('_', ' ')} failed: {outcome.cause or outcome}",
                    recipient=recipient.address,
                    notification_seq=seq,
                )
            elif isinstance(outcome, BaseException):
                raise outcome

    def _projection(self) -> Projection:
        ack = self.state.clock(ACKNOWLEDGE)
        answer = next((c for c in reversed(self.state.clocks) if c.name in ANSWER_CLOCKS), None)
        return Projection(
            status=self.state.status,
            executor=self.state.executor.address if self.state.executor else None,
            ack_deadline=ack.due_at if ack else None,
            answer_deadline=answer.due_at if answer else None,
            acknowledged_at=self.acknowledged_at,
            answered_at=self.answered_at,
            closed_at=self.closed_at,
            escalation_level=self.state.escalation_level,
            sla_breached=self.state.sla_breached,
            policy=self.state.policy,
            policy_version=self.state.policy_version,
            cycle=self.state.cycle,
            paused=self.paused_since is not None,
            clocks=self.state.clocks,
            category=self.appeal.category,
            municipality=self.appeal.municipality,
            formal_rejections=self.state.formal_rejections,
            redirects=len(self.state.redirects),
            incident_id=self.state.incident_id,
            duplicate_of=self.state.duplicate_of,
        )

    def _publish_search_attributes(self, p: Projection) -> None:
        """Upsert the attributes whose value changed since the last upsert."""
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
            (sa.INCIDENT_ID, p.incident_id),
        ]
        updates: list[SearchAttributeUpdate[Any]] = []
        for key, value in wanted:
            if value is not None and self._published.get(key.name) != value:
                updates.append(key.value_set(value))
                self._published[key.name] = value
        if updates:
            workflow.upsert_search_attributes(updates)

    # --- Officials and operators act through validated Updates ---------------------------

    @workflow.update
    async def acknowledge(self, action: Acknowledge) -> ActionReceipt:
        self._acknowledge(action.by)
        await self.record(
            "acknowledged",
            f"acknowledged by {action.by}",
            by=action.by,
            on_time=self._stopped_on_time(ACKNOWLEDGE),
        )
        return self._receipt(ACKNOWLEDGE)

    @acknowledge.validator
    def _check_acknowledge(self, action: Acknowledge) -> None:
        self._refuse_if_closed(ACKNOWLEDGE)
        if self.acknowledged_at is not None:
            raise ValueError(
                f"already acknowledged by {self.state.acknowledged_by} "
                f"at {self.acknowledged_at.isoformat()}; acknowledge only once"
            )

    @workflow.update
    async def interim_answer(self, action: InterimAnswer) -> ActionReceipt:
        assert self.plan is not None and self.calendar is not None
        assert self.plan.policy.final_after_interim is not None
        self._acknowledge(action.by)
        now = _now()
        answer = self._stop(ANSWER_CLOCKS)
        final = clocks.start_clock(
            self.calendar,
            FINAL,
            now,
            self.plan.policy.final_after_interim,
            self.plan.policy.thresholds,
            cycle=self.state.cycle,
        )
        self._add_clock(final)
        self.revision += 1
        entry = await self.record(
            "interim_answered",
            f"interim answer by {action.by}; final answer due {_utc(final.due_at)}",
            by=action.by,
            on_time=answer,
            final_due=final.due_at.isoformat(),
        )
        await self.inform(
            entry.seq, "interim_answer", self.recipients([Role.citizen]), "Промежуточный ответ", action.text
        )
        return self._receipt("interim_answer")

    @interim_answer.validator
    def _check_interim(self, action: InterimAnswer) -> None:
        self._refuse_if_closed("interim_answer")
        policy = self._policy()
        if policy.final_after_interim is None:
            raise ValueError(
                f"policy {policy.name} has no interim answers: answer on substance, "
                "or declare an honest deadline (declare_white_spot)"
            )
        if not self.running(ANSWER):
            raise ValueError("an interim answer is given once, while the first answer is due")

    @workflow.update
    async def answer(self, action: SubmitAnswer) -> ActionReceipt:
        await self.take_answer(action)
        return self._receipt(ANSWER)

    async def take_answer(self, action: SubmitAnswer) -> None:
        """The answer stops the answer clocks; the lifecycle then puts it through the quality gate."""
        self._acknowledge(action.by)
        self.answered_at = _now()
        self.state.answer = action
        commitment = self.state.clock(COMMITMENT)
        keeps = commitment is not None and commitment.running
        on_time = self._stop(ANSWER_CLOCKS)
        data: dict[str, Any] = {
            "by": action.by,
            "kind": action.kind.value,
            "on_time": on_time,
            "attachments": len(action.attachments),
        }
        if action.responsible:
            data["responsible"] = action.responsible
        if keeps:
            data["commitment_kept"] = on_time
        entry = await self.record("answered", f"answered by {action.by} ({action.kind.value})", **data)
        # Now the quality gate may take it (the `answered` check above already refuses a second one).
        self.submitted, self.submitted_seq = action, entry.seq

    @answer.validator
    def _check_answer(self, action: SubmitAnswer) -> None:
        self._refuse_if_closed(ANSWER)
        if self.submitted is not None:
            raise ValueError("an answer is already with the moderator; wait for the verdict")
        if self.answered_at is not None:
            raise ValueError(
                f"already answered by {self.state.answer.by if self.state.answer else '?'} "
                f"at {self.answered_at.isoformat()}"
            )
        if not action.text.strip():
            raise ValueError("the answer is empty: write what was done and when")

    @workflow.update
    async def declare_white_spot(self, action: DeclareWhiteSpot) -> ActionReceipt:
        assert self.plan is not None and self.calendar is not None
        self._acknowledge(action.by)
        on_time = self._stop((ANSWER, FINAL))
        self._commit(action.committed_date, action.reason, by=action.by)
        entry = await self.record(
            "white_spot_declared",
            f"honest deadline by {action.by}: solved by {action.committed_date} — {action.reason}",
            by=action.by,
            reason=action.reason,
            committed_date=action.committed_date.isoformat(),
            on_time=on_time,
        )
        await self.inform(
            entry.seq,
            "white_spot",
            self.recipients([Role.citizen]),
            "Промежуточный ответ: срок решения",
            f"Решить вопрос в установленный срок невозможно: {action.reason}\n"
            f"Вопрос будет решён до {action.committed_date:%d.%m.%Y}.",
        )
        return self._receipt("declare_white_spot")

    @declare_white_spot.validator
    def _check_white_spot(self, action: DeclareWhiteSpot) -> None:
        self._refuse_if_closed("declare_white_spot")
        if self.answered_at is not None:
            raise ValueError("the appeal is already answered")
        current = self.state.clock(COMMITMENT)
        if current is not None and current.running:
            raise ValueError("a commitment is already declared: move it with move_commitment")
        self._check_committed_date(action.committed_date)

    @workflow.update
    async def move_commitment(self, action: MoveCommitment) -> ActionReceipt:
        assert self.calendar is not None and self.state.commitment is not None
        clock = self.state.clock(COMMITMENT)
        assert clock is not None
        old = self.state.commitment.committed_date
        clock.fixed_due = self._end_of(action.new_date)
        clock.breached_at = None  # a missed commitment stays in the timeline; the new one is watched
        clock.marks[0].sent_at = None
        clock.marks[0].at = max(workflow.now(), self._reminder(action.new_date))
        clocks.reschedule(self.calendar, clock)
        self.state.commitment.committed_date = action.new_date
        self.state.commitment.moves.append(
            {
                "from": old.isoformat(),
                "to": action.new_date.isoformat(),
                "reason": action.reason,
                "by": action.by,
            }
        )
        self.revision += 1
        moves = len(self.state.commitment.moves)
        entry = await self.record(
            "commitment_moved",
            f"commitment moved from {old} to {action.new_date} (move {moves}): {action.reason}",
            by=action.by,
            previous=old.isoformat(),
            committed_date=action.new_date.isoformat(),
            reason=action.reason,
            move=moves,
        )
        await self.inform(
            entry.seq,
            "commitment_moved",
            self.recipients([Role.citizen, Role.head]),
            "Срок решения перенесён",
            f"Новый срок: {action.new_date:%d.%m.%Y}. Причина: {action.reason}",
        )
        return self._receipt("move_commitment")

    @move_commitment.validator
    def _check_move(self, action: MoveCommitment) -> None:
        self._refuse_if_closed("move_commitment")
        clock = self.state.clock(COMMITMENT)
        if clock is None or not clock.running or self.state.commitment is None:
            raise ValueError("there is no commitment to move: declare_white_spot first")
        limit = self._policy().commitment.max_moves
        if len(self.state.commitment.moves) >= limit:
            raise ValueError(
                f"the commitment was already moved {len(self.state.commitment.moves)} times; "
                f"policy {self._policy().name} allows {limit}"
            )
        if action.new_date == self.state.commitment.committed_date:
            raise ValueError(f"the commitment is already {action.new_date}")
        self._check_committed_date(action.new_date)

    @workflow.update
    async def extend(self, action: Extend) -> ActionReceipt:
        assert self.calendar is not None
        clock = self.state.clock(ANSWER)
        assert clock is not None
        before = clock.due_at
        clock.allowed += timedelta(days=action.days)
        clocks.reschedule(self.calendar, clock)
        self.state.extended_until = clock.due_at
        self.state.extension = timedelta(days=action.days)
        self.revision += 1
        entry = await self.record(
            "extended",
            f"answer deadline extended by {action.days} days to {_utc(clock.due_at)}: {action.reason}",
            by=action.by,
            days=action.days,
            previous_due=before.isoformat(),
            due_at=clock.due_at.isoformat(),
            reason=action.reason,
        )
        await self.inform(
            entry.seq,
            "extension",
            self.recipients([Role.citizen]),
            "Срок рассмотрения обращения продлён",
            f"Срок продлён на {action.days} дн. Причина: {action.reason}",
        )
        return self._receipt("extend")

    @extend.validator
    def _check_extend(self, action: Extend) -> None:
        self._refuse_if_closed("extend")
        policy = self._policy()
        if policy.max_extension is None:
            raise ValueError(f"policy {policy.name} allows no extension (only 59-ФЗ appeals may be extended)")
        if self.state.extended_until is not None:
            raise ValueError(
                f"the answer deadline was already extended to {self.state.extended_until.isoformat()}; "
                "59-ФЗ allows one extension"
            )
        limit = policy.max_extension
        if limit.kind != Kind.calendar or limit.scale != "day" or action.days > limit.amount:
            raise ValueError(f"days: an extension may be at most {limit}, not {action.days} days")
        clock = self.state.clock(ANSWER)
        if clock is None or not clock.running or clock.kind != Kind.calendar:
            raise ValueError("only a running calendar-time answer deadline can be extended")

    @workflow.update
    async def pause(self, action: PauseClocks) -> ActionReceipt:
        now = _now()
        self.paused_since = now
        for clock in self.running():
            clocks.pause(clock, now, action.reason)
        self.state.status = AppealStatus.waiting_for_citizen
        self.revision += 1
        await self.record(
            "paused", f"clocks paused by {action.by}: {action.reason}", by=action.by, reason=action.reason
        )
        return self._receipt("pause")

    @pause.validator
    def _check_pause(self, action: PauseClocks) -> None:
        self._refuse_if_closed("pause")
        if self.paused_since is not None:
            raise ValueError(f"the clocks are already paused since {self.paused_since.isoformat()}")
        if not self.running():
            raise ValueError("no clock is running")

    @workflow.update
    async def resume(self, action: ResumeClocks) -> ActionReceipt:
        await self._resume_clocks(action.by)
        return self._receipt("resume")

    async def _resume_clocks(self, by: str, **data: Any) -> None:
        moved = self._unpause()
        self.state.status = self._working_status()
        await self.record("resumed", f"clocks resumed by {by}", by=by, moved=moved, **data)

    @resume.validator
    def _check_resume(self, action: ResumeClocks) -> None:
        self._refuse_if_closed("resume")
        if self.paused_since is None:
            raise ValueError("the clocks are not paused")

    @workflow.update
    async def refute(self, action: Refute) -> ActionReceipt:
        assert self.plan is not None and self.calendar is not None
        now = _now()
        self.state.cycle += 1
        self.satisfied = False
        self.end_reason = None
        self.answered_at = None
        self.submitted = None
        self.state.answer = None
        policy = self.plan.policy
        self._add_clock(
            clocks.start_clock(self.calendar, ANSWER, now, policy.answer, policy.thresholds, cycle=self.state.cycle)
        )
        self.state.status = AppealStatus.in_progress
        self.revision += 1
        entry = await self.record(
            "reopened",
            f"refuted by {action.by}: {action.reason}; answer cycle {self.state.cycle} due {_utc(self.due(ANSWER))}",
            by=action.by,
            reason=action.reason,
            cycle=self.state.cycle,
            answer_due=self.due(ANSWER).isoformat(),
        )
        assert self.state.executor is not None
        await self.inform(
            entry.seq,
            "reopened",
            [self.state.executor],
            f"Appeal {self.state.workflow_id} reopened: the citizen refuted the answer",
            action.reason,
        )
        return self._receipt("refute")

    @refute.validator
    def _check_refute(self, action: Refute) -> None:
        self._refuse_if_closed("refute")
        if self.state.status != AppealStatus.answered:
            raise ValueError("there is no published answer to refute")

    @workflow.update
    async def rate(self, action: Rate) -> ActionReceipt:
        self.state.rating = action.score
        self.satisfied = action.satisfied
        if action.satisfied:
            self.end_reason = f"the citizen is satisfied ({action.score}/5)"
        await self.record(
            "rated", f"rated {action.score}/5 by {action.by}", by=action.by, score=action.score, comment=action.comment
        )
        return self._receipt("rate")

    @rate.validator
    def _check_rate(self, action: Rate) -> None:
        self._refuse_if_closed("rate")
        if self.state.status != AppealStatus.answered:
            raise ValueError("there is no published answer to rate")

    @workflow.update
    async def repin_policy(self, action: RepinPolicy) -> ActionReceipt:
        old_version = self.state.policy_version
        self.pin(await self.fetch_plan())
        assert self.plan is not None and self.calendar is not None
        policy = self.plan.policy
        durations: dict[str, Duration | None] = {
            ACKNOWLEDGE: policy.acknowledge,
            ANSWER: policy.answer,
            FINAL: policy.final_after_interim,
        }
        moved: dict[str, str] = {}
        for clock in self.running():
            duration = durations.get(clock.name)
            if duration is None:
                continue  # a commitment keeps its date
            clock.kind, clock.allowed = clocks.allowance(self.calendar, clock.started_at, duration)
            if clock.name == ANSWER and clock.cycle == 1:
                clock.allowed += self.state.extension  # keep the 59-ФЗ extension
            clocks.reschedule(self.calendar, clock)  # paused time is kept on the clock
            moved[clock.name] = _utc(clock.due_at)
        self.revision += 1
        await self.record(
            "policy_repinned",
            f"re-pinned by {action.by} to policy {policy.name} ({self.plan.policy_version})",
            by=action.by,
            previous_version=old_version,
            policy=policy.name,
            policy_version=self.plan.policy_version,
            due=moved,
        )
        return self._receipt("repin_policy")

    @repin_policy.validator
    def _check_repin(self, action: RepinPolicy) -> None:
        self._refuse_if_closed("repin_policy")
        if self.plan is None:
            raise ValueError("the appeal is not routed yet")

    @workflow.update
    def moderate(self, action: Moderate) -> ActionReceipt:
        self.verdict = action
        return self._receipt("moderate")

    @moderate.validator
    def _check_moderate(self, action: Moderate) -> None:
        self._refuse_if_closed("moderate")
        if not self.awaiting_verdict or self.verdict is not None:
            raise ValueError("there is no answer waiting for moderation")

    @workflow.update
    async def reclassify(self, action: Reclassify) -> ActionReceipt:
        changes = {k: v for k, v in (("category", action.category), ("municipality", action.municipality)) if v}
        self.appeal = self.appeal.model_copy(update=changes)
        self.state.appeal = self.appeal
        plan = await self.fetch_plan()
        assert self.plan is not None
        self.plan = self.plan.model_copy(update={"route": plan.route})  # the SLA policy stays pinned
        before = self.state.executor
        if self.state.redirects and self.state.executor is not None:
            plan.route.executor = self.state.executor  # a redirect made meanwhile stands
        self.state.executor, self.state.ladder = plan.route.executor, plan.route.ladder
        entry = await self.record(
            "reclassified",
            f"{', '.join(f'{k}={v}' for k, v in changes.items())} by {action.by}: "
            f"routed to {plan.route.executor.address}",
            by=action.by,
            previous_executor=before.address if before else None,
            executor=plan.route.executor.address,
            **changes,
        )
        if before != plan.route.executor:
            await self.inform(
                entry.seq,
                "assigned",
                [plan.route.executor],
                f"Appeal {self.state.workflow_id} was re-routed to you",
                self.appeal.text,
            )
        return self._receipt("reclassify")

    @reclassify.validator
    def _check_reclassify(self, action: Reclassify) -> None:
        self._refuse_if_closed("reclassify")
        self._policy()

    @workflow.update
    async def redirect(self, action: Redirect) -> ActionReceipt:
        before = self.state.executor
        self.state.executor = action.to
        self.state.redirects.append(
            {"from": before.address if before else "", "to": action.to.address, "reason": action.reason}
        )
        self._stop((REDIRECT,))
        entry = await self.record(
            "redirected",
            f"redirected by {action.by} from {before.address if before else '-'} to {action.to.address}: "
            f"{action.reason}",
            by=action.by,
            previous_executor=before.address if before else None,
            executor=action.to.address,
            reason=action.reason,
        )
        await self.inform(
            entry.seq,
            "redirected",
            [action.to, *self.recipients([Role.citizen])],
            "Обращение переадресовано",
            f"Ваше обращение передано: {action.to.address}. Причина: {action.reason}",
        )
        return self._receipt("redirect")

    @redirect.validator
    def _check_redirect(self, action: Redirect) -> None:
        self._refuse_if_closed("redirect")
        if self.answered_at is not None:
            raise ValueError("the appeal is already answered; it cannot be redirected now")
        if self.state.executor is not None and action.to.address == self.state.executor.address:
            raise ValueError(f"to: {action.to.address} already handles this appeal")
        window = self.state.clock(REDIRECT)
        if window is not None and window.stopped_at is None and workflow.now() > window.due_at:
            raise ValueError(
                f"the redirect period ended at {window.due_at.isoformat()} (policy "
                f"{self._policy().name}); answer on substance, naming who is responsible"
            )

    @workflow.update
    async def ask_citizen(self, action: AskCitizen) -> ActionReceipt:
        assert self.plan is not None and self.calendar is not None
        now = _now()
        self.paused_since = now
        for clock in self.running():
            clocks.pause(clock, now, f"question to the citizen: {action.question}")
        waiting = clocks.start_clock(
            self.calendar, CLARIFICATION, now, self.plan.policy.clarification_timeout, [], cycle=self.state.cycle
        )
        self._add_clock(waiting)
        self.state.status = AppealStatus.waiting_for_citizen
        self.revision += 1
        entry = await self.record(
            "question_asked",
            f"{action.by} asked the citizen; clocks paused until the reply (or {_utc(waiting.due_at)})",
            by=action.by,
            question=action.question,
            reply_due=waiting.due_at.isoformat(),
        )
        await self.inform(
            entry.seq, "question", self.recipients([Role.citizen]), "Уточнение по обращению", action.question
        )
        return self._receipt("ask_citizen")

    @ask_citizen.validator
    def _check_ask(self, action: AskCitizen) -> None:
        self._check_pause(PauseClocks(by=action.by, reason=action.question))

    # --- Signals: fire-and-forget, so each is validated here and a refusal is recorded ---------
    # They take the raw payload: one that does not decode or fit the model is refused in the
    # timeline, where an operator sees it, instead of being dropped by the SDK with a log line
    # (which would also carry the input, personal data, into the worker's log).

    async def refuse_signal(self, name: str, reason: str) -> None:
        await self.record("signal_refused", f"signal {name} refused: {reason}", signal=name, reason=reason)

    async def accept_signal(self, name: str, model: type[Any], raw: RawValue) -> Any:
        """The signal's model, or None once the refusal is recorded."""
        try:
            return workflow.payload_converter().from_payload(raw.payload, model)
        except ValidationError as err:
            await self.refuse_signal(name, _problems(err))
        except (UndecodablePayload, ValueError, RuntimeError) as err:
            await self.refuse_signal(name, f"cannot be read ({type(err).__name__})")
        return None

    @workflow.signal(dynamic=True)
    async def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """A signal this workflow does not have: recorded, never silently buffered."""
        await self.refuse_signal(name[:100], "this appeal has no such signal")

    @workflow.signal
    async def citizen_replied(self, raw: RawValue) -> None:
        """From the intake side: the citizen answered the question; the clocks run again."""
        reply: CitizenReply | None = await self.accept_signal("citizen_replied", CitizenReply, raw)
        if reply is None:
            return
        waiting = self.state.clock(CLARIFICATION)
        if waiting is None or not waiting.running or self.calendar is None or self.ended:
            await self.record("citizen_message", "a message from the citizen", text=reply.text)
            return
        await self._resume_clocks("the citizen", text=reply.text)

    @workflow.update
    async def mark_not_appeal(self, action: MarkNotAppeal) -> ActionReceipt:
        self.end(AppealStatus.closed_not_appeal, f"not an appeal ({action.by}): {action.reason}")
        return self._receipt("mark_not_appeal")

    @mark_not_appeal.validator
    def _check_not_appeal(self, action: MarkNotAppeal) -> None:
        self._refuse_if_closed("mark_not_appeal")

    @workflow.update
    async def mark_duplicate(self, action: MarkDuplicate) -> ActionReceipt:
        if workflow.patched(DUPLICATE_CHECKED):
            # A typo must not close an appeal: the original has to be a registered appeal.
            exists = await workflow.execute_activity_method(
                StorageActivities.appeal_exists,
                action.original,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=STORAGE_RETRY,
                summary="does the original appeal exist",
            )
            if not exists:
                raise ApplicationError(
                    f"original: {action.original} is not a registered appeal; check the id",
                    type="UnknownOriginal",
                    non_retryable=True,
                )
            self._refuse_if_closed("mark_duplicate")  # it may have closed while we looked
        self.state.duplicate_of = action.original
        self.end(AppealStatus.closed_duplicate, f"a duplicate of {action.original} ({action.by})")
        return self._receipt("mark_duplicate")

    @mark_duplicate.validator
    def _check_duplicate(self, action: MarkDuplicate) -> None:
        self._refuse_if_closed("mark_duplicate")
        if action.original == self.state.workflow_id:
            raise ValueError("original: an appeal cannot duplicate itself")

    @workflow.signal(name="resubmitted")
    async def resubmitted(self, raw: RawValue) -> None:
        """The intake sent this appeal again with different content: kept for an operator, never
        dropped and never applied on its own (the official works from what was registered)."""
        again: AppealInput | None = await self.accept_signal("resubmitted", AppealInput, raw)
        if again is None:
            return
        if again.workflow_id != self.state.workflow_id:
            await self.refuse_signal("resubmitted", f"it is {again.workflow_id}, not this appeal")
            return
        before, after = self.appeal.model_dump(mode="json"), again.model_dump(mode="json")
        changed = sorted(k for k in after if before.get(k) != after[k])
        if not changed:
            return
        await self.record(
            "resubmitted",
            f"sent again with changes to {', '.join(changed)}: for an operator to review",
            changed=changed,
            content={k: after[k] for k in changed},
        )

    @workflow.signal
    async def join_incident(self, raw: RawValue) -> None:
        """Linked to a systemic incident: its commitment becomes this appeal's answer deadline."""
        join: JoinIncident | None = await self.accept_signal("join_incident", JoinIncident, raw)
        if join is not None:
            await self.joined(join)

    async def joined(self, join: JoinIncident) -> None:
        if self.ended or self.closed_at is not None:
            return
        if self.calendar is None:  # not routed yet: joined right after routing
            self.pending_join = join
            return
        problem = self._commitment_problem(join.committed_date) if join.committed_date is not None else None
        if problem is not None:
            await self.refuse_signal("join_incident", f"incident {join.incident_id}: {problem}")
            return
        first = self.state.incident_id is None
        self.state.incident_id = join.incident_id
        if join.committed_date is not None and self.answered_at is None and self.state.commitment is None:
            self._stop((ANSWER, FINAL, REWORK))
            self._commit(join.committed_date, join.reason or join.title, by=f"incident {join.incident_id}")
        self.revision += 1
        if first or join.committed_date is not None:
            await self.record(
                "linked_to_incident",
                f"linked to incident {join.incident_id}: {join.title}",
                incident_id=join.incident_id,
                committed_date=join.committed_date.isoformat() if join.committed_date else None,
            )

    @workflow.signal
    async def incident_answered(self, raw: RawValue) -> None:
        """The incident's one answer, taken as this appeal's own; moderated and published here."""
        answered: IncidentAnswered | None = await self.accept_signal("incident_answered", IncidentAnswered, raw)
        if answered is not None:
            await self.incident_answer(answered)

    async def incident_answer(self, answered: IncidentAnswered) -> None:
        if self.closed_at is not None:
            return
        if self.calendar is None:  # not routed yet: taken right after routing
            self.pending_answer = answered
            return
        if self.ended or self.submitted is not None or self.answered_at is not None:
            await self.record("incident_answer_skipped", f"incident {answered.incident_id} answered; already handled")
            return
        reply = answered.answer
        try:
            answer = SubmitAnswer(by=reply.by, text=reply.text, attachments=reply.attachments)
        except ValidationError as err:
            await self.refuse_signal("incident_answered", _problems(err))
            return
        await self.take_answer(answer)

    # --- Helpers for the handlers -------------------------------------------------------

    def _add_clock(self, clock: Clock) -> Clock:
        clock.number = len(self.state.clocks)
        self.state.clocks.append(clock)
        return clock

    def _commit(self, day: date, reason: str, *, by: str) -> None:
        """A commitment clock due at the end of `day`, with its reminder."""
        assert self.calendar is not None
        commitment = clocks.start_commitment(
            self.calendar, _now(), self._end_of(day), self._reminder(day), cycle=self.state.cycle
        )
        self._add_clock(commitment)
        self.state.commitment = Commitment(reason=reason, committed_date=day, declared_by=by)
        self.revision += 1

    def _unpause(self) -> dict[str, str]:
        """End a wait for the citizen: the clarification clock stops, and every paused clock runs
        again, its deadline moved by exactly the paused working time. Returns what moved."""
        assert self.calendar is not None
        now = _now()
        moved: dict[str, str] = {}
        waiting = self.state.clock(CLARIFICATION)
        if waiting is not None and waiting.running:
            clocks.stop(waiting, now)
        if self.paused_since is not None:
            for clock in self.running():
                if clock.paused_since is not None:
                    counted = clocks.resume(self.calendar, clock, now)
                    moved[clock.name] = f"+{counted} → {_utc(clock.due_at)}"
            if self.escalation_due is not None:
                self.escalation_due = max(self.escalation_due + (now - self.paused_since), now)
            self.paused_since = None
        self.revision += 1
        return moved

    def _acknowledge(self, by: str) -> None:
        """The first reaction: an explicit acknowledgment, or any answer before it."""
        self._unpause()  # an answer also ends a wait for the citizen
        if self.acknowledged_at is not None:
            return
        self.acknowledged_at = _now()
        self.state.acknowledged_by = by
        self._stop((ACKNOWLEDGE, REDIRECT))
        metrics.count("appeals_acknowledged", within_sla=self._stopped_on_time(ACKNOWLEDGE))
        self.state.status = self._working_status()
        self.revision += 1

    def _stop(self, names: tuple[str, ...]) -> bool:
        """Stop the running clocks of these names; True if all were within their deadline."""
        now = _now()
        on_time = True
        for clock in self.running(*names):
            clocks.stop(clock, now)
            on_time = on_time and clock.breached_at is None and now <= clock.due_at
        if self.paused_since is not None and not self.running():
            self.paused_since = None
        self.revision += 1
        return on_time

    def _stopped_on_time(self, name: str) -> bool:
        clock = self.state.clock(name)
        return clock is not None and clock.breached_at is None

    def _working_status(self) -> AppealStatus:
        if self.paused_since is not None:
            return AppealStatus.waiting_for_citizen
        if self.submitted is not None:
            return AppealStatus.in_moderation
        if self.answered_at is not None:
            return AppealStatus.answered
        rework = self.state.clock(REWORK)
        if rework is not None and rework.running:
            return AppealStatus.rework
        if self.acknowledged_at is not None:
            return AppealStatus.in_progress
        return AppealStatus.awaiting_acknowledgment

    def _policy(self) -> SlaPolicy:
        if self.plan is None:
            raise ValueError("the appeal is not routed yet; try again in a moment")
        return self.plan.policy

    def _end_of(self, day: date) -> datetime:
        """Midnight at the end of `day` in the appeal's time zone: "by that date"."""
        assert self.calendar is not None
        return datetime.combine(day + timedelta(days=1), time(0), self.calendar.zone).astimezone(UTC)

    def _reminder(self, day: date) -> datetime:
        assert self.calendar is not None
        before = self._policy().commitment.remind_before
        days = before.whole_working_days
        if days is not None:
            return clocks.working_days_before(self.calendar, day, days)
        return self._end_of(day) - before.length

    def _check_committed_date(self, day: date) -> None:
        problem = self._commitment_problem(day)
        if problem is not None:
            raise ValueError(f"committed_date: {problem}")

    def _commitment_problem(self, day: date) -> str | None:
        """Why `day` cannot be a commitment: past, beyond the policy's horizon, or beyond the
        production calendar this appeal pinned (never computed inside the workflow)."""
        assert self.calendar is not None
        today = self.calendar.local_date(workflow.now())
        if day <= today:
            return f"{day} is not in the future (today is {today})"
        horizon = self._policy().commitment.max_horizon_days
        if day > today + timedelta(days=horizon):
            return f"{day} is more than {horizon} days ahead"
        if not self.calendar.covers(day) or not self.calendar.covers(day + timedelta(days=1)):
            return f"{day} is beyond the production calendar years pinned for this appeal"
        return None

    def _refuse_if_closed(self, action: str) -> None:
        if self.plan is None:
            raise ValueError(f"the appeal {self.state.workflow_id} is not routed yet; try '{action}' again in a moment")
        if self.closed_at is not None:
            raise ValueError(
                f"the appeal {self.state.workflow_id} was closed at "
                f"{self.closed_at.isoformat()}; a closed appeal cannot take '{action}'"
            )
        if self.ended_as is not None:
            raise ValueError(
                f"the appeal {self.state.workflow_id} is closing as {self.ended_as}; '{action}' is too late"
            )

    def _receipt(self, action: str) -> ActionReceipt:
        return ActionReceipt(
            workflow_id=self.state.workflow_id,
            action=action,
            accepted_at=workflow.now(),
            status=self.state.status,
        )

    # --- Queries -------------------------------------------------------------------------

    @workflow.query
    def get_state(self) -> AppealState:
        return self.state

    @workflow.query
    def get_timeline(self) -> list[TimelineEntry]:
        return self.state.timeline

    @workflow.query
    def get_sla(self) -> list[ClockView]:
        """Each clock with its start, pauses, warnings, breach, stop and the time left."""
        if self.calendar is None:
            return []
        now = _now()
        return [ClockView(clock=c, remaining=clocks.remaining(self.calendar, c, now)) for c in self.state.clocks]
