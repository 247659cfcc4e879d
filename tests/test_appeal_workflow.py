"""The whole lifecycle on the time-skipping test server, with real PostgreSQL activities."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from appeals.models import Acknowledge, AppealStatus, Moderate
from stack.errors import reason
from tests.conftest import events, make_appeal, notified, running_worker
from tests.scenarios import (
    advance_to,
    escalated_path,
    good_answer,
    happy_path,
    sit_out_feedback_window,
    start,
    state_of,
    to_monday_morning,
    wait_for,
)
from workflows.appeal import AppealWorkflow


async def test_happy_path_closes_without_breach(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        handle = await happy_path(ts_env, task_queue)
        result = await handle.result()
        state = await state_of(handle)

    assert result.status == AppealStatus.closed
    assert not result.sla_breached and result.escalation_level == 0
    assert [e.kind for e in state.timeline] == [
        "registered",
        "routed",
        "acknowledged",
        "answered",
        "sent_to_moderation",
        "answer_accepted",
        "published",
        "closed",
    ]
    assert state.executor is not None and state.executor.address == "perm-roads@gorodperm.ru"
    assert state.clock("acknowledge").stopped_at is not None
    assert state.clock("answer").breached_at is None
    assert await events(pool, handle.id) == [e.kind for e in state.timeline]
    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", handle.id)
    assert row["status"] == "closed" and row["sla_breached"] is False
    assert row["author"]["contact"] == "+7 912 000-00-00"
    assert await notified(pool, handle.id) == [("assigned", "perm-roads@gorodperm.ru")]
    published = await pool.fetch("SELECT * FROM publications WHERE workflow_id = $1", handle.id)
    assert [(p["channel"], p["recipient"], p["status"]) for p in published] == [("vk", "id123456", "published")]
    assert published[0]["attachments"][0]["kind"] == "photo"
    # Closed two calendar days after publication: the citizen's feedback window.
    answered = next(e.at for e in state.timeline if e.kind == "published")
    closed = next(e.at for e in state.timeline if e.kind == "closed")
    assert abs(closed - answered - timedelta(days=2)) < timedelta(seconds=1)


async def test_missed_acknowledgment_escalates_at_the_deadline(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))

        await advance_to(ts_env, monday + timedelta(minutes=59))
        state = await state_of(handle)
        assert state.escalation_level == 0 and not state.sla_breached

        await advance_to(ts_env, monday + timedelta(hours=1, minutes=1))
        state = await wait_for(handle, lambda s: s.escalation_level == 1)
        breach = next(e for e in state.timeline if e.kind == "sla_breached")
        assert breach.data["clock"] == "acknowledge"
        assert state.clock("acknowledge").breached_at == monday + timedelta(hours=1)
        # The timer fires at the deadline (plus the milliseconds of a workflow task).
        assert timedelta(hours=1) <= breach.at - monday < timedelta(hours=1, seconds=1)
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
        await handle.terminate("test over")

    assert "escalated" in await events(pool, handle.id)
    sent = await notified(pool, handle.id)
    # Level 1 goes to the head of department; the policy's breach recipients hear of it too.
    assert ("escalated", "head-roads@gorodperm.ru") in sent
    assert ("escalated", "tsur-duty@permkrai.ru") in sent


async def test_missed_answer_climbs_the_ladder(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        handle = await escalated_path(ts_env, task_queue)
        result = await handle.result()
        state = await state_of(handle)

    assert result.sla_breached and result.escalation_level == 3
    escalations = [(e.data["level"], e.data["clock"], e.at) for e in state.timeline if "level" in e.data]
    monday = state.appeal.received_at
    # ack missed: level 1 at 10:00, level 2 at 12:00 (2 working hours later);
    # answer missed at 18:00: level 3 waits for the next working moment, Tuesday 09:00.
    assert [(level, clock) for level, clock, _ in escalations] == [
        (1, "acknowledge"),
        (2, "acknowledge"),
        (3, "answer"),
    ]
    # To the second: each timer fires at its instant plus the milliseconds of a workflow task.
    offsets = [at.replace(microsecond=0) - monday for _, _, at in escalations]
    assert offsets == [timedelta(hours=1), timedelta(hours=3), timedelta(hours=24)]
    breaches = [e.data["clock"] for e in state.timeline if e.kind == "sla_breached"]
    assert breaches == ["acknowledge", "answer"]
    rows = await pool.fetch(
        "SELECT seq, recipient FROM notifications WHERE workflow_id = $1 AND kind = 'escalated' "
        "ORDER BY seq, recipient",
        handle.id,
    )
    by_step: dict[int, list[str]] = {}
    for row in rows:
        by_step.setdefault(row["seq"], []).append(row["recipient"])
    # Level 1 also tells the policy's breach recipients (head and ЦУР); then one rung each.
    assert list(by_step.values()) == [
        ["head-roads@gorodperm.ru", "tsur-duty@permkrai.ru"],
        ["mayor@gorodperm.ru"],
        ["tsur-duty@permkrai.ru"],
    ]
    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", handle.id)
    assert row["escalation_level"] == 3 and row["sla_breached"] is True


async def test_past_the_top_rung_reminders_continue(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        appeal = make_appeal(monday, category=None)  # fallback: a ladder of 2 rungs
        handle = await start(ts_env.client, task_queue, appeal)
        # ack due 10:00: level 1 at 10:00, level 2 at 12:00 (every 2 working hours); past the top
        # the reminders back off: 15:00 (2 h), Tuesday 10:00 (4 h), Wednesday 10:00 (8 h).
        await advance_to(ts_env, monday + timedelta(days=2, hours=1, minutes=1))
        state = await wait_for(handle, lambda s: sum(e.kind == "escalation_reminder" for e in s.timeline) == 3)
        assert state.escalation_level == 2
        reminders = [e.at.replace(microsecond=0) - monday for e in state.timeline if e.kind == "escalation_reminder"]
        assert reminders == [timedelta(hours=6), timedelta(hours=25), timedelta(hours=49)]
        await handle.execute_update(AppealWorkflow.answer, good_answer("operator"))
        await handle.terminate("test over")


async def test_invalid_updates_are_rejected_and_never_enter_history(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))

        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="petrov"))
        assert reason(twice.value).startswith("already acknowledged by ivanov at ")

        with pytest.raises(WorkflowUpdateFailedError) as empty:
            await handle.execute_update("answer", {"by": "ivanov", "text": "   "})
        assert "text: the answer is empty" in reason(empty.value)

        with pytest.raises(WorkflowUpdateFailedError) as nobody:
            await handle.execute_update("answer", {"by": "ivanov", "text": "Не наш вопрос.", "kind": "not_competent"})
        assert "a 'not our competence' answer must name who is responsible" in reason(nobody.value)

        await handle.execute_update(AppealWorkflow.answer, good_answer())
        with pytest.raises(WorkflowUpdateFailedError) as again:
            await handle.execute_update(AppealWorkflow.answer, good_answer())
        assert reason(again.value) == "an answer is already with the moderator; wait for the verdict"
        await wait_for(handle, lambda s: s.status == AppealStatus.in_moderation)
        await handle.execute_update(AppealWorkflow.moderate, Moderate(by="moderator", accept=True))
        await wait_for(handle, lambda s: s.status == AppealStatus.answered)
        with pytest.raises(WorkflowUpdateFailedError) as published:
            await handle.execute_update(AppealWorkflow.answer, good_answer())
        assert reason(published.value).startswith("already answered by ivanov")
        await sit_out_feedback_window(ts_env, handle)
        # A closed appeal's workflow has completed, so the server itself refuses the update.
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await handle.execute_update(AppealWorkflow.answer, good_answer())
        history = await handle.fetch_history()

    accepted = [e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert len(accepted) == 3  # the acknowledgment, the one valid answer, the moderator's verdict
