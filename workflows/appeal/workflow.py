"""AppealWorkflow: one durable workflow per citizen's appeal, composed of its steps.

The lifecycle is the list of steps below, run in order; each step module owns its Updates,
its clocks and their rules (workflows/appeal/steps/). Beside the lifecycle runs the SLA
supervisor, which holds one durable timer for the next thing any clock must do. To add a
step, write its module and add one line to STEPS (README: "Adding a step").
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from appeals import clocks
    from appeals.models import AppealInput, AppealStatus
    from appeals.safety import UndecodablePayload
    from appeals.state import AppealResult, AppealState, ClockView, TimelineEntry
    from workflows.appeal.core import AppealCore, ClockRule
    from workflows.appeal.state import RunState
    from workflows.appeal.steps.acknowledge import Acknowledgment
    from workflows.appeal.steps.answer import Answering
    from workflows.appeal.steps.closing import Closing
    from workflows.appeal.steps.commitment import Commitments
    from workflows.appeal.steps.confirm_address import AddressConfirmation
    from workflows.appeal.steps.incidents import Incidents
    from workflows.appeal.steps.intake import Intake
    from workflows.appeal.steps.pause import Pausing
    from workflows.appeal.steps.publication import Publishing
    from workflows.appeal.steps.quality_gate import QualityGate
    from workflows.appeal.steps.reassign import Reassigning
    from workflows.appeal.steps.signals import Resubmissions
    from workflows.appeal.supervisor import Supervisor


class Resolution(QualityGate, Publishing, Answering):
    """Until the citizen accepts: an answer, the quality gate, publication, the feedback window."""

    phases = ("resolve",)

    async def resolve(self) -> None:
        s = self.s
        while not s.ended:
            await workflow.wait_condition(lambda: s.submitted is not None or s.ended)
            if s.ended:
                return
            answer = s.submitted
            assert answer is not None
            if not await self.passes_moderation(answer):
                continue
            cycle = s.view.cycle
            await self.publish(answer)
            if not await self.citizen_refutes(cycle):
                return


# The lifecycle, in order. Steps with no phase of their own only add Updates and clocks.
STEPS: tuple[type[AppealCore], ...] = (
    Intake,
    Incidents,
    Acknowledgment,
    AddressConfirmation,
    Resolution,
    Commitments,
    Pausing,
    Reassigning,
    Resubmissions,
    Closing,
)


# A start whose input does not decode fails the workflow at once (visible as Failed, and recorded by
# the intake watch), instead of failing its first task again and again.
@workflow.defn(name="AppealWorkflow", failure_exception_types=[ValidationError, UndecodablePayload])
class AppealWorkflow(*STEPS, Supervisor):  # type: ignore[misc]
    rules: ClassVar[dict[str, ClockRule]] = {name: rule for step in STEPS for name, rule in step.RULES.items()}

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
        appeal = AppealInput.model_validate(appeal)
        self.s = RunState(
            appeal=appeal,
            view=AppealState(
                workflow_id=workflow.info().workflow_id, status=AppealStatus.registered, step="start", appeal=appeal
            ),
            published={pair.key.name: pair.value for pair in workflow.info().typed_search_attributes},
        )
        self.calendar = None
        self._journal_init()

    @workflow.run
    async def run(self, appeal: AppealInput | None = None, *extra: Any) -> AppealResult:
        supervisor = asyncio.create_task(self.supervise())
        for step in STEPS:
            for phase in step.phases:
                if self.s.ended and phase != "close":
                    continue
                self.s.view.step = phase
                await getattr(self, phase)()
        await supervisor
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self.s.closed_at is not None
        return AppealResult(
            workflow_id=self.s.view.workflow_id,
            status=self.s.view.status,
            sla_breached=self.s.view.sla_breached,
            escalation_level=self.s.view.escalation_level,
            closed_at=self.s.closed_at,
        )

    # --- Queries -------------------------------------------------------------------------

    @workflow.query
    def get_state(self) -> AppealState:
        return self.s.view

    @workflow.query
    def get_timeline(self) -> list[TimelineEntry]:
        return self.s.view.timeline

    @workflow.query
    def get_sla(self) -> list[ClockView]:
        """Each clock with its start, pauses, warnings, breach, stop and the time left."""
        if self.calendar is None:
            return []
        now = self.now()
        return [ClockView(clock=c, remaining=clocks.remaining(self.calendar, c, now)) for c in self.s.view.clocks]
