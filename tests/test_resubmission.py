"""Resubmitting an external id never drops content: the starter's outcomes, against a stand-in client.

The stand-in answers exactly the calls `starter.submit` makes (start, query, describe, signal);
the real server is exercised in tests/test_appealctl_live.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from appeals.models import AppealInput
from starter import InvalidAppeal, Outcome, Submission, parse_batch, submit, submit_many

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


@dataclass
class Handle:
    server: Server
    workflow_id: str

    async def query(self, name: str, **_: Any) -> Any:
        assert name == "get_state"
        if self.server.query_fails:
            raise WorkflowQueryFailedError("no worker answered")
        return SimpleNamespace(appeal=self.server.started[self.workflow_id])

    async def describe(self, **_: Any) -> Any:
        return SimpleNamespace(status=self.server.status)

    async def signal(self, name: str, arg: Any) -> None:
        if self.server.closes_before_signal:
            raise RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")
        self.server.signals.append((self.workflow_id, name, arg))


@dataclass
class Server:
    """A stand-in for the Temporal client: remembers starts, refuses a second start of an id."""

    started: dict[str, AppealInput] = field(default_factory=dict)
    signals: list[tuple[str, str, Any]] = field(default_factory=list)
    starts: list[dict[str, Any]] = field(default_factory=list)
    status: WorkflowExecutionStatus = WorkflowExecutionStatus.RUNNING
    query_fails: bool = False
    closes_before_signal: bool = False

    async def start_workflow(self, workflow: str, arg: AppealInput, *, id: str, **options: Any) -> None:
        if id in self.started:
            raise WorkflowAlreadyStartedError(id, workflow)
        self.started[id] = arg
        self.starts.append(options)

    def get_workflow_handle(self, workflow_id: str) -> Handle:
        return Handle(self, workflow_id)


async def test_a_new_appeal_is_created_with_a_summary_free_of_personal_data() -> None:
    server = Server()

    done = await submit(server, appeal(), task_queue="q")  # type: ignore[arg-type]

    assert done == Submission("appeal-vk-wall-1", Outcome.created) and done.created
    assert server.starts[0]["memo"] == {"summary": "[vk] snow_removal / Пермь"}
    assert server.starts[0]["static_summary"] == "[vk] snow_removal / Пермь"


async def test_the_same_content_again_is_already_submitted() -> None:
    server = Server()
    await submit(server, appeal(), task_queue="q")  # type: ignore[arg-type]

    same_moment = appeal(received_at="2026-11-29T04:00:00Z")
    done = await submit(server, same_moment, task_queue="q")  # type: ignore[arg-type]

    assert done.outcome is Outcome.already_submitted and not done.refused
    assert server.signals == []
    assert "already submitted" in done.describe()


async def test_different_content_for_a_running_appeal_is_recorded_by_the_resubmitted_signal() -> None:
    server = Server()
    await submit(server, appeal(), task_queue="q")  # type: ignore[arg-type]
    changed = appeal(text="Снег так и не вывезли.", address="Пермь, ул. Ленина, 50")

    done = await submit(server, changed, task_queue="q")  # type: ignore[arg-type]

    assert done.outcome is Outcome.changes_recorded and done.changes == ("text", "address")
    assert server.signals == [("appeal-vk-wall-1", "resubmitted", changed)]
    assert done.describe() == (
        "appeal-vk-wall-1 already exists with different content: "
        "changes to text, address were recorded against it for an operator"
    )


@pytest.mark.parametrize("race", [False, True])
async def test_different_content_for_a_closed_appeal_is_refused_and_says_so(race: bool) -> None:
    server = Server()
    await submit(server, appeal(), task_queue="q")  # type: ignore[arg-type]
    server.status = WorkflowExecutionStatus.RUNNING if race else WorkflowExecutionStatus.COMPLETED
    server.closes_before_signal = race

    done = await submit(server, appeal(text="Снег так и не вывезли."), task_queue="q")  # type: ignore[arg-type]

    assert done.outcome is Outcome.closed and done.refused and done.changes == ("text",)
    assert "is closed" in done.describe() and "was not recorded" in done.describe()
    assert server.signals == []


async def test_when_the_existing_appeal_cannot_be_read_nothing_is_pretended() -> None:
    server = Server()
    await submit(server, appeal(), task_queue="q")  # type: ignore[arg-type]
    server.query_fails = True

    done = await submit(server, appeal(text="Другой текст."), task_queue="q")  # type: ignore[arg-type]

    assert done.outcome is Outcome.unverified and done.refused
    assert "could not be compared (no worker answered)" in done.describe()


async def test_submit_many_refuses_two_versions_of_one_id_before_starting_anything() -> None:
    server = Server()
    batch = [appeal(external_id="a"), appeal(external_id="b"), appeal(external_id="a", text="Другой текст.")]

    with pytest.raises(InvalidAppeal) as refused:
        await submit_many(server, batch)  # type: ignore[arg-type]

    assert refused.value.problems == ["item 1 and item 3: two versions of appeal-vk-a (they differ in text)"]
    assert server.started == {}


async def test_submit_many_starts_an_exact_repeat_once_and_answers_for_both() -> None:
    server = Server()
    seen: list[Submission] = []
    batch = [appeal(external_id="a"), appeal(external_id="b"), appeal(external_id="a")]

    done = await submit_many(server, batch, on_done=seen.append)  # type: ignore[arg-type]

    assert [s.workflow_id for s in done] == ["appeal-vk-a", "appeal-vk-b", "appeal-vk-a"]
    assert all(s.created for s in done) and len(seen) == 2 and len(server.starts) == 2


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
