"""The appeal's input, the officials' actions, and the state that queries return.

These pydantic v2 models are the engine's public contract: `starter.py schema`
exports them as JSON Schema for intake services written in other languages.
Validators here must not depend on the current time: workflows re-validate
these models on every replay.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

WORKFLOW_ID_PREFIX = "appeal"
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$"


class Channel(StrEnum):
    vk = "vk"
    ok = "ok"
    telegram = "telegram"
    governor_account = "governor_account"
    incident_management = "incident_management"
    website = "website"
    pos = "pos"
    email = "email"
    phone = "phone"
    written = "written"


class Priority(StrEnum):
    normal = "normal"
    high = "high"


class AppealStatus(StrEnum):
    registered = "registered"
    awaiting_acknowledgment = "awaiting_acknowledgment"
    in_progress = "in_progress"
    answered = "answered"
    closed = "closed"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


NonEmpty = Annotated[str, Field(min_length=1, max_length=500)]


class Author(Model):
    """The citizen. Every field here is personal data."""

    name: NonEmpty | None = None
    handle: NonEmpty | None = Field(None, description="Account in the source network, e.g. id123")
    contact: NonEmpty | None = Field(None, description="Phone or e-mail to reply to")

    @model_validator(mode="after")
    def _identifiable(self) -> Author:
        if not (self.name or self.handle or self.contact):
            raise ValueError("give at least one of name, handle or contact")
        return self


class Coordinates(Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Attachment(Model):
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    kind: Annotated[str, Field(max_length=50)] = "file"
    name: Annotated[str, Field(max_length=300)] | None = None


class AppealInput(Model):
    """One appeal as an intake service submits it."""

    channel: Channel
    external_id: str = Field(
        pattern=EXTERNAL_ID_PATTERN,
        description="The appeal's id in its source (post id, ticket number); "
        "letters, digits and ._:@/- only, at most 200 characters",
    )
    text: str = Field(min_length=1, max_length=20_000)
    author: Author
    received_at: AwareDatetime = Field(description="When the source received it, with offset")
    category: NonEmpty | None = None
    municipality: NonEmpty | None = None
    address: NonEmpty | None = None
    coordinates: Coordinates | None = None
    priority: Priority = Priority.normal
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)

    @property
    def workflow_id(self) -> str:
        return appeal_workflow_id(self.channel, self.external_id)

    def summary(self, words: int = 8) -> str:
        """A one-line human summary for the memo and the UI."""
        first = " ".join(self.text.split()[:words])
        where = " / ".join(p for p in (self.category, self.municipality) if p) or "no category"
        return f"[{self.channel}] {where}: {first}"


def appeal_workflow_id(channel: Channel | str, external_id: str) -> str:
    """`appeal-<channel>-<external id>`: re-sending the same post finds the same appeal."""
    if not re.fullmatch(EXTERNAL_ID_PATTERN, external_id):
        raise ValueError(f"external_id {external_id!r} does not match {EXTERNAL_ID_PATTERN}")
    return f"{WORKFLOW_ID_PREFIX}-{Channel(channel).value}-{external_id}"


# --- Actions (Temporal Updates) ---------------------------------------------------------


class Acknowledge(Model):
    """An official takes the appeal into work: the citizen's first reaction."""

    by: NonEmpty = Field(description="Who acknowledges: the official's login or id")
    note: Annotated[str, Field(max_length=2000)] | None = None


class SubmitAnswer(Model):
    """The answer on substance. It also acknowledges the appeal if nobody did."""

    by: NonEmpty
    # minLength is for other languages' schema checks; here the validator says it in words.
    text: str = Field(max_length=20_000, json_schema_extra={"minLength": 1})
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)

    @field_validator("text")
    @classmethod
    def _not_empty(cls, text: str) -> str:
        if not text:
            raise ValueError("the answer is empty: write what was done and when")
        return text


class ActionReceipt(Model):
    workflow_id: str
    action: str
    accepted_at: datetime
    status: AppealStatus


ACTIONS: dict[str, type[Model]] = {"acknowledge": Acknowledge, "answer": SubmitAnswer}


# --- State and timeline (Queries) -------------------------------------------------------


class Recipient(Model):
    """Someone who can be notified: an executor or a rung of the supervisor ladder."""

    role: NonEmpty
    address: NonEmpty = Field(description="Where notifications go: a login, e-mail or chat id")


class Clock(Model):
    """One SLA clock: when it started, when it is due, and how it ended."""

    name: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None = None
    breached_at: datetime | None = None


class TimelineEntry(Model):
    seq: int = Field(description="Deterministic step number; also the idempotency key suffix")
    at: datetime
    kind: str
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


class AppealState(Model):
    workflow_id: str
    status: AppealStatus
    step: str
    appeal: AppealInput
    executor: Recipient | None = None
    ladder: list[Recipient] = Field(default_factory=list)
    policy: str | None = None
    policy_version: str | None = None
    clocks: dict[str, Clock] = Field(default_factory=dict)
    escalation_level: int = 0
    sla_breached: bool = False
    acknowledged_by: str | None = None
    answer: SubmitAnswer | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)


class AppealResult(Model):
    workflow_id: str
    status: AppealStatus
    sla_breached: bool
    escalation_level: int
    closed_at: datetime
