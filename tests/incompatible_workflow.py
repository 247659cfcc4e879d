"""A deliberately incompatible AppealWorkflow, to prove the replay test can fail.

It lives in its own module because the workflow sandbox re-imports the module
that defines a workflow, and a test module does file I/O at import.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals.models import AppealInput
    from appeals.state import AppealResult
    from workflows.appeal import AppealWorkflow


@workflow.defn(name="AppealWorkflow")
class AppealWorkflowWithoutRouting(AppealWorkflow):
    """An incompatible change: routing no longer records anything, with no patch."""

    @workflow.init
    def __init__(self, appeal: AppealInput | None = None, *extra: Any) -> None:
        super().__init__(appeal, *extra)

    @workflow.run
    async def run(self, appeal: AppealInput | None = None, *extra: Any) -> AppealResult:
        return await super().run(appeal, *extra)

    async def route(self) -> None:
        self.pin(await self.fetch_plan())
