"""Who is calling: the API key in `Authorization: Bearer <key>`, its scope, and its rate.

Missing or wrong key: 401. A key whose scope does not allow the route: 403. Too many
requests from one key: 429 with Retry-After. All of it before the body is parsed, so a
refused request never starts anything.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.keys import PERMISSIONS, ApiKey
from api.services import services
from api.views import ApiError

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="apk_<key id>_<secret>",
    description="An API key from `api_server.py new-key --name NAME --scope intake|operator`",
)
_UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="appeals"'}


def allow(permission: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the caller's key, when it may do `permission` (create, act, read) now."""

    async def caller(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> ApiKey:
        if credentials is None:
            raise ApiError(401, "an API key is needed: send Authorization: Bearer <key>", headers=_UNAUTHENTICATED)
        found = services(request)
        key = await found.keys.verify(credentials.credentials)
        if key is None:
            raise ApiError(401, "the API key is not valid or was revoked", headers=_UNAUTHENTICATED)
        request.state.api_key_name, request.state.api_key_id = key.name, key.key_id
        if not key.may(permission):
            allowed = ", ".join(sorted(PERMISSIONS.get(key.scope, ())))
            raise ApiError(403, f"the {key.scope} key {key.name!r} may not {permission} (it may: {allowed})")
        wait = found.buckets.take(key.key_id)
        if wait > 0:
            seconds = max(1, math.ceil(wait)) if math.isfinite(wait) else 3600
            raise ApiError(
                429,
                f"too many requests with key {key.name!r}: retry in {seconds} s; nothing was started",
                headers={"Retry-After": str(seconds)},
            )
        return key

    caller.__name__ = f"may_{permission}"
    return caller


may_create = allow("create")
may_act = allow("act")
may_read = allow("read")
