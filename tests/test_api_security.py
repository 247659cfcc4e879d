"""The HTTP API's keys, scopes, limits, logs and health, over real HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.keys import digest
from api.limits import Buckets
from tests.api_support import Api, api, api_settings, served
from tests.conftest import ROOT, make_appeal

pytestmark = pytest.mark.e2e
__all__ = ["api"]  # the fixture


def appeal(**overrides: Any) -> dict[str, Any]:
    return make_appeal(datetime.now(UTC) - timedelta(minutes=5), **overrides).model_dump(mode="json")


@contextmanager
def captured(name: str) -> Iterator[io.StringIO]:
    """The JSON lines a logger writes, as the running service writes them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.getLogger().handlers[0].formatter)
    logger = logging.getLogger(name)
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


async def test_every_route_but_health_needs_a_valid_key(api: Api):
    payload = appeal()
    altered = api.operator_key[:-1] + ("B" if api.operator_key.endswith("A") else "A")
    for key in (None, "apk_000000000000_" + "x" * 43, "not-a-key", altered):
        client = api.client(key)
        for method, path, body in (
            ("POST", "/appeals", payload),
            ("GET", "/appeals", None),
            ("GET", "/appeals/appeal-vk-1", None),
            ("POST", "/appeals/appeal-vk-1/actions/acknowledge", {"by": "x"}),
        ):
            response = await client.request(method, path, json=body)
            assert response.status_code == 401, (key, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
        await client.close()
    health = await api.client(None).get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "temporal": "ok", "postgres": "ok"}


async def test_scopes_intake_creates_only_operator_acts_and_reads(api: Api):
    intake = api.client("intake")
    for method, path, body in (
        ("GET", "/appeals", None),
        ("GET", "/appeals/appeal-vk-1", None),
        ("POST", "/appeals/appeal-vk-1/actions/acknowledge", {"by": "x"}),
    ):
        response = await intake.request(method, path, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"].startswith("the intake key 'test-intake' may not")
    await intake.close()
    operator = api.client()
    assert (await operator.post("/appeals", json=appeal())).status_code == 201
    assert (await operator.get("/appeals", params={"page_size": 1})).status_code == 200
    await operator.close()


async def test_keys_are_stored_hashed_and_made_revoked_by_the_cli(api: Api, pool: asyncpg.Pool, database_url: str):
    rows = await pool.fetch("SELECT * FROM api_keys")
    for row in rows:
        assert all(api.operator_key not in str(v) and api.intake_key not in str(v) for v in dict(row).values())
    key_id = api.operator_key.split("_")[1]
    stored = await pool.fetchval("SELECT key_sha256 FROM api_keys WHERE key_id = $1", key_id)
    assert bytes(stored) == digest(api.operator_key)
    env = os.environ | {"APPEALS_DATABASE_URL": database_url}

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "api_server.py", *args]
        return await asyncio.to_thread(subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True)

    name = f"vk-collector-{uuid.uuid4().hex[:6]}"
    made = await cli("new-key", "--name", name, "--scope", "intake")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("apk_") and "only its hash is stored" in made.stderr
    client = api.client(key)
    assert (await client.post("/appeals", json=appeal())).status_code == 201
    await client.close()
    listed = await cli("list-keys")
    assert name in listed.stdout and key not in listed.stdout and key.split("_")[1] in listed.stdout
    assert (await cli("revoke-key", key.split("_")[1])).returncode == 0
    api.services.keys._cache.clear()  # each copy forgets a key within 30 s; this one now
    client = api.client(key)
    assert (await client.post("/appeals", json=appeal())).status_code == 401
    await client.close()
    wrong = await cli("new-key", "--name", "bad name!", "--scope", "intake")
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: key name")
    assert (await cli("new-key", "--name", "x", "--scope", "root")).returncode == 2


async def test_a_burst_is_throttled_with_429_and_every_accepted_appeal_exists(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, api: Api
):
    settings = api_settings(api.task_queue, api_burst=3, api_rate_per_minute=6)
    async with served(dev_env.client, pool, settings) as (running, found):
        _, key = await found.keys.create("bursty", "intake")
        sent = [appeal() for _ in range(6)]
        async with httpx.AsyncClient(base_url=running.url, headers={"Authorization": f"Bearer {key}"}) as http:
            answers = [await http.post("/appeals", json=payload) for payload in sent]
        codes = [a.status_code for a in answers]
        assert codes == [201, 201, 201, 429, 429, 429], codes
        assert int(answers[3].headers["retry-after"]) >= 1 and "nothing was started" in answers[3].json()["error"]
        for payload, answer in zip(sent, answers, strict=True):
            exists = await _exists(dev_env.client, f"appeal-vk-{payload['external_id']}")
            assert exists == (answer.status_code == 201)


