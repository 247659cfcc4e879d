"""What the intake side may send besides an appeal: the same appeal again with other content,
and anything else, which is refused in the timeline rather than buffered and forgotten."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from appeals.models import AppealInput, changed_fields
    from appeals.vocabulary import EventKind
    from workflows.appeal.core import AppealCore


class Resubmissions(AppealCore):
    @workflow.signal(name="resubmitted")
    async def resubmitted(self, raw: RawValue) -> None:
        """The intake sent this appeal again with different content: kept for an operator, never
        dropped and never applied on its own (the official works from what was registered)."""
        again: AppealInput | None = await self.accept_signal("resubmitted", AppealInput, raw)
        if again is None:
            return
        if again.workflow_id != self.s.view.workflow_id:
            await self.refuse_signal("resubmitted", f"it is {again.workflow_id}, not this appeal")
            return
        changed = changed_fields(self.s.appeal, again)
        if not changed:
            return
        after = again.model_dump(mode="json")
        self.record(
            EventKind.resubmitted,
            f"sent again with changes to {', '.join(changed)}: for an operator to review",
            changed=sorted(changed),
            content={k: after[k] for k in sorted({c.split(".")[0] for c in changed})},
        )
        await self.commit()

    @workflow.signal(dynamic=True)
    async def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """A signal this workflow does not have: recorded, never silently buffered."""
        await self.refuse_signal(name[:100], "this appeal has no such signal")
