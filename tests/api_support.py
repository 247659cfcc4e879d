"""The HTTP API under test: served by uvicorn on a loopback port, next to a worker, against the
dev server and PostgreSQL; and a client that checks every exchange against /openapi.json."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from openapi_core import Config, OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.server import Running, serve
from api.services import Services
from stack.settings import Settings
from tests.conftest import running_worker


def api_settings(task_queue: str, **changes: Any) -> Settings:
    limits = {"api_burst": 100_000, "api_rate_per_minute": 6_000_000} | changes
    return replace(Settings(), task_queue=task_queue, **limits)


@asynccontextmanager
async def served(
    client: Client, pool: asyncpg.Pool, settings: Settings, **build: Any
) -> AsyncIterator[tuple[Running, Services]]:
    found = Services.build(client, pool, settings, **build)
    running = await serve(found, "127.0.0.1", 0)
    try:
        yield running, found
    finally:
        await running.stop()


NDJSON = "application/x-ndjson"


def _text(value: bytes | str, **_: Any) -> str:
    """JSON lines are text to the document (a string of AppealInput lines)."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


class Checked:
    """An httpx client whose every request and response must match the OpenAPI document."""

    def __init__(self, base: str, key: str | None, spec: OpenAPI | None) -> None:
        self.spec = spec
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.AsyncClient(base_url=base, headers=headers, timeout=60)
        self.checked = 0

    async def request(self, method: str, path: str, *, check: bool = True, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        if check and self.spec is not None:
            self.conforms(response)
        return response

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    def conforms(self, response: httpx.Response) -> None:
        assert self.spec is not None
        sent = response.request
        request = MockRequest(
            f"{sent.url.scheme}://{sent.url.netloc.decode()}",
            sent.method,
            sent.url.path,
            args=httpx.QueryParams(sent.url.query).multi_items(),  # type: ignore[arg-type]
            headers=dict(sent.headers),
            data=sent.content or None,
            content_type=sent.headers.get("content-type", ""),
        )
        answer = MockResponse(
            response.content, response.status_code, dict(response.headers), response.headers.get("content-type", "")
        )
        try:
            self.spec.validate_request(request)
        except OpenAPIError as err:  # a request the document refuses must be refused by the API too
            assert 400 <= response.status_code < 500, f"the API took a request its document refuses: {err}"
        self.spec.validate_response(request, answer)
        self.checked += 1

    async def close(self) -> None:
        await self.http.aclose()


@dataclass
class Api:
    url: str
    services: Services
    operator_key: str
    intake_key: str
    spec: OpenAPI
    document: dict[str, Any]
    task_queue: str

    def client(self, key: str | None = "operator", *, check: bool = True) -> Checked:
        chosen = {"operator": self.operator_key, "intake": self.intake_key}.get(key or "", key)
        return Checked(self.url, chosen, self.spec if check else None)


@pytest_asyncio.fixture(scope="module")
async def api(dev_env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[Api]:
    queue = f"appeals-api-{uuid.uuid4().hex[:8]}"
    settings = api_settings(queue)
    async with running_worker(dev_env.client, pool, queue), served(dev_env.client, pool, settings) as (running, found):
        _, operator = await found.keys.create("test-operator", "operator")
        _, intake = await found.keys.create("test-intake", "intake")
        async with httpx.AsyncClient() as http:
            document = (await http.get(f"{running.url}/openapi.json")).json()
        spec = OpenAPI.from_dict(document, config=Config(extra_media_type_deserializers={NDJSON: _text}))
        yield Api(running.url, found, operator, intake, spec, document, queue)
