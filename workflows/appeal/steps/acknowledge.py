"""The first reaction: an official acknowledges, or answers in the interim with a final date."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals import clocks
    from appeals.models import Acknowledge, ActionReceipt, InterimAnswer
    from appeals.sla import Role
    from appeals.vocabulary import Action, ClockName, EventKind, NoticeKind
    from workflows.appeal import texts
    from workflows.appeal.core import AppealCore, ClockRule, utc


class Acknowledgment(AppealCore):
    phases = ("await_acknowledgment",)
    RULES: ClassVar[dict[str, ClockRule]] = {ClockName.final: ClockRule(answers=True)}

    async def await_acknowledgment(self) -> None:
        await workflow.wait_condition(lambda: self.s.acknowledged_at is not None or self.s.ended)

    @workflow.update
    async def acknowledge(self, action: Acknowledge) -> ActionReceipt:
        self.acknowledge_by(action.by)
        self.record(
            EventKind.acknowledged,
            f"acknowledged by {action.by}",
            by=action.by,
            on_time=self.stopped_on_time(ClockName.acknowledge),
        )
        await self.commit()
        return self.receipt(Action.acknowledge)

    @acknowledge.validator
    def _check_acknowledge(self, action: Acknowledge) -> None:
        self.refuse_if_closed(Action.acknowledge)
        if self.s.acknowledged_at is not None:
            raise ValueError(
                f"already acknowledged by {self.s.view.acknowledged_by} "
                f"at {self.s.acknowledged_at.isoformat()}; acknowledge only once"
            )

    @workflow.update
    async def interim_answer(self, action: InterimAnswer) -> ActionReceipt:
        policy = self.policy()
        assert policy.final_after_interim is not None
        self.acknowledge_by(action.by)
        on_time = self.stop(self.answer_clocks)
        final = self.add_clock(
            clocks.start_clock(
                self.cal(),
                ClockName.final,
                self.now(),
                policy.final_after_interim,
                policy.thresholds,
                cycle=self.s.view.cycle,
            )
        )
        entry = self.record(
            EventKind.interim_answered,
            f"interim answer by {action.by}; final answer due {utc(final.due_at)}",
            by=action.by,
            on_time=on_time,
            final_due=final.due_at.isoformat(),
        )
        self.notify(
            entry.seq, NoticeKind.interim_answer, self.recipients([Role.citizen]), *texts.interim_answer(action.text)
        )
        await self.commit()
        return self.receipt(Action.interim_answer)

    @interim_answer.validator
    def _check_interim(self, action: InterimAnswer) -> None:
        self.refuse_if_closed(Action.interim_answer)
        policy = self.policy()
        if policy.final_after_interim is None:
            raise ValueError(
                f"policy {policy.name} has no interim answers: answer on substance, "
                "or declare an honest deadline (declare_white_spot)"
            )
        if not self.running((ClockName.answer,)):
            raise ValueError("an interim answer is given once, while the first answer is due")
