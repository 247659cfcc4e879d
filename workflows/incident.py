"""IncidentWorkflow: a systemic problem that many appeals report.

Opening it links the open appeals that match (same category and address within the
window); appeals that arrive later link themselves when they are routed. Linked
appeals follow the incident's commitment, and one answer from the incident fans
out to each of them, to be moderated, published on its own channel and given its
own feedback window.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.incidents import IncidentActivities
    from appeals.incidents import (
        IncidentAnswer,
        IncidentAnswered,
        IncidentState,
        JoinIncident,
        LinkAppeal,
        OpenIncident,
        committed_date_problem,
    )
    from appeals.records import IncidentLookup, IncidentRecord
    from appeals.safety import UndecodablePayload

STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))


# A start whose input does not decode fails at once instead of retrying its first task forever.
@workflow.defn(name="IncidentWorkflow", failure_exception_types=[ValidationError, UndecodablePayload])
class IncidentWorkflow:
    @workflow.init
    def __init__(self, incident: OpenIncident) -> None:
        self.incident = incident
        self.state = IncidentState(
            incident_id=incident.incident_id,
            title=incident.title,
            category=incident.category,
            address=incident.address,
            municipality=incident.municipality,
            opened_at=workflow.now(),
            committed_date=incident.committed_date,
        )
        self.answer_given: IncidentAnswer | None = None
        self.to_join: list[str] = []  # linked, not yet told
        self.dirty = False

    @workflow.run
    async def run(self, incident: OpenIncident) -> IncidentState:
        problem = incident.committed_date and committed_date_problem(incident.committed_date, workflow.now().date())
        if problem:  # each linked appeal would refuse it anyway; say so once, where the operator looks
            raise ApplicationError(problem, type="InvalidIncident", non_retryable=True)
        await self.save()
        matching = await workflow.execute_activity_method(
            IncidentActivities.find_matching_appeals,
            IncidentLookup(category=incident.category, address=incident.address, received_at=workflow.now()),
            summary="find the open appeals about this problem",
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        for appeal in matching:
            self.link(appeal)
        while True:
            await workflow.wait_condition(lambda: self.dirty or self.answer_given is not None)
            if self.dirty:
                self.dirty = False
                await self.tell_joined()
                await self.save()
            elif self.answer_given is not None:
                break
        answered = IncidentAnswered(incident_id=incident.incident_id, answer=self.answer_given)
        for appeal in self.state.linked:
            await self.tell(appeal, "incident_answered", answered)
        self.state.status, self.state.answered_at = "answered", workflow.now()
        await self.save()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    def link(self, appeal: str) -> None:
        if appeal not in self.state.linked:
            self.state.linked.append(appeal)
            self.to_join.append(appeal)
            self.dirty = True

    async def tell_joined(self) -> None:
        """Each new member learns the incident and its commitment."""
        join = JoinIncident(
            incident_id=self.incident.incident_id,
            title=self.incident.title,
            committed_date=self.incident.committed_date,
            reason=self.incident.reason,
        )
        while self.to_join:
            await self.tell(self.to_join.pop(0), "join_incident", join)

    async def tell(self, appeal: str, signal: str, payload: JoinIncident | IncidentAnswered) -> None:
        """Signal a linked appeal; one that is closed or does not exist is noted, not fatal."""
        try:
            await workflow.get_external_workflow_handle(appeal).signal(signal, payload)
        except Exception as err:  # the appeal closed meanwhile, or a mistyped id
            workflow.logger.warning(f"{signal} not delivered to {appeal}: {err}")
            if appeal not in self.state.unreachable:
                self.state.unreachable.append(appeal)

    async def save(self) -> None:
        await workflow.execute_activity_method(
            IncidentActivities.save_incident,
            IncidentRecord(
                incident_id=self.state.incident_id,
                title=self.state.title,
                category=self.state.category,
                municipality=self.state.municipality,
                address=self.state.address,
                status=self.state.status,
                opened_at=self.state.opened_at,
                committed_date=self.state.committed_date,
                linked=len(self.state.linked),
            ),
            summary=f"store incident ({len(self.state.linked)} linked)",
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )

    @workflow.update
    def link_appeal(self, action: LinkAppeal) -> IncidentState:
        self.link(action.workflow_id)
        return self.state

    @link_appeal.validator
    def _check_link(self, action: LinkAppeal) -> None:
        self._refuse_if_answered()
        if action.workflow_id in self.state.linked:
            raise ValueError(f"{action.workflow_id} is already linked to this incident")

    @workflow.signal
    def appeal_joined(self, workflow_id: str) -> None:
        """An appeal found this incident by itself when it was routed."""
        if self.answer_given is None:
            self.link(workflow_id)

    @workflow.update
    def answer(self, action: IncidentAnswer) -> IncidentState:
        self.answer_given = action
        return self.state

    @answer.validator
    def _check_answer(self, action: IncidentAnswer) -> None:
        self._refuse_if_answered()
        if not self.state.linked:
            raise ValueError("no appeal is linked to this incident yet")

    def _refuse_if_answered(self) -> None:
        if self.answer_given is not None:
            raise ValueError(f"the incident {self.state.incident_id} is already answered")

    @workflow.query
    def get_state(self) -> IncidentState:
        return self.state
