"""End to end on the Temporal dev server and real PostgreSQL: intake through `starter.py`
(a real subprocess), the worker, the rows, the search attributes, and idempotency."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from temporalio.client import WorkflowFailureError

from appeals.models import Acknowledge, Recipient, Redirect, Refute, SubmitAnswer
from appeals.state import AppealResult
from devstack import binaries
from stack.settings import Settings
from starter import submit
from tests.conftest import events, eventually, make_appeal, run_script, running_worker
from tests.scenarios import FORMAL_TEXT, answer_and_publish, good_answer, wait_for
from workflows.appeal import AppealWorkflow

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

pytestmark = pytest.mark.e2e


@pytest.fixture
def quick_feedback(tmp_path: Path) -> Settings:
    """The shipped config, but the citizen's feedback window is 3 seconds: the dev server runs
    in real time, and the appeal closes only when the window has passed."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    sla = config / "sla.toml"
    sla.write_text(sla.read_text().replace('feedback_window = "2 calendar days"', 'feedback_window = "0.05 minutes"'))
    return replace(Settings(), config_dir=config)


def run_starter(address: str, task_queue: str, *args: str, stdin: str | None = None):
    return run_script("starter.py", address, task_queue, *args, stdin=stdin)


async def count(client, query: str) -> int:
    return len([w async for w in client.list_workflows(query)])


async def test_appeal_from_starter_cli_to_postgres_and_visibility(dev_env, pool, task_queue, quick_feedback):
    client = dev_env.client
    address = client.service_client.config.target_host
    appeal = make_appeal(datetime.now(UTC), channel="telegram", priority="high")
    payload = appeal.model_dump_json()

    async with running_worker(client, pool, task_queue, quick_feedback):
        first = await asyncio.to_thread(run_starter, address, task_queue, "submit", "-", stdin=payload)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == appeal.workflow_id

        again = await asyncio.to_thread(run_starter, address, task_queue, "submit", "-", stdin=payload)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(appeal.workflow_id) and "already submitted" in again.stdout

        row = await eventually(
            lambda: pool.fetchrow(
                "SELECT * FROM appeals WHERE workflow_id = $1 AND status = 'awaiting_acknowledgment'",
                appeal.workflow_id,
            )
        )
        assert row is not None, "the projection row never reached awaiting_acknowledgment"
        assert row["executor"] == "perm-roads@gorodperm.ru"
        assert row["channel"] == "telegram" and row["priority"] == "high"

        query = (
            f'WorkflowId = "{appeal.workflow_id}" AND AppealStatus = "awaiting_acknowledgment" '
            'AND AppealChannel = "telegram" AND Executor = "perm-roads@gorodperm.ru" '
            "AND SlaBreached = false AND EscalationLevel = 0"
        )
        assert await eventually(lambda: count(client, query)) == 1
        # Exactly one workflow run for the id, however often it was submitted.
        assert await count(client, f'WorkflowId = "{appeal.workflow_id}"') == 1

        handle = client.get_workflow_handle(appeal.workflow_id, result_type=AppealResult)
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        answered_query = f'WorkflowId = "{appeal.workflow_id}" AND AppealStatus = "in_progress"'
        assert await eventually(lambda: count(client, answered_query)) == 1
        await answer_and_publish(handle)
        result = await handle.result()
        assert result.status == "closed" and not result.sla_breached

        closed_query = f'WorkflowId = "{appeal.workflow_id}" AND AppealStatus = "closed"'
        assert await eventually(lambda: count(client, closed_query)) == 1
        kinds = [
            r["kind"]
            for r in await pool.fetch(
                "SELECT kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq",
                appeal.workflow_id,
            )
        ]
        assert kinds == [
            "registered",
            "routed",
            "acknowledged",
            "answered",
            "sent_to_moderation",
            "answer_accepted",
            "published",
            "closed",
        ]
        # Re-submitting a closed appeal still finds it and starts nothing.
        late = await asyncio.to_thread(run_starter, address, task_queue, "submit", "-", stdin=payload)
        assert "already submitted" in late.stdout
        assert await count(client, f'WorkflowId = "{appeal.workflow_id}"') == 1


async def test_overdue_appeal_is_found_by_the_operators_filter(dev_env, pool, task_queue):
    client = dev_env.client
    address = client.service_client.config.target_host
    # Received yesterday: both clocks of the social policy are already overdue.
    appeal = make_appeal(datetime(2026, 1, 1, 9, 0, tzinfo=UTC).replace(year=datetime.now(UTC).year - 1))
    async with running_worker(client, pool, task_queue):
        done = await asyncio.to_thread(run_starter, address, task_queue, "submit", "-", stdin=appeal.model_dump_json())
        assert done.returncode == 0, done.stderr
        query = (
            f'WorkflowId = "{appeal.workflow_id}" AND SlaBreached = true AND AppealStatus = "awaiting_acknowledgment"'
        )
        assert await eventually(lambda: count(client, query)) == 1
        handle = client.get_workflow_handle(appeal.workflow_id)
        await handle.terminate("test over")


