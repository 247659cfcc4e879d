"""GET /appeals: the ready filters of stack/filters.py (the questions ЦУР operators ask most)
and the plain ones (executor, incident, status, ...), with paging over Temporal's visibility."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowExecution
from temporalio.service import RPCError

from api.appeals import ERRORS, temporal_problem
from api.auth import may_read
from api.keys import ApiKey
from api.services import services
from api.views import ApiError, AppealPage, AppealSummary, jsonable
from appeals.models import AppealStatus, Channel
from appeals.working_calendar import CalendarConfig, WorkingCalendar
from stack import search_attributes as sa
from stack.filters import filters
from stack.settings import WORKFLOW_TYPE

router = APIRouter(tags=["appeals"])


class Ready(StrEnum):
    """The ready filters' names."""

    overdue = "overdue"
    breached = "breached"
    due_soon = "due_soon"
    escalated = "escalated"
    waiting = "waiting"


# Each name's question in stack/filters.py, which renders the filter with today's instants.
QUESTIONS = {
    Ready.overdue: "overdue now",
    Ready.breached: "breached at any time, still open",
    Ready.due_soon: "due within the next working hour",
    Ready.escalated: "escalated to level 2 or higher",
    Ready.waiting: "waiting for the citizen",
}
_TEXT = r'^[^"\\\x00-\x1f\x7f]{1,500}$'  # fits inside a visibility-query string literal


def _clause(field: str, value: str | None) -> list[str]:
    return [f'{field} = "{value}"'] if value is not None else []


def _token(raw: str | None) -> bytes | None:
    if raw is None:
        return None
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            422, "page_token is not a token this API gave", problems=["page_token: not a page token"]
        ) from None


def _summary(execution: WorkflowExecution, calendar: CalendarConfig) -> dict[str, object]:
    attributes = execution.typed_search_attributes
    municipality = attributes.get(sa.MUNICIPALITY)
    zone = ZoneInfo(calendar.zone_for(municipality))
    summary = AppealSummary(
        workflow_id=execution.id,
        execution_status=execution.status.name.title() if execution.status else "Unknown",
        status=attributes.get(sa.APPEAL_STATUS),
        channel=attributes.get(sa.APPEAL_CHANNEL),
        category=attributes.get(sa.APPEAL_CATEGORY),
        municipality=municipality,
        executor=attributes.get(sa.EXECUTOR),
        escalation_level=attributes.get(sa.ESCALATION_LEVEL),
        sla_breached=attributes.get(sa.SLA_BREACHED),
        ack_deadline=attributes.get(sa.ACK_DEADLINE),
        answer_deadline=attributes.get(sa.ANSWER_DEADLINE),
        incident_id=attributes.get(sa.INCIDENT_ID),
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )
    return jsonable(summary, zone)  # type: ignore[no-any-return]


@router.get(
    "/appeals",
    response_model=AppealPage,
    summary="List appeals by the ready filters, with paging",
    description="Every filter given must hold. `filter` names the ready ones (repeat it to combine): "
    + "; ".join(f"`{name}`: {question}" for name, question in QUESTIONS.items())
    + ". Times are in each appeal's municipality's zone. Pass `next_page_token` back as `page_token`, "
    "with the same filters, for the next page.",
    responses=ERRORS,  # type: ignore[arg-type]
)
async def list_appeals(
    request: Request,
    key: Annotated[ApiKey, Depends(may_read)],
    filter: Annotated[list[Ready], Query(description="Ready filters, e.g. overdue")] = [],  # noqa: B006 (FastAPI copies it)
    executor: Annotated[str | None, Query(pattern=_TEXT, description="The executor's address")] = None,
    incident: Annotated[str | None, Query(pattern=_TEXT, description="Linked to this incident id")] = None,
    status: AppealStatus | None = None,
    channel: Channel | None = None,
    category: Annotated[str | None, Query(pattern=_TEXT)] = None,
    municipality: Annotated[
        str | None, Query(pattern=_TEXT, description="Also whose working hours `due_soon` counts in")
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    page_token: Annotated[str | None, Query(max_length=4000)] = None,
) -> JSONResponse:
    found = services(request)
    calendar = found.calendar()
    ready = filters(datetime.now(UTC), WorkingCalendar.for_municipality(calendar, municipality))
    clauses = [f'WorkflowType = "{WORKFLOW_TYPE}"']
    clauses += [f"({ready[QUESTIONS[name]]})" for name in dict.fromkeys(filter)]
    clauses += _clause(sa.EXECUTOR.name, executor) + _clause(sa.INCIDENT_ID.name, incident)
    clauses += _clause(sa.APPEAL_STATUS.name, status.value if status else None)
    clauses += _clause(sa.APPEAL_CHANNEL.name, channel.value if channel else None)
    clauses += _clause(sa.APPEAL_CATEGORY.name, category) + _clause(sa.MUNICIPALITY.name, municipality)
    query = " AND ".join(clauses)
    listing = found.client.list_workflows(query, page_size=page_size, next_page_token=_token(page_token))
    try:
        await listing.fetch_next_page()
    except RPCError as err:
        raise temporal_problem(err, "not listed") from None
    token = listing.next_page_token
    page = {
        "items": [_summary(e, calendar) for e in listing.current_page or []],
        "next_page_token": base64.urlsafe_b64encode(token).decode().rstrip("=") if token else None,
        "query": query,
    }
    return JSONResponse(page)
