"""The Prometheus endpoint: the SDK's metrics and the engine's, scraped over HTTP."""

from __future__ import annotations

import asyncio

import aiohttp
from temporalio.testing import WorkflowEnvironment

from appeals.models import Acknowledge, SubmitAnswer
from devstack import binaries
from stack import metrics, search_attributes
from stack.client import DATA_CONVERTER
from stack.settings import Settings
from tests.conftest import eventually, free_port, make_appeal, running_worker
from tests.scenarios import FORMAL_TEXT, answer_and_publish, start, to_monday_morning, wait_for
from workflows.appeal import AppealWorkflow
from workflows.metrics import DESCRIPTIONS


async def scrape(port: int) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        return await response.text()


def value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def engine_series(text: str) -> dict[str, float]:
    """The engine's own samples as `name{labels}`, without the labels every sample carries."""
    common = {"namespace", "service_name", "task_queue", "workflow_type"}
    found: dict[str, float] = {}
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if line.startswith("#") or name not in (*DESCRIPTIONS, "appeals_open"):
            continue
        labels, _, sample = rest.rpartition("} ")
        own = ",".join(pair for pair in labels.split(",") if pair.split("=", 1)[0] not in common)
        found[f"{name}{{{own}}}"] = float(sample)
    return found


async def test_the_worker_exports_engine_and_sdk_metrics(pool, task_queue):
    port = free_port()
    rt = metrics.runtime(port)
    assert rt is not None
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=binaries.temporal_test_server(), runtime=rt
    )
    try:
        await search_attributes.add(env.client, search_attributes.ALL)
        async with running_worker(env.client, pool, task_queue):
            gauge = asyncio.create_task(metrics.export_open_appeals(rt, pool, every=0.2))
            monday = await to_monday_morning(env)
            handle = await start(env.client, task_queue, make_appeal(monday, channel="telegram"))
            await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
            await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="ivanov", text=FORMAL_TEXT))
            await wait_for(handle, lambda s: s.status == "rework")
            await answer_and_publish(handle)
            # The gauge counts every open appeal in the database (other tests' too): it must show exactly
            # what its query sees once this appeal's row says "answered" (stored just after publication).
            stored = "SELECT status = 'answered' AND closed_at IS NULL FROM appeals WHERE workflow_id = $1"
            assert await eventually(lambda: pool.fetchval(stored, handle.id)) is True
            open_now = {r["status"]: r["n"] for r in await pool.fetch(metrics.OPEN_BY_STATUS)}
            expected = {
                'appeals_started{channel="telegram"}': 1.0,
                'appeals_acknowledged{within_sla="True"}': 1.0,
                'formal_answers_returned{by="automatic"}': 1.0,
                'appeals_answered{within_sla="True"}': 1.0,
                **{f'appeals_open{{status="{status}"}}': float(n) for status, n in open_now.items()},
            }

            def observed(text: str) -> dict[str, float]:
                """The samples, less the gauge's zeros: it keeps reporting a status it saw once."""
                return {k: v for k, v in engine_series(text).items() if v or not k.startswith("appeals_open{")}

            async def settled() -> str | None:
                text = await scrape(port)
                return text if observed(text) == expected else None

            text = await eventually(settled) or await scrape(port)
            gauge.cancel()
            await handle.terminate("test over")
    finally:
        await env.shutdown()

    # Exactly these series, each counted once: nothing breached, escalated or returned by a moderator.
    assert observed(text) == expected
    assert value(text, "appeals_open", status="answered") == open_now["answered"]
    # Every counter sample is this worker's and this workflow type's.
    counted = [line for line in text.splitlines() if line.split("{", 1)[0] in DESCRIPTIONS]
    assert len(counted) == 4
    assert all(f'task_queue="{task_queue}"' in line and 'workflow_type="AppealWorkflow"' in line for line in counted)
    assert "temporal_workflow_task_execution_latency" in text or "temporal_request" in text  # the SDK's own


# --- where the endpoint listens ---------------------------------------------------------------


async def reachable(host: str, port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session,
            session.get(f"http://{host}:{port}/metrics") as response,
        ):
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def test_the_endpoint_listens_on_localhost_only_by_default():
    port = free_port()
    rt = metrics.runtime(port)
    assert rt is not None

    assert await reachable("127.0.0.1", port)
    # 127.0.0.2 is this machine too, but another address: a socket on 127.0.0.1 alone refuses it,
    # as it refuses every other interface. One on 0.0.0.0 would answer.
    assert not await reachable("127.0.0.2", port)


async def test_the_endpoint_listens_where_configured():
    port = free_port()
    rt = metrics.runtime(port, host="127.0.0.2")
    assert rt is not None

    assert await reachable("127.0.0.2", port)
    assert not await reachable("127.0.0.1", port)


def test_the_default_host_is_localhost_and_ipv6_is_bracketed(monkeypatch):
    monkeypatch.delenv("APPEALS_METRICS_HOST", raising=False)

    assert Settings().metrics_host == "127.0.0.1"
    assert metrics.bind_address(9464) == "127.0.0.1:9464"
    assert metrics.bind_address(9464, "0.0.0.0") == "0.0.0.0:9464"
    assert metrics.bind_address(9464, "::1") == "[::1]:9464"
    assert metrics.bind_address(9464, "[::]") == "[::]:9464"
    monkeypatch.setenv("APPEALS_METRICS_HOST", "0.0.0.0")
    assert Settings().metrics_host == "0.0.0.0"