def test_the_token_bucket_refills_at_its_rate():
    buckets = Buckets(per_minute=60, burst=2)
    assert [buckets.take("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert buckets.take("k", now=0.5) == pytest.approx(0.5)
    assert buckets.take("k", now=1.0) == 0.0 and buckets.take("other", now=1.0) == 0.0


async def _exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except Exception:
        return False
    return True


async def test_a_body_over_the_cap_is_413_and_starts_nothing(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, api: Api
):
    settings = api_settings(api.task_queue, api_max_body=2000, api_max_batch=2)
    async with served(dev_env.client, pool, settings) as (running, found):
        _, key = await found.keys.create("capped", "intake")
        headers = {"Authorization": f"Bearer {key}"}
        big = appeal(text="Снег " * 400)
        async with httpx.AsyncClient(base_url=running.url, headers=headers) as http:
            declared = await http.post("/appeals", json=big)
            chunked = await http.post("/appeals", content=_chunks(big), headers={"content-type": "application/json"})
            many = await http.post("/appeals", json=[appeal(), appeal(), appeal()])
        assert declared.status_code == chunked.status_code == 413, (declared.text, chunked.text)
        assert "APPEALS_API_MAX_BODY" in declared.json()["error"]
        assert many.status_code == 413 and "at most 2" in many.json()["error"]
        assert not await _exists(dev_env.client, f"appeal-vk-{big['external_id']}")


async def _chunks(payload: dict[str, Any]) -> Any:
    data = json.dumps(payload, ensure_ascii=False).encode()
    for start in range(0, len(data), 500):
        yield data[start : start + 500]


async def test_the_access_log_has_no_personal_data(api: Api):
    payload = appeal(author={"name": "Пётр Сидоров", "contact": "sidorov@example.ru"}, address="ул. Мира, 12")
    with captured("appeals.api.access") as out, captured("uvicorn.access") as uvicorn_out:
        intake = api.client("intake")
        assert (await intake.post("/appeals", json=payload)).status_code == 201
        await intake.close()
        operator = api.client()
        workflow_id = f"appeal-vk-{payload['external_id']}"
        await operator.get(f"/appeals/{workflow_id}")
        await operator.get("/appeals", params={"executor": "perm-roads@gorodperm.ru", "category": "Сидоров"})
        await operator.get("/appeals/Пётр Сидоров")
        assert (await operator.get("/Пётр Сидоров", check=False)).status_code == 404
        assert (await operator.get("/openapi.json", check=False)).status_code == 200
        await operator.close()
    lines = out.getvalue()
    assert f'"path": "/appeals/{workflow_id}"' in lines and '"key": "test-intake"' in lines
    assert '"route": "/appeals/{workflow_id:path}"' in lines and '"status": 201' in lines
    assert '"path": "/openapi.json"' in lines and '"path": "(no such route)"' in lines
    for secret in ("Сидоров", "sidorov", "Мира", "perm-roads", "снег", api.operator_key, api.intake_key):
        assert secret.lower() not in lines.lower(), secret
    assert uvicorn_out.getvalue() == ""


async def test_health_is_503_when_postgres_or_temporal_is_unreachable(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, api: Api
):
    closed = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    await closed.close()
    async with served(dev_env.client, closed, api_settings(api.task_queue)) as (running, _):
        async with httpx.AsyncClient(base_url=running.url) as http:
            answer = await http.get("/healthz")
    assert answer.status_code == 503 and answer.json() == {
        "status": "unavailable",
        "temporal": "ok",
        "postgres": "unreachable",
    }
    nowhere = await Client.connect("127.0.0.1:1", lazy=True)
    async with served(nowhere, pool, api_settings(api.task_queue)) as (running, _):
        async with httpx.AsyncClient(base_url=running.url) as http:
            answer = await http.get("/healthz")
    assert answer.status_code == 503 and answer.json()["temporal"] == "unreachable"
    assert answer.json()["postgres"] == "ok"


class Exploding:
    """A Temporal client that fails in a way nobody foresaw, with personal data in the message."""

    def list_workflows(self, *args: Any, **kwargs: Any) -> Any:
        raise LookupError("Пётр Сидоров, +7 912 000-00-00")


async def test_an_unforeseen_error_is_a_plain_500_and_logs_no_personal_data(pool: asyncpg.Pool, api: Api):
    async with served(Exploding(), pool, api_settings(api.task_queue)) as (running, found):  # type: ignore[arg-type]
        _, key = await found.keys.create("exploding", "operator")
        with captured("appeals.api") as out:
            async with httpx.AsyncClient(base_url=running.url, headers={"Authorization": f"Bearer {key}"}) as http:
                answer = await http.get("/appeals", params={"channel": "vk"})
    assert answer.status_code == 500
    assert answer.json()["error"] == "internal error (LookupError); nothing is lost: retry"
    logged = out.getvalue()
    assert '"error": "LookupError"' in logged and '"status": 500' in logged
    assert "Сидоров" not in logged and "912" not in logged
