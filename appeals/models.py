"""The appeal's input, the officials' actions, and the state that queries return.

These pydantic v2 models are the engine's public contract: `starter.py schema`
exports them as JSON Schema for intake services written in other languages.
Validators here must not depend on the current time: workflows re-validate
these models on every replay. Every string is storable (no NUL, control characters or
lone surrogates) and every required text has visible content; the rules live in
`appeals.safety`. The check that needs a clock is `received_at_problem(received_at, now)`.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from appeals.safety import (
    NO_CONTROL,
    ONE_LINE,
    STORABLE,
    SaneDate,
    SaneInstant,
    SchemaPattern,
    Url,
    has_visible,
    pattern_checked,
    visible,
)
from appeals.safety import RECEIVED_AT_MAX_AHEAD as RECEIVED_AT_MAX_AHEAD
from appeals.safety import Line as Line
from appeals.safety import Note as Note
from appeals.safety import Reason as Reason
from appeals.safety import Text as Text
from appeals.safety import received_at_problem as received_at_problem

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


APPEAL_WORKFLOW_ID_PATTERN = (
    f"^{WORKFLOW_ID_PREFIX}-(?:{'|'.join(c.value for c in Channel)})-{EXTERNAL_ID_PATTERN.removeprefix('^')}"
)
AppealWorkflowId = Annotated[
    str,
    STORABLE,
    pattern_checked(
        APPEAL_WORKFLOW_ID_PATTERN,
        "must be an appeal's workflow id, appeal-<channel>-<external id>, e.g. appeal-vk-wall-123",
    ),
    SchemaPattern(APPEAL_WORKFLOW_ID_PATTERN),
    Field(description="Workflow id of an appeal: appeal-<channel>-<external id>"),
]


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


NonEmpty = Line  # the name the models have always used for a required short text


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
    url: Url
    kind: Annotated[str, Field(min_length=1, max_length=50), STORABLE, ONE_LINE, visible(), NO_CONTROL] = "file"
    name: Annotated[str, Field(max_length=300), STORABLE, ONE_LINE, NO_CONTROL] | None = None


class AppealInput(Model):
    """One appeal as an intake service submits it."""

    channel: Channel
    external_id: str = Field(
        pattern=EXTERNAL_ID_PATTERN,
        description="The appeal's id in its source (post id, ticket number); "
        "letters, digits and ._:@/- only, at most 200 characters",
    )
    text: Text
    author: Author
    received_at: SaneInstant = Field(
        description="When the source received it, with offset; from 2000 on, and not in the future"
    )
    category: NonEmpty | None = None
    municipality: NonEmpty | None = None
    address: NonEmpty | None = None
    coordinates: Coordinates | None = None
    priority: Priority = Priority.normal
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)

    @property
    def workflow_id(self) -> str:
        return appeal_workflow_id(self.channel, self.external_id)

    def summary(self) -> str:
        """A one-line summary for the memo and the UI, free of personal data: no text, no author."""
        where = " / ".join(p for p in (self.category, self.municipality) if p) or "no category"
        return f"[{self.channel}] {where}"


def changed_fields(old: BaseModel, new: BaseModel, prefix: str = "") -> list[str]:
    """The dotted names of the fields that differ, e.g. `["text", "author.contact"]`.

    Instants compare as instants (the same moment with another offset is no change);
    a list that differs is named as a whole.
    """
    if type(old) is not type(new):
        return [prefix or "(the whole value)"]
    found: list[str] = []
    for name in type(old).model_fields:
        before, after = getattr(old, name), getattr(new, name)
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(before, BaseModel) and isinstance(after, BaseModel):
            found += changed_fields(before, after, path)
        elif before != after:
            found.append(path)
    return found


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
    note: Note | None = None


class SubmitAnswer(Model):
    """The answer on substance. It also acknowledges the appeal if nobody did."""

    by: NonEmpty
    # minLength is for other languages' schema checks; here the validator says it in words.
    text: Annotated[str, STORABLE, NO_CONTROL] = Field(max_length=20_000, json_schema_extra={"minLength": 1})
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)
    kind: AnswerKind = AnswerKind.substantive
    responsible: Annotated[str, Field(max_length=500), STORABLE, NO_CONTROL] | None = Field(
        None, description="For kind=not_competent: the body that is responsible"
    )

    @field_validator("text")
    @classmethod
    def _not_empty(cls, text: str) -> str:
        if not has_visible(text):
            raise ValueError("the answer is empty: write what was done and when")
        return text

    @model_validator(mode="after")
    def _names_who_is_responsible(self) -> SubmitAnswer:
        if self.kind == AnswerKind.not_competent and not has_visible(self.responsible):
            raise ValueError("responsible: a 'not our competence' answer must name who is responsible")
        return self


class InterimAnswer(Model):
    """A first answer; the final answer is then due within the policy's `final_after_interim`."""

    by: NonEmpty
    text: Text


class DeclareWhiteSpot(Model):
    """The honest deadline: the problem cannot be solved within the SLA — say why, and when."""

    by: NonEmpty
    reason: Reason = Field(description="Why it cannot be solved in time, e.g. the legal gap")
    committed_date: SaneDate = Field(description="The real date by which it will be solved (local)")


class MoveCommitment(Model):
    by: NonEmpty
    new_date: SaneDate
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
    note: Note | None = None


class Refute(Model):
    """The citizen says the answer did not solve the problem: a new answer cycle starts."""

    by: NonEmpty
    reason: Reason


class Rate(Model):
    """The citizen's rating of a published answer; a satisfied citizen closes the appeal now."""

    by: NonEmpty
    score: int = Field(ge=1, le=5, description="1 (not solved at all) to 5 (fully solved)")
    comment: Note | None = None

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
    reasons: list[Annotated[str, Field(min_length=3, max_length=500), STORABLE, visible(3), NO_CONTROL]] = Field(
        default_factory=list, max_length=50
    )

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

    text: Text


class MarkNotAppeal(Model):
    """Operator only: spam or not an appeal at all."""

    by: NonEmpty
    reason: Reason


class MarkDuplicate(Model):
    by: NonEmpty
    original: AppealWorkflowId = Field(description="Workflow id of the original appeal")


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
