"""`appealctl.py` against the dev server: submit, show, act, overdue, incidents — as a person
would type them, with plain errors and no tracebacks. Tables in Russian by default, in English with
APPEALS_LANGUAGE=en; the errors are English."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import eventually, make_appeal, run_script, running_worker

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def appealctl(address: str, task_queue: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_script("appealctl.py", address, task_queue, *args, stdin=stdin)


async def test_an_operator_session(dev_env, pool, task_queue, tmp_path, monkeypatch):
    monkeypatch.delenv("APPEALS_LANGUAGE", raising=False)  # the default: Russian
    address = dev_env.client.service_client.config.target_host
    run = lambda *args, stdin=None: asyncio.to_thread(appealctl, address, task_queue, *args, stdin=stdin)  # noqa: E731
    fresh = make_appeal(datetime.now(UTC), category="roads", address="Пермь, ул. Мира, 12")
    overdue = make_appeal(datetime(2025, 11, 3, 9, 0, tzinfo=UTC))
    (tmp_path / "fresh.json").write_text(fresh.model_dump_json())
    async with running_worker(dev_env.client, pool, task_queue):
        submitted = await run("submit", str(tmp_path / "fresh.json"))
        assert submitted.returncode == 0 and submitted.stdout.strip() == fresh.workflow_id, submitted.stderr
        assert (await run("submit", "-", stdin=overdue.model_dump_json())).returncode == 0

        async def routed() -> bool:
            shown = await run("show", fresh.workflow_id, "--json")
            return shown.returncode == 0 and json.loads(shown.stdout)["state"]["executor"] is not None

        assert await eventually(routed)
        shown = await run("show", fresh.workflow_id)
        assert "[awaiting_acknowledgment]  цикл 1" in shown.stdout and "\nСроки SLA\n" in shown.stdout
        assert "\nисполнитель " in shown.stdout and "\nСобытия\n" in shown.stdout
        assert shown.stdout.split("Сроки SLA\n")[1].split()[:3] == ["срок", "цикл", "начат"]
        assert "+0500" in shown.stdout  # local Perm time
        monkeypatch.setenv("APPEALS_LANGUAGE", "en")
        english = await run("show", fresh.workflow_id)
        monkeypatch.delenv("APPEALS_LANGUAGE")
        assert "[awaiting_acknowledgment]  cycle 1" in english.stdout and "\nSLA timeline\n" in english.stdout
        assert "\nexecutor   " in english.stdout and "\nEvents\n" in english.stdout
        assert english.stdout.split("SLA timeline\n")[1].split()[:3] == ["clock", "cycle", "started"]

        acked = await run("act", fresh.workflow_id, "acknowledge", "by=ivanov")
        assert acked.returncode == 0 and "acknowledge: принято " in acked.stdout, acked.stderr
        assert "; статус in_progress" in acked.stdout
        again = await run("act", fresh.workflow_id, "acknowledge", "by=petrov")
        assert again.returncode == 2 and again.stderr.startswith("error: acknowledge refused: already acknowledged")
        wrong = await run(
            "act",
            fresh.workflow_id,
            "answer",
            "--input",
            '{"by": "x", "text": "Не наш вопрос.", "kind": "not_competent"}',
        )
        assert wrong.returncode == 2 and "must name who is responsible" in wrong.stderr
        unknown = await run("act", fresh.workflow_id, "approve")
        assert unknown.returncode == 2 and "unknown action 'approve'" in unknown.stderr

        async def listed() -> bool:
            found = await run("overdue", "--json")
            return overdue.workflow_id in {row["workflow_id"] for row in json.loads(found.stdout or "[]")}

        assert await eventually(listed)
        table = await run("overdue")
        assert table.stdout.split()[:2] == ["обращение", "статус"] and overdue.workflow_id in table.stdout
        monkeypatch.setenv("APPEALS_LANGUAGE", "en")
        table = await run("overdue")
        monkeypatch.delenv("APPEALS_LANGUAGE")
        assert table.stdout.split()[:2] == ["workflow_id", "status"] and overdue.workflow_id in table.stdout

        opened = await run(
            "incident",
            "open",
            "--id",
            f"pit-{task_queue}",
            "--title",
            "Яма у школы",
            "--category",
            "roads",
            "--address",
            "Пермь, ул. Мира, 12",
        )
        assert opened.returncode == 0, opened.stderr

        async def linked() -> bool:
            state = await run("incident", "show", f"pit-{task_queue}", "--json")
            return state.returncode == 0 and fresh.workflow_id in json.loads(state.stdout)["linked"]

        assert await eventually(linked)  # the suggestion rule: same category and address
        twice = await run(
            "incident",
            "open",
            "--id",
            f"pit-{task_queue}",
            "--title",
            "Яма у школы",
            "--category",
            "roads",
            "--address",
            "Пермь, ул. Мира, 12",
        )
        assert twice.returncode == 2 and "is already open" in twice.stderr and "Traceback" not in twice.stderr
        by_hand = await run("incident", "link", f"pit-{task_queue}", overdue.workflow_id)
        assert by_hand.returncode == 0 and "связано обращений: 2" in by_hand.stdout, by_hand.stderr
        incident = await run("incident", "show", f"pit-{task_queue}")
        assert incident.stdout.startswith(f"pit-{task_queue} [open] Яма у школы\nсвязанные обращения (2): ")
        missing = await run("show", "appeal-vk-nope")
        assert missing.returncode == 2 and "no appeal appeal-vk-nope" in missing.stderr
        for result in (again, wrong, unknown, missing):
            assert "Traceback" not in result.stderr
        for workflow_id in (fresh.workflow_id, overdue.workflow_id, f"incident-pit-{task_queue}"):
            await dev_env.client.get_workflow_handle(workflow_id).terminate("test over")


async def test_resubmitting_an_external_id_never_drops_the_new_content(dev_env, pool, task_queue, tmp_path):
    """Same content: already submitted. Other content: recorded against the running appeal by the
    `resubmitted` signal. Once closed: refused, exit 2, saying that nothing was recorded."""
    address = dev_env.client.service_client.config.target_host
    run = lambda *args, stdin=None: asyncio.to_thread(appealctl, address, task_queue, *args, stdin=stdin)  # noqa: E731
    first = make_appeal(datetime.now(UTC), address="Пермь, ул. Мира, 12")
    changed = first.model_copy(update={"text": "Снег так и не вывезли, теперь и лёд.", "address": "ул. Мира, 14"})
    async with running_worker(dev_env.client, pool, task_queue):
        assert (await run("submit", "-", stdin=first.model_dump_json())).returncode == 0
        again = await run("submit", "-", stdin=first.model_dump_json())
        assert again.returncode == 0 and "already submitted" in again.stdout, again.stderr

        other = await run("submit", "-", stdin=changed.model_dump_json())
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == (
            f"{first.workflow_id} already exists with different content: "
            "changes to text, address were recorded against it for an operator"
        )
        history = await dev_env.client.get_workflow_handle(first.workflow_id).fetch_history()
        signals = [
            e.workflow_execution_signaled_event_attributes.signal_name
            for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")
        ]
        assert signals == ["resubmitted"]

        await dev_env.client.get_workflow_handle(first.workflow_id).terminate("test over")
        closed = await run("submit", "-", stdin=changed.model_dump_json())
        assert closed.returncode == 2 and closed.stderr.count("\n") == 1, closed.stderr
        assert closed.stderr.startswith(f"error: {first.workflow_id} already exists and is closed")
        assert "was not recorded" in closed.stderr and "Traceback" not in closed.stderr
