"""The appeal's one serializable state: everything the workflow knows, in one model.

`view` is what queries return (appeals/state.py AppealState); the rest is the lifecycle's own
bookkeeping. Nothing about an appeal lives anywhere else, so the whole of it could be carried
over by continue-as-new, and a developer reads the appeal's state in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from appeals.incidents import IncidentAnswered, JoinIncident
from appeals.models import AppealInput, AppealStatus, Model, Moderate, SubmitAnswer
from appeals.records import AppealPlan
from appeals.state import AppealState


class RunState(Model):
    appeal: AppealInput
    view: AppealState
    plan: AppealPlan | None = None
    seq: int = Field(0, description="The last timeline step number: the key of every write")
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    paused_since: datetime | None = None
    escalation_due: datetime | None = None
    reminders: int = Field(0, description="Consecutive reminders at the top of the ladder")
    submitted: SubmitAnswer | None = Field(None, description="An answer waiting for the quality gate")
    submitted_seq: int = 0
    awaiting_verdict: bool = False  # a moderator's verdict is taken only while this is set
    verdict: Moderate | None = None
    pending_join: JoinIncident | None = None  # an incident that found the appeal before routing
    pending_answer: IncidentAnswered | None = None  # an incident's answer before routing
    step_data: dict[str, Any] = Field(
        default_factory=dict, description="State of steps added later, each under its own name"
    )
    satisfied: bool = False  # the citizen rated the published answer 4 or 5
    ended_as: AppealStatus | None = None
    end_reason: str | None = None
    published: dict[str, Any] = Field(default_factory=dict, description="Search attributes as last upserted")

    @property
    def ended(self) -> bool:
        return self.ended_as is not None
