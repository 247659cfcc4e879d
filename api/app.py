"""The app factory: the routers, the limits and the access log around them, one error shape
(`Problem`), and the OpenAPI document built from the engine's own pydantic models."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import access, actions, appeals, filters, health
from api.limits import BodyLimit
from api.services import Services
from api.views import ApiError, Problem
from appeals.models import ACTIONS, AppealInput
from stack import logs
from stack.errors import field_problem, join, printable

log = logs.get("appeals.api")
_SOURCES = ("body", "query", "path", "header", "cookie")
DESCRIPTION = """Intake and actions for the appeals SLA engine.

Every route but `/healthz` needs an API key: `Authorization: Bearer apk_…`. Intake keys may
submit appeals; operator keys may also act on them and read them. Errors are `Problem`s: one
plain line in `error`, and for 422 every bad field in `problems`."""


def _problem(status: int, problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=status, headers=headers)


async def _api_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ApiError)
    return _problem(err.status, err.problem, err.headers)


def _problems(err: RequestValidationError) -> list[str]:
    found = []
    for error in err.errors():
        loc = list(error.get("loc", ()))
        source = loc.pop(0) if loc and loc[0] in _SOURCES else "body"
        if error.get("type") == "json_invalid":
            found.append(f"body: not valid JSON ({printable(str(error.get('ctx', {}).get('error', '')))})")
            continue
        problem = field_problem({"loc": loc, "msg": error.get("msg", "invalid")})
        found.append(problem if loc else f"{source}: {problem}")
    return found


async def _invalid(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    found = _problems(err)
    path = str(getattr(request.scope.get("route"), "path", ""))
    what = path.rsplit("/", 1)[-1] if "/actions/" in path else "request"
    return _problem(422, Problem(error=f"{what} refused: {join(found)}", problems=found))


async def _http(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, HTTPException)
    message = {404: "no such route", 405: "method not allowed here"}.get(err.status_code, str(err.detail))
    return _problem(err.status_code, Problem(error=message), dict(err.headers or {}))


class Unexpected:
    """Any error nobody foresaw: 500 with a plain line; the log gets its type, never its message
    (a message may quote the input, which is personal data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as err:
            if scope["type"] != "http":
                raise
            log.error("api request failed", error=type(err).__name__, path=access.safe_path(scope))
            if not started:
                response = _problem(
                    500, Problem(error=f"internal error ({type(err).__name__}); nothing is lost: retry")
                )
                await response(scope, receive, send)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        models: list[type[BaseModel]] = [AppealInput, *ACTIONS.values()]
        _, defs = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        app.openapi_schema = schema
    return app.openapi_schema


def build_app(found: Services) -> FastAPI:
    app = FastAPI(
        title="Appeals SLA engine",
        version="1",
        description=DESCRIPTION,
        separate_input_output_schemas=False,
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,  # operation ids: create_appeals, act_answer, ...
    )
    app.state.services = found
    for module in (health, appeals, filters, actions):
        app.include_router(module.router)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    # Added last is outermost: the access log sees every answer, the body cap runs first.
    app.add_middleware(BodyLimit, max_body=found.settings.api_max_body)
    app.add_middleware(Unexpected)
    app.add_middleware(access.AccessLog)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
