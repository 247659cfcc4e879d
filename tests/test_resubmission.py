"""Resubmitting an external id never drops content: the starter's outcomes on the real dev
server with a real worker and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appeals.models import AppealInput
from starter import InvalidAppeal, Outcome, Submission, parse_batch, submit, submit_many
from tests.conftest import eventually, running_worker

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
BASE: dict[str, Any] = {
    "channel": "vk",
    "external_id": "wall-1",
    "text": "Не вывозят снег во дворе.",
    "author": {"name": "Мария"},
    "received_at": "2026-11-29T09:00:00+05:00",
    "category": "snow_removal",
    "municipality": "Пермь",
}


def appeal(**changes: Any) -> AppealInput:
    return AppealInput.model_validate(BASE | changes)


def fresh(**changes: Any) -> AppealInput:
    """An appeal received a minute ago, under an id no other test uses."""
    received = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return appeal(**({"external_id": f"wall-{uuid.uuid4().hex[:10]}", "received_at": received} | changes))


async def kinds(pool, workflow_id: str) -> list[str]:
    rows = await pool.fetch("SELECT kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", workflow_id)
    return [r["kind"] for r in rows]


async def test_resubmissions_on_the_dev_server(dev_env, pool, task_queue) -> None:
    client = dev_env.client
    first = fresh()
    async with running_worker(client, pool, task_queue):
        created = await submit(client, first, task_queue=task_queue)
        assert created == Submission(first.workflow_id, Outcome.created) and created.created
        described = await client.get_workflow_handle(first.workflow_id).describe()
        assert "Мария" not in str(await described.memo()) and "снег" not in str(await described.memo())
        await eventually(lambda: kinds(pool, first.workflow_id))

        # The same content (the same instant in another offset) is already submitted: nothing sent.
        same_moment = first.model_copy(update={"received_at": first.received_at.astimezone(UTC)})
        again = await submit(client, same_moment, task_queue=task_queue)
        assert again.outcome is Outcome.already_submitted and not again.refused

        # Different content is recorded against the running appeal for an operator.
        changed = first.model_copy(update={"text": "Снег так и не вывезли.", "address": "Пермь, ул. Ленина, 50"})
        done = await submit(client, changed, task_queue=task_queue)
        assert done.outcome is Outcome.changes_recorded and done.changes == ("text", "address")
        assert done.describe() == (
            f"{first.workflow_id} already exists with different content: "
            "changes to text, address were recorded against it for an operator"
        )

        async def recorded() -> Any:
            return await pool.fetchrow(
                "SELECT data FROM appeal_events WHERE workflow_id = $1 AND kind = 'resubmitted'", first.workflow_id
            )

        row = await eventually(recorded)
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        assert data["changed"] == ["address", "text"] and data["content"]["text"] == "Снег так и не вывезли."

        # Once closed, different content is refused and says so; nothing is recorded.
        await client.get_workflow_handle(first.workflow_id).terminate("test: closed")
        late = await submit(client, first.model_copy(update={"text": "Ещё раз про снег."}), task_queue=task_queue)
        assert late.outcome is Outcome.closed and late.refused
        assert "is closed" in late.describe() and "was not recorded" in late.describe()


async def test_submit_many_refuses_two_versions_of_one_id_before_starting_anything(dev_env, task_queue) -> None:
    a, b = fresh(), fresh()
    batch = [a, b, a.model_copy(update={"text": "Другой текст."})]

    with pytest.raises(InvalidAppeal) as refused:
        await submit_many(dev_env.client, batch, task_queue=task_queue)

    assert refused.value.problems == [f"item 1 and item 3: two versions of {a.workflow_id} (they differ in text)"]
    listed = [w async for w in dev_env.client.list_workflows(f'WorkflowId="{a.workflow_id}"')]
    assert listed == []


async def test_submit_many_starts_an_exact_repeat_once_and_answers_for_both(dev_env, pool, task_queue) -> None:
    a, b = fresh(), fresh()
    seen: list[Submission] = []
    async with running_worker(dev_env.client, pool, task_queue):
        done = await submit_many(dev_env.client, [a, b, a], on_done=seen.append, task_queue=task_queue)
        assert [s.workflow_id for s in done] == [a.workflow_id, b.workflow_id, a.workflow_id]
        assert all(s.created for s in done) and len(seen) == 2


def test_a_batch_with_two_versions_of_one_id_is_refused_naming_both_lines() -> None:
    lines = [
        json.dumps(BASE | {"external_id": "a"}),
        json.dumps(BASE | {"external_id": "b"}),
        "",
        json.dumps(BASE | {"external_id": "a", "author": {"name": "Пётр"}}),
    ]

    with pytest.raises(InvalidAppeal) as refused:
        parse_batch(lines, now=NOW)

    assert str(refused.value) == (
        "batch refused: line 1 and line 4: two versions of appeal-vk-a (they differ in author.name)"
    )


def test_a_batch_keeps_an_exact_repeat_once() -> None:
    lines = [json.dumps(BASE | {"external_id": "a"}), json.dumps(BASE | {"external_id": "b"})] * 2

    assert [a.external_id for a in parse_batch(lines, now=NOW)] == ["a", "b"]
