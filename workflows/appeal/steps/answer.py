"""The answer on substance: it stops the answer clocks and waits for the quality gate."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals.models import ActionReceipt, SubmitAnswer
    from appeals.vocabulary import Action, ClockName, EventKind
    from workflows.appeal.core import AppealCore


class Answering(AppealCore):
    @workflow.update
    async def answer(self, action: SubmitAnswer) -> ActionReceipt:
        await self.take_answer(action)
        return self.receipt(Action.answer)

    @answer.validator
    def _check_answer(self, action: SubmitAnswer) -> None:
        self.refuse_if_closed(Action.answer)
        s = self.s
        if s.submitted is not None:
            raise ValueError("an answer is already with the moderator; wait for the verdict")
        if s.answered_at is not None:
            raise ValueError(
                f"already answered by {s.view.answer.by if s.view.answer else '?'} at {s.answered_at.isoformat()}"
            )

    async def take_answer(self, action: SubmitAnswer) -> None:
        """The answer stops the answer clocks; the lifecycle then puts it through the quality gate."""
        s = self.s
        self.acknowledge_by(action.by)
        s.answered_at = self.now()
        s.view.answer = action
        commitment = s.view.clock(ClockName.commitment)
        keeps = commitment is not None and commitment.running
        on_time = self.stop(self.answer_clocks)
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
        entry = self.record(EventKind.answered, f"answered by {action.by} ({action.kind.value})", **data)
        await self.commit()
        # Now the quality gate may take it (the `answered` check above already refuses a second one).
        s.submitted, s.submitted_seq = action, entry.seq
