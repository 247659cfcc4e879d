"""Honest deadlines: a legal gap («белое пятно») declared with a reason and a real date, moved
at most the policy's number of times; and the one 59-ФЗ extension of the answer deadline."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals import clocks
    from appeals.durations import Kind
    from appeals.models import ActionReceipt, DeclareWhiteSpot, Extend, MoveCommitment
    from appeals.sla import Role
    from appeals.vocabulary import Action, ClockName, EventKind, NoticeKind
    from workflows.appeal import texts
    from workflows.appeal.core import AppealCore, ClockRule, utc


class Commitments(AppealCore):
    RULES: ClassVar[dict[str, ClockRule]] = {ClockName.commitment: ClockRule(answers=True)}

    def check_committed_date(self, day: date) -> None:
        problem = self.commitment_problem(day)
        if problem is not None:
            raise ValueError(f"committed_date: {problem}")

    @workflow.update
    async def declare_white_spot(self, action: DeclareWhiteSpot) -> ActionReceipt:
        self.acknowledge_by(action.by)
        on_time = self.stop((ClockName.answer, ClockName.final))
        self.commit_to(action.committed_date, action.reason, by=action.by)
        entry = self.record(
            EventKind.white_spot_declared,
            f"honest deadline by {action.by}: solved by {action.committed_date} — {action.reason}",
            by=action.by,
            reason=action.reason,
            committed_date=action.committed_date.isoformat(),
            on_time=on_time,
        )
        subject, body = texts.white_spot(action.reason, action.committed_date)
        self.notify(entry.seq, NoticeKind.white_spot, self.recipients([Role.citizen]), subject, body)
        await self.commit()
        return self.receipt(Action.declare_white_spot)

    @declare_white_spot.validator
    def _check_white_spot(self, action: DeclareWhiteSpot) -> None:
        self.refuse_if_closed(Action.declare_white_spot)
        if self.s.answered_at is not None:
            raise ValueError("the appeal is already answered")
        current = self.s.view.clock(ClockName.commitment)
        if current is not None and current.running:
            raise ValueError("a commitment is already declared: move it with move_commitment")
        self.check_committed_date(action.committed_date)

    @workflow.update
    async def move_commitment(self, action: MoveCommitment) -> ActionReceipt:
        view = self.s.view
        clock, commitment = view.clock(ClockName.commitment), view.commitment
        assert clock is not None and commitment is not None
        old = commitment.committed_date
        clock.fixed_due = self.end_of(action.new_date)
        clock.breached_at = None  # a missed commitment stays in the timeline; the new one is watched
        clock.marks[0].sent_at = None
        clock.marks[0].at = max(workflow.now(), self.reminder(action.new_date))
        clocks.reschedule(self.cal(), clock)
        commitment.committed_date = action.new_date
        commitment.moves.append(
            {"from": old.isoformat(), "to": action.new_date.isoformat(), "reason": action.reason, "by": action.by}
        )
        moves = len(commitment.moves)
        entry = self.record(
            EventKind.commitment_moved,
            f"commitment moved from {old} to {action.new_date} (move {moves}): {action.reason}",
            by=action.by,
            previous=old.isoformat(),
            committed_date=action.new_date.isoformat(),
            reason=action.reason,
            move=moves,
        )
        subject, body = texts.commitment_moved(action.new_date, action.reason)
        self.notify(entry.seq, NoticeKind.commitment_moved, self.recipients([Role.citizen, Role.head]), subject, body)
        await self.commit()
        return self.receipt(Action.move_commitment)

    @move_commitment.validator
    def _check_move(self, action: MoveCommitment) -> None:
        self.refuse_if_closed(Action.move_commitment)
        view = self.s.view
        clock = view.clock(ClockName.commitment)
        if clock is None or not clock.running or view.commitment is None:
            raise ValueError("there is no commitment to move: declare_white_spot first")
        limit = self.policy().commitment.max_moves
        if len(view.commitment.moves) >= limit:
            raise ValueError(
                f"the commitment was already moved {len(view.commitment.moves)} times; "
                f"policy {self.policy().name} allows {limit}"
            )
        if action.new_date == view.commitment.committed_date:
            raise ValueError(f"the commitment is already {action.new_date}")
        self.check_committed_date(action.new_date)

    @workflow.update
    async def extend(self, action: Extend) -> ActionReceipt:
        view = self.s.view
        clock = view.clock(ClockName.answer)
        assert clock is not None
        before = clock.due_at
        clock.allowed += timedelta(days=action.days)
        clocks.reschedule(self.cal(), clock)
        view.extended_until = clock.due_at
        view.extension = timedelta(days=action.days)
        entry = self.record(
            EventKind.extended,
            f"answer deadline extended by {action.days} days to {utc(clock.due_at)}: {action.reason}",
            by=action.by,
            days=action.days,
            previous_due=before.isoformat(),
            due_at=clock.due_at.isoformat(),
            reason=action.reason,
        )
        subject, body = texts.extension(action.days, action.reason)
        self.notify(entry.seq, NoticeKind.extension, self.recipients([Role.citizen]), subject, body)
        await self.commit()
        return self.receipt(Action.extend)

    @extend.validator
    def _check_extend(self, action: Extend) -> None:
        self.refuse_if_closed(Action.extend)
        policy, view = self.policy(), self.s.view
        if policy.max_extension is None:
            raise ValueError(f"policy {policy.name} allows no extension (only 59-ФЗ appeals may be extended)")
        if view.extended_until is not None:
            raise ValueError(
                f"the answer deadline was already extended to {view.extended_until.isoformat()}; "
                "59-ФЗ allows one extension"
            )
        limit = policy.max_extension
        if limit.kind != Kind.calendar or limit.scale != "day" or action.days > limit.amount:
            raise ValueError(f"days: an extension may be at most {limit}, not {action.days} days")
        clock = view.clock(ClockName.answer)
        if clock is None or not clock.running or clock.kind != Kind.calendar:
            raise ValueError("only a running calendar-time answer deadline can be extended")
