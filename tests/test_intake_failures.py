"""Nothing drops out of sight: a start that cannot run fails at once and is recorded; a signal
that cannot be used is refused in the timeline; an action never waits for a notification."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from appeals.models import AppealStatus, AskCitizen, Recipient, Redirect
from appeals.state import AppealState
from stack import intake_watch
from stack.settings import Settings
from tests.conftest import eventually, free_port, make_appeal, running_worker
from workflows.appeal import AppealWorkflow

pytestmark = pytest.mark.e2e


def raw_fields(**overrides: Any) -> dict[str, Any]:
    appeal = make_appeal(datetime.now(UTC)).model_dump(mode="json")
    appeal.update(overrides)
    return appeal


async def start_raw(client: Client, task_queue: str, workflow_id: str, arg: Any):
    return await client.start_workflow("AppealWorkflow", arg, id=workflow_id, task_queue=task_queue)


async def task_attempt(client: Client, workflow_id: str) -> int:
    described = await client.get_workflow_handle(workflow_id).describe()
    pending = described.raw_description.pending_workflow_task
    return pending.attempt if described.raw_description.HasField("pending_workflow_task") else 0


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ({"text": None}, "text"),  # a wrong type
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"received_at": "0001-01-01T00:00:00+00:00"}, "received_at"),
        ({"received_at": "2100-01-01T00:00:00+00:00"}, "received_at"),  # decodes; the workflow refuses it
        ({"author": {}}, "author"),
    ],
)
async def test_a_start_that_cannot_run_fails_at_once_and_is_recorded(dev_env, pool, task_queue, case, named):
    client = dev_env.client
    fields = raw_fields(**case)
    workflow_id = f"appeal-vk-{fields['external_id']}"
    since = datetime.now(UTC) - timedelta(minutes=1)
    async with running_worker(client, pool, task_queue):
        handle = await start_raw(client, task_queue, workflow_id, fields)
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), 20)
        assert await task_attempt(client, workflow_id) == 0  # failed, not retrying a task
        recorded = await eventually(lambda: intake_watch.record_failed(client, pool, since, task_queue))
    assert workflow_id in recorded
    row = await pool.fetchrow("SELECT reason, workflow_type FROM failed_intakes WHERE workflow_id = $1", workflow_id)
    assert row["workflow_type"] == "AppealWorkflow"
    assert named in row["reason"] and "\n" not in row["reason"]
    assert "Мария" not in row["reason"] and "input_value" not in row["reason"]
    assert await pool.fetchval("SELECT count(*) FROM appeals WHERE workflow_id = $1", workflow_id) == 0
    # Seen once: a second look records nothing new.
    assert workflow_id not in await intake_watch.record_failed(client, pool, since, task_queue)


async def test_signals_that_cannot_be_used_are_refused_in_the_timeline(dev_env, pool, task_queue):
    client = dev_env.client
    appeal = make_appeal(datetime.now(UTC))
    async with running_worker(client, pool, task_queue):
        handle = await client.start_workflow(AppealWorkflow.run, appeal, id=appeal.workflow_id, task_queue=task_queue)

        async def routed() -> AppealState | None:
            state = await handle.query(AppealWorkflow.get_state)
            return state if state.executor is not None else None

        await eventually(routed)
        await handle.signal("citizen_replied", {"txt": "не та форма"})
        await handle.signal(
            "join_incident", {"incident_id": "pothole-1", "title": "Яма", "committed_date": "2031-06-01"}
        )
        await handle.signal(
            "join_incident", {"incident_id": "pothole-2", "title": "Яма", "committed_date": "2020-01-15"}
        )
        await handle.signal("incident_answered", "not even an object")

        async def refusals() -> list[Any]:
            timeline = await handle.query(AppealWorkflow.get_timeline)
            found = [e for e in timeline if e.kind == "signal_refused"]
            return found if len(found) == 4 else []

        refused = await eventually(refusals)
        state = await handle.query(AppealWorkflow.get_state)
        assert await task_attempt(client, appeal.workflow_id) <= 1
    reasons = [e.data["reason"] for e in refused]
    assert "text: Field required" in reasons[0] and "txt" in reasons[0]
    assert "2031-06-01 is more than 366 days ahead" in reasons[1]
    assert "2020-01-15 is not in the future" in reasons[2]
    assert [e.data["signal"] for e in refused] == [
        "citizen_replied",
        "join_incident",
        "join_incident",
        "incident_answered",
    ]
    assert state.incident_id is None and state.commitment is None and state.status != AppealStatus.closed
    stored = await pool.fetchval(
        "SELECT count(*) FROM appeal_events WHERE workflow_id = $1 AND kind = 'signal_refused'", appeal.workflow_id
    )
    assert stored == 4


async def test_actions_never_wait_for_a_notification_endpoint_that_is_down(dev_env, pool, task_queue):
    client = dev_env.client
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: every delivery fails and retries
    settings = replace(Settings(), notifier="webhook", webhook_url=down, webhook_secret="s" * 32)
    appeal = make_appeal(datetime.now(UTC))
    async with running_worker(client, pool, task_queue, settings):
        began = time.monotonic()
        handle = await client.start_workflow(AppealWorkflow.run, appeal, id=appeal.workflow_id, task_queue=task_queue)

        async def routed() -> AppealState | None:
            state = await handle.query(AppealWorkflow.get_state)
            return state if state.status == AppealStatus.awaiting_acknowledgment else None

        assert await eventually(routed, timeout=5), "routing waited for the 'assigned' notification"
        timings = []
        for update, action in [
            (
                AppealWorkflow.redirect,
                Redirect(by="ivanov", to=Recipient(role="executor", address="roads@perm"), reason="Дороги не наши"),
            ),
            (AppealWorkflow.ask_citizen, AskCitizen(by="roads", question="Уточните номер дома, пожалуйста")),
        ]:
            began = time.monotonic()
            await asyncio.wait_for(handle.execute_update(update, action), 5)
            timings.append(time.monotonic() - began)

        async def retried() -> list[Any]:
            rows = await pool.fetch(
                "SELECT kind, status, attempts, last_error FROM notifications WHERE workflow_id = $1",
                appeal.workflow_id,
            )
            return rows if rows and all(r["attempts"] >= 1 for r in rows) else []

        rows = await eventually(retried)
    assert max(timings) < 5
    # The deliveries are kept and retried by the worker, not dropped, and not waited for.
    assert {r["kind"] for r in rows} >= {"assigned", "redirected", "question"}
    assert all(r["status"] == "pending" and r["last_error"] == "connection refused" for r in rows), rows


@pytest.mark.parametrize("args", [[], ["one", "two"]], ids=["no input", "two inputs"])
async def test_a_start_with_the_wrong_number_of_inputs_fails_at_once(dev_env, pool, task_queue, args):
    client = dev_env.client
    workflow_id = f"appeal-vk-args-{len(args)}-{time.time_ns()}"
    async with running_worker(client, pool, task_queue):
        handle = await client.start_workflow("AppealWorkflow", args=args, id=workflow_id, task_queue=task_queue)
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), 20)
        assert await task_attempt(client, workflow_id) == 0
