"""The access log: one JSON line a request, with no personal data in it.

It names the method, the path (or, when a path parameter is not a well-formed workflow id or
action, the route's template), the status, the API key's name and id, and the time taken. Never
a body, a query string (filters may carry an official's address), a header or the key itself.
Uvicorn's own access log is off (it prints query strings).
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appeals.models import ACTIONS, APPEAL_WORKFLOW_ID_PATTERN
from stack import logs
from stack.errors import printable

log = logs.get("appeals.api.access")
_SAFE = {"workflow_id": re.compile(APPEAL_WORKFLOW_ID_PATTERN + "$"), "action": re.compile("|".join(ACTIONS))}


def safe_path(scope: Scope) -> str:
    """The request's path when every parameter in it is a well-formed id; else the template."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    params: dict[str, Any] = scope.get("path_params") or {}
    if template is None:  # the app's own pages (/openapi.json, /docs) are not API routes
        fixed = {getattr(r, "path", "") for r in getattr(scope.get("app"), "routes", ())}
        path = str(scope.get("path", ""))
        return path if path in fixed and "{" not in path else "(no such route)"
    if all(name in _SAFE and _SAFE[name].fullmatch(str(value)) for name, value in params.items()):
        return printable(str(scope.get("path", template)))
    return str(template)


class AccessLog:
    """ASGI middleware, outermost: logs each HTTP request once it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            state = scope.get("state") or {}
            route = scope.get("route")
            log.info(
                "api request",
                method=scope["method"],
                path=safe_path(scope),
                route=getattr(route, "path", None),
                status=status,
                key=state.get("api_key_name"),
                key_id=state.get("api_key_id"),
                ms=round((time.monotonic() - started) * 1000, 1),
            )
