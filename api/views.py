"""What the API answers: the response models, its one error shape, and times in an appeal's zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from appeals.state import AppealState, ClockView, TimelineEntry
from appeals.working_calendar import CalendarConfig
from stack.intake import Outcome, Submission


class Problem(BaseModel):
    """Every error: one plain line, and for 422 each bad field as `field.path: message`."""

    error: str = Field(description="What went wrong, on one line (never the submitted values)")
    problems: list[str] = Field(default_factory=list, description="422: every bad field, `field.path: message`")
    actions: list[str] | None = Field(None, description="404 for an unknown action: the actions there are")


class ApiError(Exception):
    """Raised anywhere in a request: answered as a `Problem` with this status."""

    def __init__(
        self,
        status: int,
        error: str,
        *,
        problems: list[str] | None = None,
        actions: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.problem = Problem(error=error, problems=problems or [], actions=actions)
        self.headers = headers or {}


class SubmissionView(BaseModel):
    """The outcome of submitting one appeal (see `stack.intake.Outcome`)."""

    workflow_id: str
    outcome: Outcome = Field(
        description="created (201); already_submitted: the same content existed (200); changes_recorded: "
        "it existed with other content, the changes were recorded against it for an operator (200)"
    )
    changes: list[str] = Field(default_factory=list, description="The fields that differ from the existing appeal's")
    detail: str = ""

    @classmethod
    def of(cls, submission: Submission) -> SubmissionView:
        return cls(
            workflow_id=submission.workflow_id,
            outcome=submission.outcome,
            changes=list(submission.changes),
            detail=submission.detail,
        )


class BatchView(BaseModel):
    """A batch: every appeal's outcome in the order given, and the counts."""

    counts: dict[str, int] = Field(description="How many distinct appeals had each outcome")
    not_recorded: int = Field(description="Appeals whose new content was NOT recorded (closed or unverified)")
    results: list[SubmissionView]


class AppealView(BaseModel):
    """One appeal: its state, its timeline and its SLA clocks, every time in the appeal's zone."""

    workflow_id: str
    zone: str = Field(description="The IANA time zone the appeal's calendar is pinned to; every time is in it")
    state: AppealState = Field(description="The get_state query; its timeline is in `timeline`")
    timeline: list[TimelineEntry] = Field(description="The get_timeline query")
    sla: list[ClockView] = Field(description="The get_sla query: every clock, with the time left")


class AppealSummary(BaseModel):
    """One appeal in a list: its search attributes, no personal data."""

    workflow_id: str
    execution_status: str = Field(description="Temporal's: Running, Completed, Failed, ...")
    status: str | None = None
    channel: str | None = None
    category: str | None = None
    municipality: str | None = None
    executor: str | None = None
    escalation_level: int | None = None
    sla_breached: bool | None = None
    ack_deadline: datetime | None = None
    answer_deadline: datetime | None = None
    incident_id: str | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None


class AppealPage(BaseModel):
    items: list[AppealSummary]
    next_page_token: str | None = Field(None, description="Pass as page_token, with the same filters, for more")
    query: str = Field(description="The Temporal list filter that ran (paste it into the UI)")


class Health(BaseModel):
    status: str = Field(description="ok, or unavailable (503)")
    temporal: str
    postgres: str


def zone_of(state: AppealState, calendar: CalendarConfig) -> ZoneInfo:
    """The zone the appeal's calendar is pinned to (recorded when it was routed); before routing,
    the zone of its municipality in calendar.toml."""
    routed = next((e for e in state.timeline if e.kind == "routed" and e.data.get("zone")), None)
    name = str(routed.data["zone"]) if routed else calendar.zone_for(state.appeal.municipality)
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(calendar.default_zone)


def localized(value: Any, zone: ZoneInfo) -> Any:
    """`value` (plain data from model_dump) with every aware datetime moved into `zone`."""
    if isinstance(value, datetime):
        return value.astimezone(zone) if value.tzinfo else value
    if isinstance(value, dict):
        return {k: localized(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [localized(v, zone) for v in value]
    return value


def jsonable(model: BaseModel, zone: ZoneInfo | None = None, **dump: Any) -> Any:
    data = model.model_dump(**dump)
    return to_jsonable_python(localized(data, zone) if zone else data)
