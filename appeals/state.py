"""What queries return: the appeal's state, its SLA clocks and its timeline."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field

from appeals.clocks import Clock
from appeals.models import AppealInput, AppealStatus, Model, Recipient, SubmitAnswer
from appeals.moderation import QualityReport


class TimelineEntry(Model):
    seq: int = Field(description="Deterministic step number; also the idempotency key suffix")
    at: datetime
    kind: str
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


class Commitment(Model):
    reason: str
    committed_date: date
    declared_by: str
    moves: list[dict[str, str]] = Field(default_factory=list)


class AppealState(Model):
    workflow_id: str
    status: AppealStatus
    step: str
    appeal: AppealInput
    executor: Recipient | None = None
    ladder: list[Recipient] = Field(default_factory=list)
    policy: str | None = None
    policy_version: str | None = None
    cycle: int = Field(1, description="Answer cycle: a refuted answer starts the next one")
    clocks: list[Clock] = Field(default_factory=list)
    commitment: Commitment | None = None
    extended_until: datetime | None = None
    extension: timedelta = timedelta(0)
    escalation_level: int = 0
    sla_breached: bool = False
    acknowledged_by: str | None = None
    answer: SubmitAnswer | None = None
    rating: int | None = Field(None, description="The citizen's last rating, 1 to 5")
    quality: QualityReport | None = Field(None, description="The last automatic check of an answer")
    formal_rejections: int = 0
    redirects: list[dict[str, str]] = Field(default_factory=list)
    incident_id: str | None = None
    duplicate_of: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)

    def clock(self, name: str) -> Clock | None:
        """The latest clock of that name (the current answer cycle's, for `answer`)."""
        return next((c for c in reversed(self.clocks) if c.name == name), None)


class AppealResult(Model):
    workflow_id: str
    status: AppealStatus
    sla_breached: bool
    escalation_level: int
    closed_at: datetime


class ClockView(Model):
    """One clock of the SLA timeline, with the time left as of the query."""

    clock: Clock
    remaining: timedelta = Field(description="Negative when overdue; working time for working clocks")
