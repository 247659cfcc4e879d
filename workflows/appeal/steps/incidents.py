"""Systemic incidents: a linked appeal follows the incident's commitment, and the incident's
one answer becomes its own answer, moderated and published here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from appeals.incidents import IncidentAnswered, JoinIncident
    from appeals.models import SubmitAnswer
    from appeals.vocabulary import ClockName, EventKind
    from workflows.appeal.core import AppealCore, problems


class Incidents(AppealCore):
    phases = ("follow_incident",)

    if TYPE_CHECKING:  # the answering step's; declared for the type checker only

        async def take_answer(self, action: SubmitAnswer) -> None: ...

    async def follow_incident(self) -> None:
        """Right after routing: an incident that found the appeal earlier is joined now."""
        s = self.s
        if s.pending_join is not None:
            join, s.pending_join = s.pending_join, None
            await self.joined(join)
        if s.pending_answer is not None:
            answered, s.pending_answer = s.pending_answer, None
            await self.incident_answer(answered)

    @workflow.signal
    async def join_incident(self, raw: RawValue) -> None:
        """Linked to a systemic incident: its commitment becomes this appeal's answer deadline."""
        join: JoinIncident | None = await self.accept_signal("join_incident", JoinIncident, raw)
        if join is not None:
            await self.joined(join)

    async def joined(self, join: JoinIncident) -> None:
        s = self.s
        if s.ended or s.closed_at is not None:
            return
        if self.calendar is None:  # not routed yet: joined right after routing
            s.pending_join = join
            return
        problem = self.commitment_problem(join.committed_date) if join.committed_date is not None else None
        if problem is not None:
            await self.refuse_signal("join_incident", f"incident {join.incident_id}: {problem}")
            return
        first = s.view.incident_id is None
        s.view.incident_id = join.incident_id
        if join.committed_date is not None and s.answered_at is None and s.view.commitment is None:
            self.stop((ClockName.answer, ClockName.final, ClockName.rework))
            self.commit_to(join.committed_date, join.reason or join.title, by=f"incident {join.incident_id}")
        if first or join.committed_date is not None:
            self.record(
                EventKind.linked_to_incident,
                f"linked to incident {join.incident_id}: {join.title}",
                incident_id=join.incident_id,
                committed_date=join.committed_date.isoformat() if join.committed_date else None,
            )
            await self.commit()

    @workflow.signal
    async def incident_answered(self, raw: RawValue) -> None:
        """The incident's one answer, taken as this appeal's own; moderated and published here."""
        answered: IncidentAnswered | None = await self.accept_signal("incident_answered", IncidentAnswered, raw)
        if answered is not None:
            await self.incident_answer(answered)

    async def incident_answer(self, answered: IncidentAnswered) -> None:
        s = self.s
        if s.closed_at is not None:
            return
        if self.calendar is None:  # not routed yet: taken right after routing
            s.pending_answer = answered
            return
        if s.ended or s.submitted is not None or s.answered_at is not None:
            self.record(EventKind.incident_answer_skipped, f"incident {answered.incident_id} answered; already handled")
            await self.commit()
            return
        reply = answered.answer
        try:
            answer = SubmitAnswer(by=reply.by, text=reply.text, attachments=reply.attachments)
        except ValidationError as err:
            await self.refuse_signal("incident_answered", problems(err))
            return
        await self.take_answer(answer)
