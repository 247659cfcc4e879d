"""GET /healthz: 200 when Temporal and PostgreSQL answer, else 503 naming which does not.
No key needed (load balancers ask), and nothing in it but "ok" or "unreachable"."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.services import services
from api.views import Health

router = APIRouter(tags=["health"])
TIMEOUT = 3.0


async def _temporal(request: Request) -> bool:
    try:
        async with asyncio.timeout(TIMEOUT):
            return await services(request).client.service_client.check_health(timeout=timedelta(seconds=TIMEOUT))
    except Exception:  # any failure means "not reachable"; the reason is not the caller's business
        return False


async def _postgres(request: Request) -> bool:
    try:
        async with asyncio.timeout(TIMEOUT):
            return await services(request).pool.fetchval("SELECT 1") == 1
    except Exception:
        return False


@router.get(
    "/healthz",
    response_model=Health,
    summary="Are Temporal and PostgreSQL reachable?",
    responses={503: {"model": Health, "description": "One of them is not"}},
)
async def healthz(request: Request) -> JSONResponse:
    temporal, postgres = await asyncio.gather(_temporal(request), _postgres(request))
    health = Health(
        status="ok" if temporal and postgres else "unavailable",
        temporal="ok" if temporal else "unreachable",
        postgres="ok" if postgres else "unreachable",
    )
    return JSONResponse(health.model_dump(), status_code=200 if temporal and postgres else 503)
