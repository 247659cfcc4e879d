"""Any other workflow type started on the appeals task queue fails at once, with a reason.

Without it the server would keep offering the task ("workflow type not registered") and the
start would sit there, retried forever and seen by nobody. The intake watch records the failure.
Deploy workers before clients when a new workflow type ships.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError


@workflow.defn(dynamic=True)
class UnknownWorkflow:
    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> None:
        info = workflow.info()
        raise ApplicationError(
            f"workflow type {info.workflow_type[:100]!r} does not run on task queue {info.task_queue!r}: "
            "start AppealWorkflow (an appeal) or IncidentWorkflow (an incident)",
            type="UnknownWorkflowType",
            non_retryable=True,
        )
