"""What the workflow hands to its activities: events, notifications, the plan.

Every write carries a key made of the workflow id and a deterministic step
number (`seq`), so a retried or replayed activity never writes twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from appeals.clocks import Clock
from appeals.models import AppealInput, AppealStatus, Model, Recipient
from appeals.routing import Route
from appeals.sla import SlaPolicy
from appeals.working_calendar import CalendarSnapshot


class Projection(Model):
    """The appeal's row in the projection table after an event."""

    status: AppealStatus
    executor: str | None = None
    ack_deadline: datetime | None = None
    answer_deadline: datetime | None = None
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    escalation_level: int = 0
    sla_breached: bool = False
    policy: str | None = None
    policy_version: str | None = None
    cycle: int = 1
    paused: bool = False
    clocks: list[Clock] = Field(default_factory=list)
    category: str | None = None
    municipality: str | None = None
    formal_rejections: int = 0
    redirects: int = 0
    incident_id: str | None = None
    duplicate_of: str | None = None


class AppealEvent(Model):
    workflow_id: str
    seq: int = Field(ge=1)
    kind: str
    at: datetime
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)
    projection: Projection
    appeal: AppealInput | None = Field(None, description="Set on registration only")


class EventRecord(Model):
    """One timeline entry on its way to the audit trail."""

    seq: int = Field(ge=1)
    kind: str
    at: datetime
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


class NotificationRequest(Model):
    workflow_id: str
    seq: int = Field(ge=1)
    kind: str
    recipient: Recipient
    subject: str
    body: str

    @property
    def idempotency_key(self) -> str:
        return f"{self.workflow_id}:{self.seq}:{self.recipient.address}"


class PlanRequest(Model):
    appeal: AppealInput
    now: datetime | None = Field(None, description="Re-pinning: the calendar must cover now too")


class AppealPlan(Model):
    """Everything an appeal pins when it starts (or is re-pinned): route, policy, calendar."""

    route: Route
    policy: SlaPolicy
    policy_version: str
    calendar: CalendarSnapshot

    @property
    def calendar_note(self) -> str | None:
        """Set when the municipality is not in calendar.toml: the zone and calendar assumed instead.

        The routed event carries it as `calendar_note`; `appealctl.py municipalities --unknown` lists it.
        """
        return self.calendar.assumed


class Publication(Model):
    """An accepted answer on its way to the citizen, in the channel the appeal came from."""

    workflow_id: str
    seq: int = Field(ge=1)
    channel: str
    external_id: str
    recipient: str = Field(description="The citizen's handle or contact in that channel")
    text: str
    attachments: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def idempotency_key(self) -> str:
        return f"{self.workflow_id}:{self.seq}:publish"


class IncidentRecord(Model):
    incident_id: str
    title: str
    category: str
    municipality: str | None = None
    address: str
    status: str
    opened_at: datetime
    committed_date: date | None = None
    linked: int = 0


class IncidentLookup(Model):
    category: str
    address: str
    received_at: datetime


class CheckRequest(Model):
    answer: str
    appeal_text: str
    attachments: int
    citizen_contacts: list[str]


class EventBatch(Model):
    """What one step recorded, written in one transaction: its events, the notifications they
    cause (an outbox the worker delivers from), and the projection after them. Only the clocks
    that changed since the last batch travel, to keep the history small."""

    workflow_id: str
    events: list[EventRecord] = Field(min_length=1)
    projection: Projection
    appeal: AppealInput | None = Field(None, description="Set with the registration only")
    notifications: list[NotificationRequest] = Field(default_factory=list)
