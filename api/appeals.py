"""POST /appeals (one appeal, or a batch) and GET /appeals/{id}.

Intake goes through the library `starter.py` uses (`stack.intake`): the same validation
(`parse_appeal`, `distinct`), the same start (`submit`, `submit_many`) and the same outcomes.
Nothing starts unless the whole request is valid.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import may_create, may_read
from api.keys import ApiKey
from api.services import services
from api.views import ApiError, AppealView, BatchView, Problem, SubmissionView, jsonable, zone_of
from appeals.models import APPEAL_WORKFLOW_ID_PATTERN, AppealInput
from appeals.state import AppealState, ClockView, TimelineEntry
from stack.errors import decode_utf8, reason
from stack.intake import InvalidAppeal, Outcome, Submission, distinct, parse_appeal, submit, submit_many

router = APIRouter(tags=["appeals"])
NDJSON = ("application/x-ndjson", "application/jsonl", "application/json-lines")
QUERY_TIMEOUT = timedelta(seconds=10)
_APPEAL_ID = re.compile(APPEAL_WORKFLOW_ID_PATTERN + "$")
ID_DESCRIPTION = "The appeal's workflow id, appeal-<channel>-<external id>"
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in {
        401: "No API key, or not a valid one",
        403: "The key's scope does not allow this",
        413: "The body is too large, or the batch too long",
        422: "Refused: every bad field is named; nothing was started or changed",
        429: "Too many requests with this key: retry after Retry-After seconds; nothing was started",
        503: "Temporal or PostgreSQL is not reachable, or the existing appeal could not be read: retry",
    }.items()
}
_APPEAL = {"$ref": "#/components/schemas/AppealInput"}
_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"oneOf": [_APPEAL, {"type": "array", "items": _APPEAL, "minItems": 1}]},
        },
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "A batch: one AppealInput JSON object a line"}
        },
    },
}


def temporal_problem(err: RPCError, what: str) -> ApiError:
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return ApiError(503, f"{what}: Temporal is not reachable now; retry", headers={"Retry-After": "5"})
    return ApiError(502, f"{what}: Temporal refused the request: {reason(err)}")


def _refused(err: InvalidAppeal) -> ApiError:
    return ApiError(422, str(err), problems=err.problems)


def _items(body: bytes, media: str, max_batch: int) -> list[tuple[str, str]] | None:
    """A batch as labelled JSON texts, or None when the body is one appeal."""
    try:
        text = decode_utf8(body, "body")
    except ValueError as err:
        raise ApiError(422, str(err), problems=[str(err)]) from None
    if media in NDJSON:
        items = [(f"line {n}", line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    elif text.lstrip().startswith("["):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError) as err:
            problem = f"body: not valid JSON ({err})" if isinstance(err, ValueError) else "body: nested too deeply"
            raise ApiError(422, "batch refused: " + problem, problems=[problem]) from None
        items = [(f"item {n}", json.dumps(item, ensure_ascii=False)) for n, item in enumerate(parsed, start=1)]
    else:
        return None
    if not items:
        raise ApiError(422, "batch refused: it has no appeals", problems=["body: the batch is empty"])
    if len(items) > max_batch:
        raise ApiError(413, f"batch refused: {len(items)} appeals, at most {max_batch} (APPEALS_API_MAX_BATCH)")
    return items


def _validated(items: list[tuple[str, str]]) -> list[AppealInput]:
    """All or nothing, like `stack.intake.parse_batch`: every bad item is named; two versions of one
    id refuse the batch; exact repeats stay (submitted once, answered at each position)."""
    appeals, problems = [], []
    for label, text in items:
        try:
            appeals.append((label, parse_appeal(text, where=label)))
        except InvalidAppeal as err:
            problems += [f"{label}: {p}" for p in err.problems]
    if problems:
        raise _refused(InvalidAppeal(problems, "batch"))
    try:
        distinct(appeals)
    except InvalidAppeal as err:
        raise _refused(err) from None
    return [appeal for _, appeal in appeals]


def _single(submission: Submission) -> JSONResponse:
    view = SubmissionView.of(submission).model_dump(mode="json")
    match submission.outcome:
        case Outcome.created:
            return JSONResponse(view, 201, headers={"Location": f"/appeals/{submission.workflow_id}"})
        case Outcome.already_submitted | Outcome.changes_recorded:
            return JSONResponse(view, 200, headers={"Location": f"/appeals/{submission.workflow_id}"})
        case Outcome.closed:
            raise ApiError(409, submission.describe())
    raise ApiError(503, submission.describe(), headers={"Retry-After": "10"})


@router.post(
    "/appeals",
    status_code=201,
    response_model=SubmissionView,
    summary="Submit an appeal, or a batch of them",
    description="One appeal (a JSON object) starts its workflow: **201** when new, **200** when it already "
    "existed (`already_submitted`), **200** with outcome `changes_recorded` when it existed with other "
    "content (the changes are recorded against it for an operator, as `starter.py` does), **409** when it "
    "existed with other content and is closed (not recorded). A batch is a JSON array or JSON lines "
    "(`Content-Type: application/x-ndjson`), all or nothing: any bad appeal, or two versions of one id, "
    "refuse it whole with **422**; a valid batch answers **200** with each appeal's outcome.",
    openapi_extra={"requestBody": _BODY},
    responses={
        200: {"model": SubmissionView | BatchView, "description": "It existed already; or a batch's outcomes"},
        201: {"model": SubmissionView, "description": "A new appeal was started"},
        409: {"model": Problem, "description": "It exists with other content and is closed: not recorded"},
        415: {"model": Problem, "description": "Neither JSON nor JSON lines"},
        **ERRORS,
    },
)
async def create_appeals(request: Request, key: Annotated[ApiKey, Depends(may_create)]) -> JSONResponse:
    found = services(request)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in (*NDJSON, "application/json") and not media.endswith("+json"):
        raise ApiError(415, f"send application/json (an appeal or an array) or application/x-ndjson, not {media}")
    body = await request.body()
    items = _items(body, media, found.settings.api_max_batch)
    client, queue = found.client, found.settings.task_queue
    try:
        if items is None:
            try:
                appeal = parse_appeal(body)
            except InvalidAppeal as err:
                raise _refused(err) from None
            return _single(await submit(client, appeal, task_queue=queue))
        done = await submit_many(client, _validated(items), task_queue=queue)
    except RPCError as err:
        raise temporal_problem(err, "not submitted") from None
    unique = {s.workflow_id: s for s in done}.values()  # an exact repeat is one appeal
    counts = {o.value: sum(1 for s in unique if s.outcome is o) for o in Outcome}
    view = BatchView(
        counts=counts, not_recorded=sum(s.refused for s in unique), results=[SubmissionView.of(s) for s in done]
    )
    return JSONResponse(view.model_dump(mode="json"), 200)


def appeal_id(workflow_id: str) -> str:
    if not _APPEAL_ID.match(workflow_id):
        raise ApiError(404, "no such appeal: an appeal's id reads appeal-<channel>-<external id>")
    return workflow_id


async def _queries(client: Client, workflow_id: str) -> tuple[AppealState, list[TimelineEntry], list[ClockView]]:
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(QUERY_TIMEOUT.total_seconds() + 5):
            return await asyncio.gather(
                handle.query("get_state", result_type=AppealState, rpc_timeout=QUERY_TIMEOUT),
                handle.query("get_timeline", result_type=list[TimelineEntry], rpc_timeout=QUERY_TIMEOUT),
                handle.query("get_sla", result_type=list[ClockView], rpc_timeout=QUERY_TIMEOUT),
            )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, f"no appeal {workflow_id}") from None
        if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise ApiError(504, f"{workflow_id} did not answer in time: is a worker running?") from None
        raise temporal_problem(err, f"{workflow_id} not read") from None
    except TimeoutError:
        raise ApiError(504, f"{workflow_id} did not answer in time: is a worker running?") from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as err:
        raise ApiError(502, f"{workflow_id} could not answer: {reason(err)}") from None


@router.get(
    "/appeals/{workflow_id:path}",
    response_model=AppealView,
    summary="An appeal's state, timeline and SLA clocks, in its local time",
    responses={404: {"model": Problem, "description": "No such appeal"}, **ERRORS},
)
async def read_appeal(
    workflow_id: Annotated[str, Path(description=ID_DESCRIPTION)],
    request: Request,
    key: Annotated[ApiKey, Depends(may_read)],
) -> JSONResponse:
    found = services(request)
    state, timeline, sla = await _queries(found.client, appeal_id(workflow_id))
    zone = zone_of(state, found.calendar())
    view = {
        "workflow_id": state.workflow_id,
        "zone": zone.key,
        "state": jsonable(state, zone, exclude={"timeline"}),
        "timeline": [jsonable(entry, zone) for entry in timeline],
        "sla": [jsonable(clock, zone) for clock in sla],
    }
    return JSONResponse(view)
