"""The whole lifecycle on the time-skipping test server, with real PostgreSQL activities."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from appeals.models import Acknowledge, AppealStatus, SubmitAnswer
from stack.errors import reason
from tests.conftest import make_appeal, running_worker
from tests.scenarios import ANSWER_TEXT, advance, escalated_path, happy_path, start, state_of, wait_for
from workflows.appeal import AppealWorkflow


async def _events(pool: asyncpg.Pool, workflow_id: str) -> list[str]:
    rows = await pool.fetch("SELECT kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", workflow_id)
    return [r["kind"] for r in rows]


async def _notified(pool: asyncpg.Pool, workflow_id: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT kind, recipient FROM notifications WHERE workflow_id = $1 AND status = 'sent' ORDER BY seq",
        workflow_id,
    )
    return [(r["kind"], r["recipient"]) for r in rows]


async def test_happy_path_closes_without_breach(ts_env: WorkflowEnvironment, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        handle = await happy_path(ts_env, task_queue)
        result = await handle.result()
        state = await state_of(handle)

    assert result.status == AppealStatus.closed
    assert not result.sla_breached and result.escalation_level == 0
    assert [e.kind for e in state.timeline] == ["registered", "routed", "acknowledged", "answered", "closed"]
    assert state.executor is not None and state.executor.address == "perm-roads@gorodperm.ru"
    assert state.clocks["acknowledge"].stopped_at is not None
    assert state.clocks["answer"].breached_at is None
    assert await _events(pool, handle.id) == [e.kind for e in state.timeline]
    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", handle.id)
    assert row["status"] == "closed" and row["sla_breached"] is False
    assert row["author"]["contact"] == "+7 912 000-00-00"
    assert await _notified(pool, handle.id) == [("assigned", "perm-roads@gorodperm.ru")]


async def test_missed_acknowledgment_escalates_at_the_deadline(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        appeal = make_appeal(await ts_env.get_current_time())
        handle = await start(ts_env.client, task_queue, appeal)

        await advance(ts_env, timedelta(minutes=59))
        state = await state_of(handle)
        assert state.escalation_level == 0 and not state.sla_breached

        await advance(ts_env, timedelta(minutes=2))
        state = await wait_for(handle, lambda s: s.escalation_level == 1)
        breach = next(e for e in state.timeline if e.kind == "sla_breached")
        assert breach.data["clock"] == "acknowledge"
        assert state.clocks["acknowledge"].breached_at == appeal.received_at + timedelta(hours=1)
        # The timer fires at the deadline (plus the milliseconds of a workflow task).
        assert timedelta(hours=1) <= breach.at - appeal.received_at < timedelta(hours=1, seconds=1)
        assert state.sla_breached and state.status == AppealStatus.awaiting_acknowledgment

        described = await handle.describe()
        attributes = {p.key.name: p.value for p in described.typed_search_attributes}
        assert attributes["SlaBreached"] is True
        assert attributes["EscalationLevel"] == 1
        assert attributes["AppealStatus"] == "awaiting_acknowledgment"

        # Acknowledging late stops the climb; the breach stays on record.
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="petrov"))
        state = await wait_for(handle, lambda s: s.status == AppealStatus.in_progress)
        assert state.escalation_level == 1 and state.sla_breached

    assert "escalated" in await _events(pool, handle.id)
    assert ("escalated", "head-roads@gorodperm.ru") in await _notified(pool, handle.id)


async def test_missed_answer_climbs_the_ladder(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        handle = await escalated_path(ts_env, task_queue)
        result = await handle.result()
        state = await state_of(handle)

    assert result.sla_breached and result.escalation_level == 3
    escalations = [(e.data["level"], e.data["clock"]) for e in state.timeline if "level" in e.data]
    # ack missed: level 1 at +1h, level 2 at +3h; answer missed at +8h: level 3 (the top).
    assert escalations[:3] == [(1, "acknowledge"), (2, "acknowledge"), (3, "answer")]
    breaches = [e.data["clock"] for e in state.timeline if e.kind == "sla_breached"]
    assert breaches == ["acknowledge", "answer"]
    recipients = [r for kind, r in await _notified(pool, handle.id) if kind == "escalated"]
    assert recipients == ["head-roads@gorodperm.ru", "mayor@gorodperm.ru", "tsur-duty@permkrai.ru"]
    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", handle.id)
    assert row["escalation_level"] == 3 and row["sla_breached"] is True


async def test_past_the_top_rung_reminders_continue(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        appeal = make_appeal(await ts_env.get_current_time(), category=None)  # fallback: 2 rungs
        handle = await start(ts_env.client, task_queue, appeal)
        await advance(ts_env, timedelta(hours=7, minutes=1))  # +1h, +3h, +5h, +7h
        state = await wait_for(
            handle, lambda s: sum(e.kind == "escalation_reminder" for e in s.timeline) == 2
        )
        assert state.escalation_level == 2
        await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="operator", text=ANSWER_TEXT))
        result = await handle.result()
    assert result.status == AppealStatus.closed


async def test_invalid_updates_are_rejected_and_never_enter_history(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        appeal = make_appeal(await ts_env.get_current_time())
        handle = await start(ts_env.client, task_queue, appeal)
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))

        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="petrov"))
        assert reason(twice.value).startswith("already acknowledged by ivanov at ")

        with pytest.raises(WorkflowUpdateFailedError) as empty:
            await handle.execute_update("answer", {"by": "ivanov", "text": "   "})
        assert "text\n  Value error, the answer is empty" in reason(empty.value)

        await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="ivanov", text=ANSWER_TEXT))
        await handle.result()
        # A closed appeal's workflow has completed, so the server itself refuses the update.
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="ivanov", text=ANSWER_TEXT))
        history = await handle.fetch_history()

    accepted = [
        e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 2  # the acknowledgment and the one valid answer
