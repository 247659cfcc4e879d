"""Systemic incidents: one problem, many appeals, one answer fanned out to each of them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import ConfigDict, Field, computed_field

from appeals.models import AppealWorkflowId, Attachment, Model, NonEmpty, Reason, Text
from appeals.safety import SaneDate

INCIDENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
IncidentId = Annotated[str, Field(pattern=INCIDENT_ID_PATTERN)]


class OpenIncident(Model):
    incident_id: IncidentId
    title: NonEmpty
    category: NonEmpty
    address: NonEmpty
    municipality: NonEmpty | None = None
    opened_by: NonEmpty
    committed_date: SaneDate | None = Field(None, description="When the problem will be solved")
    reason: Reason | None = Field(None, description="Why it takes until committed_date")

    @property
    def workflow_id(self) -> str:
        return f"incident-{self.incident_id}"


class LinkAppeal(Model):
    by: NonEmpty
    workflow_id: AppealWorkflowId


class IncidentAnswer(Model):
    """One answer for every linked appeal; each is published on its own channel."""

    by: NonEmpty
    text: Text
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)


class JoinIncident(Model):
    """Signal to an appeal: you are part of this incident (and follow its commitment)."""

    incident_id: IncidentId
    title: NonEmpty
    committed_date: SaneDate | None = None
    reason: Reason | None = None


class IncidentAnswered(Model):
    """Signal to a linked appeal: the incident's answer, to be moderated and published."""

    incident_id: IncidentId
    answer: IncidentAnswer


class IncidentState(Model):
    model_config = ConfigDict(extra="ignore")  # `count` is computed, and comes back in queries

    incident_id: str
    title: str
    category: str
    address: str
    municipality: str | None = None
    status: str = "open"  # open | answered
    opened_at: datetime
    committed_date: date | None = None
    linked: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list, description="Linked appeals already closed")
    answered_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        """How many appeals are linked."""
        return len(self.linked)


MAX_COMMITMENT_DAYS = 366
"""How far ahead an incident may commit: the appeals' commitment policy allows no more."""


def committed_date_problem(committed: date, today: date) -> str | None:
    """Why an incident cannot commit to `committed` as of `today`, or None. The door (appealctl)
    and the incident workflow both ask it; each linked appeal checks its own policy too."""
    if committed <= today:
        return f"committed_date: {committed} is not after today ({today})"
    if committed > today + timedelta(days=MAX_COMMITMENT_DAYS):
        return f"committed_date: {committed} is more than {MAX_COMMITMENT_DAYS} days ahead (today is {today})"
    return None
