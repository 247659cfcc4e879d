"""POST /appeals/{id}/actions/{action}: an official's action, executed as the workflow's Update.

One route per action, each with its own model as the body (so the OpenAPI document types
every one), and a last route that answers any other action with 404 and the list. The body is
validated at the door (422, every bad field named); a refusal by the workflow, its validator's
or its handler's, is 409 with the plain reason.
"""

# No `from __future__ import annotations` here: the routes are built in a loop, and FastAPI
# reads each body's model from the annotation object itself.

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.appeals import ERRORS, ID_DESCRIPTION, appeal_id, temporal_problem
from api.auth import may_act
from api.keys import ApiKey
from api.services import services
from api.views import ApiError, Problem
from appeals.models import ACTIONS, ActionReceipt, AppealStatus, Model
from appeals.state import AppealState
from stack.errors import reason

router = APIRouter(tags=["actions"])
UPDATE_TIMEOUT = 30.0
ROUTING_WAIT = 10.0  # an action right after the start waits this long for the routing
JUST_ROUTED = timedelta(seconds=3)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9._:-]{1,100}$",
        description="Optional, one per action: a retry with the same key gets the first attempt's outcome "
        "instead of acting twice",
    ),
]
RESPONSES = {
    404: {"model": Problem, "description": "No such appeal"},
    409: {
        "model": Problem,
        "description": "Refused by the appeal (the validator's or the handler's reason), or the appeal is closed",
    },
    504: {"model": Problem, "description": "The appeal's worker did not answer in time; the action may still apply"},
    **ERRORS,
}


async def execute(
    request: Request, workflow_id: str, action: str, body: Model, idempotency: str | None
) -> JSONResponse:
    client = services(request).client
    handle = client.get_workflow_handle(appeal_id(workflow_id))
    update_id = f"api:{idempotency}" if idempotency else None
    loop = asyncio.get_running_loop()
    routing = loop.time() + ROUTING_WAIT
    try:
        async with asyncio.timeout(UPDATE_TIMEOUT):
            while True:
                try:
                    receipt = await handle.execute_update(action, body, id=update_id, result_type=ActionReceipt)
                    break
                except WorkflowUpdateFailedError as err:
                    # An action sent right after the appeal is refused until it is routed: try again
                    # while it is being routed or was routed just now; other refusals stand.
                    if loop.time() < routing and await _being_routed(handle):
                        await asyncio.sleep(0.2)
                        continue
                    raise ApiError(409, f"{action} refused: {reason(err)}") from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise ApiError(
            504,
            f"{workflow_id} did not answer {action} within {UPDATE_TIMEOUT:.0f} s (is a worker running?); it may "
            "still apply: retry with the same Idempotency-Key to learn the outcome",
        ) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await _missing(request, workflow_id, action) from None
        raise temporal_problem(err, f"{action} not sent") from None
    return JSONResponse(receipt.model_dump(mode="json"))


async def _being_routed(handle: WorkflowHandle[Any, Any]) -> bool:
    """The appeal is still being registered and routed, or was routed a moment ago (an action that
    arrived with the routing may have been checked against the state before it)."""
    try:
        state = await handle.query("get_state", result_type=AppealState, rpc_timeout=timedelta(seconds=5))
    except Exception:  # it cannot say: the refusal stands
        return False
    if state.status == AppealStatus.registered:
        return True
    routed = next((e.at for e in state.timeline if e.kind == "routed"), None)
    return routed is not None and datetime.now(UTC) - routed < JUST_ROUTED


async def _missing(request: Request, workflow_id: str, action: str) -> ApiError:
    """NOT_FOUND from an Update: the appeal does not exist, or it is closed."""
    try:
        described = await services(request).client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return ApiError(404, f"no appeal {workflow_id}")
    status = described.status.name.lower() if described.status else "closed"
    return ApiError(409, f"{action} refused: {workflow_id} is closed ({status}); no action can change it")


def _add(name: str, model: type[Model]) -> None:
    async def act(
        workflow_id: Annotated[str, Path(description=ID_DESCRIPTION)],
        request: Request,
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        key: Annotated[ApiKey, Depends(may_act)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await execute(request, workflow_id, name, body, idempotency_key)

    act.__name__ = f"act_{name}"
    router.add_api_route(
        f"/appeals/{{workflow_id:path}}/actions/{name}",
        act,
        methods=["POST"],
        response_model=ActionReceipt,
        summary=(model.__doc__ or name).strip().splitlines()[0],
        description=f"Executes the `{name}` Update with the `{model.__name__}` body.",
        responses=RESPONSES,  # type: ignore[arg-type]
    )


for _name, _model in ACTIONS.items():
    _add(_name, _model)


@router.post(
    "/appeals/{workflow_id:path}/actions/{action}",
    summary="Any other action: 404 with the list of actions",
    responses={404: {"model": Problem, "description": "Unknown action; `actions` lists them"}, **ERRORS},
)
async def unknown_action(workflow_id: str, action: str, key: Annotated[ApiKey, Depends(may_act)]) -> None:
    raise ApiError(404, f"unknown action {action!r}; the actions are {', '.join(ACTIONS)}", actions=list(ACTIONS))
