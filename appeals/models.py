"""The appeal's input, the officials' actions, and the state that queries return.

These pydantic v2 models are the engine's public contract: `starter.py schema`
exports them as JSON Schema for intake services written in other languages.
Validators here must not depend on the current time: workflows re-validate
these models on every replay.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

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
    waiting_for_citizen = "waiting_for_citizen"
    in_moderation = "in_moderation"  # a ЦУР moderator must accept the answer
    rework = "rework"  # the answer was sent back as formal
    answered = "answered"  # published; the citizen's feedback window is open
    closed = "closed"
    # Final statuses of appeals closed without a solution, each visible in reports:
    closed_unsolvable = "closed_unsolvable"  # honestly explained: cannot be solved
    closed_not_appeal = "closed_not_appeal"  # spam or not an appeal (operator, with a reason)
    closed_duplicate = "closed_duplicate"  # a duplicate of another appeal
    closed_no_reply = "closed_no_reply"  # the citizen never answered the executor's question

    @property
    def is_final(self) -> bool:
        return self.value.startswith("closed")


class AnswerKind(StrEnum):
    substantive = "substantive"  # the problem is solved or will be, with what and when
    not_competent = "not_competent"  # another body is responsible: name it
    cannot_be_solved = "cannot_be_solved"  # an honest explanation why it cannot be solved


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


class Recipient(Model):
    """Someone who can be notified: an executor or a rung of the supervisor ladder."""

    role: NonEmpty
    address: NonEmpty = Field(description="Where notifications go: a login, e-mail or chat id")


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
    kind: AnswerKind = AnswerKind.substantive
    responsible: Annotated[str, Field(max_length=500)] | None = Field(
        None, description="For kind=not_competent: the body that is responsible"
    )

    @field_validator("text")
    @classmethod
    def _not_empty(cls, text: str) -> str:
        if not text:
            raise ValueError("the answer is empty: write what was done and when")
        return text

    @model_validator(mode="after")
    def _names_who_is_responsible(self) -> SubmitAnswer:
        if self.kind == AnswerKind.not_competent and not self.responsible:
            raise ValueError("responsible: a 'not our competence' answer must name who is responsible")
        return self


class InterimAnswer(Model):
    """A first answer; the final answer is then due within the policy's `final_after_interim`."""

    by: NonEmpty
    text: str = Field(min_length=1, max_length=20_000)


Reason = Annotated[str, Field(min_length=10, max_length=2000, description="At least 10 characters")]


class DeclareWhiteSpot(Model):
    """The honest deadline: the problem cannot be solved within the SLA — say why, and when."""

    by: NonEmpty
    reason: Reason = Field(description="Why it cannot be solved in time, e.g. the legal gap")
    committed_date: date = Field(description="The real date by which it will be solved (local)")


class MoveCommitment(Model):
    by: NonEmpty
    new_date: date
    reason: Reason


class Extend(Model):
    """59-ФЗ: one extension of the answer deadline, with a notice to the citizen."""

    by: NonEmpty
    days: int = Field(ge=1, le=366)
    reason: Reason


class PauseClocks(Model):
    """Stop the clocks while waiting for the citizen's clarification."""

    by: NonEmpty
    reason: Reason


class ResumeClocks(Model):
    by: NonEmpty
    note: Annotated[str, Field(max_length=2000)] | None = None


class Refute(Model):
    """The citizen says the answer did not solve the problem: a new answer cycle starts."""

    by: NonEmpty
    reason: Reason


class Rate(Model):
    """The citizen's rating of a published answer; a satisfied citizen closes the appeal now."""

    by: NonEmpty
    score: int = Field(ge=1, le=5, description="1 (not solved at all) to 5 (fully solved)")
    comment: Annotated[str, Field(max_length=2000)] | None = None

    @property
    def satisfied(self) -> bool:
        return self.score >= 4


class RepinPolicy(Model):
    """Move a running appeal to the current policy file; paused time is kept."""

    by: NonEmpty


class Reclassify(Model):
    """An operator sets or fixes the category or municipality; the appeal is routed again."""

    by: NonEmpty
    category: NonEmpty | None = None
    municipality: NonEmpty | None = None

    @model_validator(mode="after")
    def _something(self) -> Reclassify:
        if self.category is None and self.municipality is None:
            raise ValueError("give a category, a municipality or both")
        return self


class Redirect(Model):
    """«Переадресация»: the executor hands the appeal to the body that is responsible."""

    by: NonEmpty
    to: Recipient
    reason: Reason


class Moderate(Model):
    """A ЦУР moderator's verdict on an answer before it reaches the citizen."""

    by: NonEmpty
    accept: bool
    reasons: list[Annotated[str, Field(min_length=3, max_length=500)]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rejection_says_why(self) -> Moderate:
        if not self.accept and not self.reasons:
            raise ValueError("reasons: a rejected answer needs at least one reason")
        return self


class AskCitizen(Model):
    """The executor asks the citizen a question; the clocks stop until the reply."""

    by: NonEmpty
    question: Reason


class CitizenReply(Model):
    """The citizen's reply, sent by the intake service as a signal."""

    text: str = Field(min_length=1, max_length=20_000)


class MarkNotAppeal(Model):
    """Operator only: spam or not an appeal at all."""

    by: NonEmpty
    reason: Reason


class MarkDuplicate(Model):
    by: NonEmpty
    original: str = Field(pattern=r"^appeal-", description="Workflow id of the original appeal")


class ActionReceipt(Model):
    workflow_id: str
    action: str
    accepted_at: datetime
    status: AppealStatus


ACTIONS: dict[str, type[Model]] = {
    "acknowledge": Acknowledge,
    "answer": SubmitAnswer,
    "interim_answer": InterimAnswer,
    "declare_white_spot": DeclareWhiteSpot,
    "move_commitment": MoveCommitment,
    "extend": Extend,
    "pause": PauseClocks,
    "resume": ResumeClocks,
    "refute": Refute,
    "rate": Rate,
    "repin_policy": RepinPolicy,
    "reclassify": Reclassify,
    "redirect": Redirect,
    "moderate": Moderate,
    "ask_citizen": AskCitizen,
    "mark_not_appeal": MarkNotAppeal,
    "mark_duplicate": MarkDuplicate,
}
