"""The shared core every step uses: the state, the journal, the clocks and a few checks.

Steps depend on this core and never on each other. A clock's behaviour is data (`ClockRule`,
declared by the step that owns the clock); nothing here checks a clock by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.planning import PlanningActivities
    from appeals import clocks
    from appeals.clocks import Clock
    from appeals.models import ActionReceipt, AppealStatus, Recipient
    from appeals.records import AppealPlan, PlanRequest
    from appeals.safety import UndecodablePayload
    from appeals.sla import Role, SlaPolicy
    from appeals.state import Commitment
    from appeals.vocabulary import ClockName, EventKind
    from appeals.working_calendar import WorkingCalendar
    from workflows import metrics
    from workflows.appeal.journal import Journal

# A broken policy file is fixed by an operator; the appeal waits for the fix.
PLAN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


@dataclass(frozen=True)
class ClockRule:
    """How a clock behaves, declared by the step that owns it; the supervisor reads only this."""

    escalates: bool = True  # a breach is recorded and climbs the ladder until someone acts
    answers: bool = False  # an answer clock: an answer stops it; it is the AnswerDeadline
    status: AppealStatus | None = None  # the appeal's status while this clock runs
    on_breach: Callable[[AppealCore, Clock], None] | None = None  # instead of escalating


def problems(err: ValidationError) -> str:
    """A pydantic error in one line, naming each field; never the input values (personal data)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in err.errors())


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class AppealCore(Journal):
    phases: ClassVar[tuple[str, ...]] = ()  # the step's methods that the lifecycle runs, in order
    RULES: ClassVar[dict[str, ClockRule]] = {}  # the clocks this step owns
    rules: ClassVar[dict[str, ClockRule]]  # every step's clocks, composed on the workflow class
    calendar: WorkingCalendar | None

    @property
    def answer_clocks(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset(name for name, rule in self.rules.items() if rule.answers)

    def now(self) -> datetime:
        """Workflow time to the whole second: clock arithmetic must not carry the milliseconds a
        workflow task happens to take (a deadline at 18:00:00.004 would spill into tomorrow)."""
        return workflow.now().replace(microsecond=0)

    def local(self, moment: datetime) -> str:
        """An instant in the appeal's zone, e.g. "2026-12-03 18:00 +05"."""
        if self.calendar is None:
            return utc(moment)
        at = moment.astimezone(self.calendar.zone)
        return at.strftime("%Y-%m-%d %H:%M ") + at.strftime("%z")[:3]

    # --- the plan -----------------------------------------------------------------------

    async def fetch_plan(self) -> AppealPlan:
        return await workflow.execute_local_activity_method(
            PlanningActivities.plan_appeal,
            PlanRequest(appeal=self.s.appeal, now=workflow.now()),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=PLAN_RETRY,
            summary="route, policy and calendar",
        )

    def pin(self, plan: AppealPlan) -> None:
        self.s.plan = plan
        self.calendar = WorkingCalendar.from_snapshot(plan.calendar)
        self.s.view.policy, self.s.view.policy_version = plan.policy.name, plan.policy_version

    def policy(self) -> SlaPolicy:
        if self.s.plan is None:
            raise ValueError("the appeal is not routed yet; try again in a moment")
        return self.s.plan.policy

    def cal(self) -> WorkingCalendar:
        assert self.calendar is not None, "not routed yet"
        return self.calendar

    # --- clocks ---------------------------------------------------------------------------

    def add_clock(self, clock: Clock) -> Clock:
        clock.number = len(self.s.view.clocks)
        self.s.view.clocks.append(clock)
        return clock

    def running(self, names: Iterable[str] = ()) -> list[Clock]:
        wanted = set(names)
        return [c for c in self.s.view.clocks if c.running and (not wanted or c.name in wanted)]

    def due(self, name: ClockName) -> datetime:
        clock = self.s.view.clock(name)
        assert clock is not None
        return clock.due_at

    def stop(self, names: Iterable[str]) -> bool:
        """Stop the running clocks of these names; True if all were within their deadline."""
        now, on_time = self.now(), True
        for clock in self.running(names):
            clocks.stop(clock, now)
            on_time = on_time and clock.breached_at is None and now <= clock.due_at
        if self.s.paused_since is not None and not self.running():
            self.s.paused_since = None
        return on_time

    def stopped_on_time(self, name: ClockName) -> bool:
        clock = self.s.view.clock(name)
        return clock is not None and clock.breached_at is None

    def end_of(self, day: date) -> datetime:
        """Midnight at the end of `day` in the appeal's time zone: "by that date"."""
        return datetime.combine(day + timedelta(days=1), time(0), self.cal().zone).astimezone(UTC)

    # --- commitments (an honest deadline, or an incident's) --------------------------------------

    def commit_to(self, day: date, reason: str, *, by: str) -> None:
        """A commitment clock due at the end of `day`, with its reminder."""
        commitment = clocks.start_commitment(
            self.cal(), self.now(), self.end_of(day), self.reminder(day), cycle=self.s.view.cycle
        )
        self.add_clock(commitment)
        self.s.view.commitment = Commitment(reason=reason, committed_date=day, declared_by=by)

    def reminder(self, day: date) -> datetime:
        before = self.policy().commitment.remind_before
        days = before.whole_working_days
        if days is not None:
            return clocks.working_days_before(self.cal(), day, days)
        return self.end_of(day) - before.length

    def commitment_problem(self, day: date) -> str | None:
        """Why `day` cannot be a commitment: past, beyond the policy's horizon, or beyond the
        production calendar this appeal pinned (never computed inside the workflow)."""
        cal = self.cal()
        today = cal.local_date(workflow.now())
        if day <= today:
            return f"{day} is not in the future (today is {today})"
        horizon = self.policy().commitment.max_horizon_days
        if day > today + timedelta(days=horizon):
            return f"{day} is more than {horizon} days ahead"
        if not cal.covers(day) or not cal.covers(day + timedelta(days=1)):
            return f"{day} is beyond the production calendar years pinned for this appeal"
        return None

    # --- the first reaction and the end of a wait ---------------------------------------------

    def acknowledge_by(self, by: str) -> None:
        """The first reaction: an explicit acknowledgment, or any answer before it. Any of them
        also ends a wait for the citizen."""
        self.unpause()
        if self.s.acknowledged_at is not None:
            return
        self.s.acknowledged_at = self.now()
        self.s.view.acknowledged_by = by
        self.stop((ClockName.acknowledge, ClockName.redirect))
        metrics.count("appeals_acknowledged", within_sla=self.stopped_on_time(ClockName.acknowledge))
        self.s.view.status = self.working_status()

    def unpause(self) -> dict[str, str]:
        """End a wait for the citizen: the waiting clocks stop, and every paused clock runs again,
        its deadline moved by exactly the paused working time. Returns what moved."""
        now, moved = self.now(), {}
        for clock in self.running():
            if not self.rules[clock.name].escalates and clock.paused_since is None:
                clocks.stop(clock, now)  # a clock that waited for the citizen
        if self.s.paused_since is not None:
            for clock in self.running():
                if clock.paused_since is not None:
                    counted = clocks.resume(self.cal(), clock, now)
                    moved[clock.name] = f"+{counted} → {utc(clock.due_at)}"
            if self.s.escalation_due is not None:
                self.s.escalation_due = max(self.s.escalation_due + (now - self.s.paused_since), now)
            self.s.paused_since = None
        return moved

    # --- status and closing ---------------------------------------------------------------

    def working_status(self) -> AppealStatus:
        s = self.s
        if s.paused_since is not None:
            return AppealStatus.waiting_for_citizen
        if s.submitted is not None:
            return AppealStatus.in_moderation
        if s.answered_at is not None:
            return AppealStatus.answered
        for clock in reversed(self.running()):
            status = self.rules[clock.name].status
            if status is not None:
                return status
        if s.acknowledged_at is not None:
            return AppealStatus.in_progress
        return AppealStatus.awaiting_acknowledgment

    def end(self, status: AppealStatus, reason: str) -> None:
        """Close early with a final status of its own (not an appeal, duplicate, no reply)."""
        self.s.ended_as, self.s.end_reason = status, reason
        for clock in self.running():
            clocks.stop(clock, self.now())

    def refuse_if_closed(self, action: str) -> None:
        s = self.s
        if s.plan is None:
            raise ValueError(f"the appeal {s.view.workflow_id} is not routed yet; try '{action}' again in a moment")
        if s.closed_at is not None:
            raise ValueError(
                f"the appeal {s.view.workflow_id} was closed at {s.closed_at.isoformat()}; "
                f"a closed appeal cannot take '{action}'"
            )
        if s.ended_as is not None:
            raise ValueError(f"the appeal {s.view.workflow_id} is closing as {s.ended_as}; '{action}' is too late")

    def receipt(self, action: str) -> ActionReceipt:
        return ActionReceipt(
            workflow_id=self.s.view.workflow_id,
            action=str(action),
            accepted_at=workflow.now(),
            status=self.s.view.status,
        )

    # --- signals: validated like Updates --------------------------------------------------------
    # Signals take the raw payload: one that does not decode or fit the model is refused in the
    # timeline, where an operator sees it, instead of being dropped by the SDK with a log line
    # (which would also carry the input, personal data, into the worker's log).

    async def refuse_signal(self, name: str, reason: str) -> None:
        self.record(EventKind.signal_refused, f"signal {name} refused: {reason}", signal=name, reason=reason)
        await self.commit()

    async def accept_signal(self, name: str, model: type[Any], raw: RawValue) -> Any:
        """The signal's model, or None once the refusal is recorded."""
        try:
            return workflow.payload_converter().from_payload(raw.payload, model)
        except ValidationError as err:
            await self.refuse_signal(name, problems(err))
        except (UndecodablePayload, ValueError, RuntimeError) as err:
            await self.refuse_signal(name, f"cannot be read ({type(err).__name__})")
        return None

    # --- who hears of it ------------------------------------------------------------------

    def recipients(self, roles: list[Role]) -> list[Recipient]:
        found: list[Recipient] = []
        for role in roles:
            recipient = self.recipient(role)
            if recipient is not None and recipient not in found:
                found.append(recipient)
        return found

    def recipient(self, role: Role) -> Recipient | None:
        view = self.s.view
        if role == Role.executor:
            return view.executor
        if role == Role.head:
            return view.ladder[0] if view.ladder else None
        if role == Role.tsur:
            return view.ladder[-1] if view.ladder else None
        author = self.s.appeal.author
        address = author.contact or author.handle or author.name
        return Recipient(role="citizen", address=address) if address else None
