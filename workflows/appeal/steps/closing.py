"""The end: closed when the feedback window passes or the citizen is satisfied, with a final
status of its own when it is honestly unsolvable, not an appeal, or a duplicate."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.storage import StorageActivities
    from appeals import clocks
    from appeals.models import ActionReceipt, AnswerKind, AppealStatus, MarkDuplicate, MarkNotAppeal
    from appeals.vocabulary import Action, EventKind
    from workflows.appeal.core import AppealCore
    from workflows.appeal.journal import STORAGE_RETRY, STORE_TIMEOUT


class Closing(AppealCore):
    phases = ("close",)

    async def close(self) -> None:
        s = self.s
        for clock in self.running():
            clocks.stop(clock, self.now())
        s.closed_at = workflow.now()
        final = s.ended_as
        if final is None:
            unsolvable = s.view.answer is not None and s.view.answer.kind == AnswerKind.cannot_be_solved
            final = AppealStatus.closed_unsolvable if unsolvable else AppealStatus.closed
        s.view.status = final
        why = s.end_reason or "the feedback window passed without a refutation"
        self.record(EventKind.closed, f"{final.value}: {why}", status=final.value)
        await self.commit()

    @workflow.update
    async def mark_not_appeal(self, action: MarkNotAppeal) -> ActionReceipt:
        self.end(AppealStatus.closed_not_appeal, f"not an appeal ({action.by}): {action.reason}")
        return self.receipt(Action.mark_not_appeal)

    @mark_not_appeal.validator
    def _check_not_appeal(self, action: MarkNotAppeal) -> None:
        self.refuse_if_closed(Action.mark_not_appeal)

    @workflow.update
    async def mark_duplicate(self, action: MarkDuplicate) -> ActionReceipt:
        # A typo must not close an appeal: the original has to be a registered appeal.
        exists = await workflow.execute_local_activity_method(
            StorageActivities.appeal_exists,
            action.original,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORAGE_RETRY,
            summary="does the original appeal exist",
        )
        if not exists:
            raise ApplicationError(
                f"original: {action.original} is not a registered appeal; check the id",
                type="UnknownOriginal",
                non_retryable=True,
            )
        self.refuse_if_closed(Action.mark_duplicate)  # it may have closed while we looked
        self.s.view.duplicate_of = action.original
        self.end(AppealStatus.closed_duplicate, f"a duplicate of {action.original} ({action.by})")
        return self.receipt(Action.mark_duplicate)

    @mark_duplicate.validator
    def _check_duplicate(self, action: MarkDuplicate) -> None:
        self.refuse_if_closed(Action.mark_duplicate)
        if action.original == self.s.view.workflow_id:
            raise ValueError("original: an appeal cannot duplicate itself")