async def test_batch_submits_all_or_nothing(dev_env, pool, task_queue, tmp_path):
    client = dev_env.client
    address = client.service_client.config.target_host
    now = datetime.now(UTC)
    appeals = [make_appeal(now, channel="ok") for _ in range(12)]
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(a.model_dump_json() for a in appeals) + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(appeals[0].model_dump_json() + "\n" + json.dumps({"channel": "fax"}) + "\n")

    async with running_worker(client, pool, task_queue):
        refused = await asyncio.to_thread(run_starter, address, task_queue, "batch", str(bad))
        assert refused.returncode == 2
        assert "line 2: channel:" in refused.stderr and "line 2: text: Field required" in refused.stderr
        assert await count(client, f'WorkflowId = "{appeals[0].workflow_id}"') == 0

        submitted = await asyncio.to_thread(run_starter, address, task_queue, "batch", str(good))
        assert submitted.returncode == 0, submitted.stderr
        assert "12/12 submitted" in submitted.stderr
        assert "12 new, 0 already existed" in submitted.stdout
        resubmitted = await asyncio.to_thread(run_starter, address, task_queue, "batch", str(good))
        assert "0 new, 12 already existed" in resubmitted.stdout
        ids = ", ".join(f'"{a.workflow_id}"' for a in appeals)
        assert await eventually(lambda: count(client, f'WorkflowId IN ({ids}) AND AppealChannel = "ok"')) == 12
        for a in appeals:
            await client.get_workflow_handle(a.workflow_id).terminate("test over")


async def test_an_intake_service_in_another_language_starts_an_appeal(dev_env, pool, task_queue, tmp_path):
    """The `temporal` CLI is a Go program: it starts AppealWorkflow from plain JSON, as a Go
    intake service would with its own SDK."""
    client = dev_env.client
    address = client.service_client.config.target_host
    appeal = make_appeal(datetime.now(UTC), channel="website", category="heating")
    (tmp_path / "appeal.json").write_text(appeal.model_dump_json())
    async with running_worker(client, pool, task_queue):
        started = await asyncio.to_thread(
            subprocess.run,
            [
                binaries.temporal_cli(),
                "workflow",
                "start",
                "--address",
                address,
                "--type",
                "AppealWorkflow",
                "--task-queue",
                task_queue,
                "--workflow-id",
                appeal.workflow_id,
                "--input-file",
                str(tmp_path / "appeal.json"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert started.returncode == 0, started.stderr
        handle = client.get_workflow_handle(appeal.workflow_id)
        state = await eventually(lambda: _routed(handle))
        assert state.executor.address == "housing-inspection@permkrai.ru"
        assert state.policy == "website-winter-urgent"  # heating on the website: 3 working days
        await handle.terminate("test over")


async def _routed(handle):
    state = await handle.query(AppealWorkflow.get_state)
    return state if state.executor else None


async def test_a_start_under_a_non_canonical_id_fails_with_the_reason(dev_env, pool, task_queue, tmp_path):
    client = dev_env.client
    appeal = make_appeal(datetime.now(UTC))
    async with running_worker(client, pool, task_queue):
        handle = await client.start_workflow(
            "AppealWorkflow", appeal, id=f"my-own-id-{appeal.external_id}", task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert f"start it as '{appeal.workflow_id}'" in str(failed.value.cause)
    assert await pool.fetchval("SELECT count(*) FROM appeals WHERE external_id = $1", appeal.external_id) == 0


async def test_the_full_path_redirect_rework_publication_refutation_and_closure(
    dev_env, pool, task_queue, quick_feedback
):
    """The lifecycle of issue 4 end to end on the dev server, in real time."""
    client = dev_env.client
    appeal = make_appeal(datetime.now(UTC), category="roads")
    async with running_worker(client, pool, task_queue, quick_feedback):
        submission = await submit(client, appeal, task_queue=task_queue)
        handle = client.get_workflow_handle(submission.workflow_id, result_type=AppealResult)
        await wait_for(handle, lambda s: s.executor is not None)
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        roads = Recipient(role="executor", address="perm-dorogi@gorodperm.ru")
        await handle.execute_update(
            AppealWorkflow.redirect,
            Redirect(by="ivanov", to=roads, reason="Дорога на балансе МКУ «Пермблагоустройство»"),
        )
        await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="petrov", text=FORMAL_TEXT))
        await wait_for(handle, lambda s: s.status == "rework")
        await answer_and_publish(handle, good_answer("petrov"))
        await handle.execute_update(AppealWorkflow.refute, Refute(by="citizen", reason="Яма так и осталась у подъезда"))
        await wait_for(handle, lambda s: s.status == "in_progress" and s.cycle == 2)
        await answer_and_publish(handle, good_answer("petrov"))
        result = await asyncio.wait_for(handle.result(), 30)
        history = await handle.fetch_history()

    assert result.status == "closed"
    kinds = await events(pool, handle.id)
    assert kinds == [
        "registered",
        "routed",
        "acknowledged",
        "redirected",
        "answered",
        "answer_returned",
        "answered",
        "sent_to_moderation",
        "answer_accepted",
        "published",
        "reopened",
        "answered",
        "sent_to_moderation",
        "answer_accepted",
        "published",
        "closed",
    ]
    assert await pool.fetchval("SELECT count(*) FROM publications WHERE workflow_id = $1", handle.id) == 2
    row = await pool.fetchrow(
        "SELECT executor, formal_rejections, redirects, cycle FROM appeals WHERE workflow_id = $1", handle.id
    )
    assert (row["executor"], row["formal_rejections"], row["redirects"], row["cycle"]) == (roads.address, 1, 1, 2)
    print(f"full path: {len(history.events)} history events")
