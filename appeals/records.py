"""What the workflow hands to its activities: events, notifications, the plan.

Every write carries a key made of the workflow id and a deterministic step
number (`seq`), so a retried or replayed activity never writes twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from appeals.models import AppealInput, AppealStatus, Model, Recipient
from appeals.routing import Route
from appeals.sla import Deadlines, SlaPolicy


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


class AppealEvent(Model):
    workflow_id: str
    seq: int = Field(ge=1)
    kind: str
    at: datetime
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)
    projection: Projection
    appeal: AppealInput | None = Field(None, description="Set on registration only")


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


class AppealPlan(Model):
    route: Route
    policy: SlaPolicy
    policy_version: str
    deadlines: Deadlines
