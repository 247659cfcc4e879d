"""Every SLA clock rule, through the workflow, on the time-skipping server.

Appeals start at 09:00 Perm time on a Monday of a full working week (see
tests/scenarios.py), so the expected instants below are checked by hand against
hours 09:00–18:00 with lunch 13:00–14:00.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Replayer

from appeals.models import (
    Acknowledge,
    AppealStatus,
    DeclareWhiteSpot,
    Extend,
    InterimAnswer,
    MoveCommitment,
    PauseClocks,
    Refute,
    RepinPolicy,
    ResumeClocks,
)
from appeals.state import AppealState, TimelineEntry
from stack.client import DATA_CONVERTER
from stack.errors import reason
from stack.settings import REPO_ROOT, Settings
from tests.conftest import events, make_appeal, notified, running_worker
from tests.scenarios import (
    PERM,
    advance_to,
    answer_and_publish,
    sit_out_feedback_window,
    start,
    state_of,
    to_monday_morning,
    wait_for,
)
from workflows.appeal import AppealWorkflow

REASON = "Нужен ремонт теплотрассы, он включён в план работ на весну"


def entries(state: AppealState, kind: str) -> list[TimelineEntry]:
    return [e for e in state.timeline if e.kind == kind]


def near(actual: datetime, expected: datetime) -> bool:
    """Timers fire at their instant plus the milliseconds of a workflow task."""
    return timedelta(0) <= actual - expected < timedelta(seconds=1)


def local(moment: datetime, days: int, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(PERM.local_date(moment) + timedelta(days=days), time(hh, mm), PERM.zone)


async def rejected(handle, update, action) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, action)
    return reason(refused.value)


async def test_each_threshold_warns_at_its_instant(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        # acknowledge: 1 working hour → 50% at 09:30, 75% at 09:45.
        await advance_to(ts_env, local(monday, 0, 9, 50))
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        # answer: 8 working hours → due 18:00; 50% = 4 h = 13:00, lunch, so 14:00; 75% = 16:00.
        await advance_to(ts_env, local(monday, 0, 17))
        state = await wait_for(handle, lambda s: len(entries(s, "sla_warning")) == 4)
        await handle.terminate("test over")

    warnings = [(e.data["clock"], e.data["percent"], e.at) for e in entries(state, "sla_warning")]
    expected = [
        ("acknowledge", 50, local(monday, 0, 9, 30)),
        ("acknowledge", 75, local(monday, 0, 9, 45)),
        ("answer", 50, local(monday, 0, 14)),
        ("answer", 75, local(monday, 0, 16)),
    ]
    assert [(c, p) for c, p, _ in warnings] == [(c, p) for c, p, _ in expected]
    for (_, _, actual), (_, _, wanted) in zip(warnings, expected, strict=True):
        assert near(actual, wanted), (actual, wanted)
    assert state.clock("answer").due_at == local(monday, 0, 18)
    sent = [n for n in await notified(pool, handle.id) if n[0] == "warning"]
    # 50% to the executor; 75% to the executor and the head of department.
    assert sorted(r for _, r in sent) == sorted(["perm-roads@gorodperm.ru"] * 4 + ["head-roads@gorodperm.ru"] * 2)


async def test_warnings_wait_for_working_hours_but_a_breach_is_exact(ts_env, pool, task_queue):
    """59-ФЗ, 30 calendar days from Friday 17:00: half the time is used on a Saturday at
    17:00, so that warning goes out at the next working moment instead."""
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        friday = local(monday, 4, 17)
        await advance_to(ts_env, friday)
        handle = await start(ts_env.client, task_queue, make_appeal(friday, channel="pos"))
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        state = await state_of(handle)
        answer = state.clock("answer")
        raw_half = friday + timedelta(days=15)  # always a Saturday
        assert raw_half.astimezone(PERM.zone).weekday() == 5
        await advance_to(ts_env, answer.due_at + timedelta(minutes=1))
        state = await wait_for(handle, lambda s: bool(entries(s, "sla_breached")))
        await handle.terminate("test over")

    half = next(e for e in entries(state, "sla_warning") if e.data["percent"] == 50)
    assert near(half.at, PERM.next_working_moment(raw_half))
    assert half.at.astimezone(PERM.zone).weekday() < 5
    assert PERM.add_calendar_time(friday, timedelta(days=30)) == answer.due_at
    breach = entries(state, "sla_breached")[0]
    assert breach.data["clock"] == "answer" and near(breach.at, answer.due_at)
    assert state.clock("answer").breached_at == answer.due_at  # recorded at the exact moment


async def test_pause_moves_the_deadline_by_exactly_the_paused_working_time(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        await advance_to(ts_env, local(monday, 0, 10))
        await handle.execute_update(AppealWorkflow.pause, PauseClocks(by="ivanov", reason=REASON))
        described = await handle.describe()
        assert {p.key.name: p.value for p in described.typed_search_attributes}["AppealStatus"] == (
            "waiting_for_citizen"
        )
        # Paused through 14:00 (the 50% mark) and 18:00 (the deadline): nothing fires.
        await advance_to(ts_env, local(monday, 1, 10))
        assert entries(await state_of(handle), "sla_warning") == []
        await handle.execute_update(AppealWorkflow.resume, ResumeClocks(by="ivanov"))
        state = await state_of(handle)
        # Monday 10:00 → Tuesday 10:00 is 8 working hours (7 on Monday after lunch, 1 on Tuesday).
        answer = state.clock("answer")
        assert near(monday + answer.paused, monday + timedelta(hours=8))
        assert near(answer.due_at, local(monday, 1, 18))
        assert state.status == AppealStatus.in_progress
        await advance_to(ts_env, local(monday, 1, 17))
        state = await wait_for(handle, lambda s: len(entries(s, "sla_warning")) == 2)
        await handle.terminate("test over")

    warnings = entries(state, "sla_warning")
    assert near(warnings[0].at, local(monday, 1, 14)) and near(warnings[1].at, local(monday, 1, 16))
    row = await pool.fetchrow(
        "SELECT paused, due_at, pauses FROM appeal_clocks WHERE workflow_id = $1 AND clock = 'answer'",
        handle.id,
    )
    assert near(monday + row["paused"], monday + timedelta(hours=8)) and near(row["due_at"], local(monday, 1, 18))
    assert row["pauses"][0]["reason"] == REASON


async def test_an_honest_deadline_kept(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday, category="heating"))
        committed = PERM.local_date(monday) + timedelta(days=10)  # Thursday of next week
        await handle.execute_update(
            AppealWorkflow.declare_white_spot,
            DeclareWhiteSpot(by="ivanov", reason=REASON, committed_date=committed),
        )
        state = await state_of(handle)
        assert state.status == AppealStatus.in_progress  # the declaration is also the first reaction
        commitment = state.clock("commitment")
        assert commitment.due_at == datetime.combine(committed + timedelta(days=1), time(0), PERM.zone)
        # Reminder one working day before: Wednesday 09:00.
        assert commitment.marks[0].at == local(monday, 9, 9)
        await advance_to(ts_env, local(monday, 10, 12))
        state = await wait_for(handle, lambda s: bool(entries(s, "sla_warning")))
        await answer_and_publish(handle)
        result = await sit_out_feedback_window(ts_env, handle)
        state = await state_of(handle)

    assert not result.sla_breached
    assert near(entries(state, "sla_warning")[0].at, local(monday, 9, 9))
    assert entries(state, "answered")[0].data["commitment_kept"] is True
    assert state.clock("answer").breached_at is None  # the honest answer came in time
    assert ("white_spot", "+7 912 000-00-00") in await notified(pool, handle.id)
    declared = await pool.fetchrow(
        "SELECT data FROM appeal_events WHERE workflow_id = $1 AND kind = 'white_spot_declared'", handle.id
    )
    assert declared["data"]["reason"] == REASON and declared["data"]["committed_date"] == committed.isoformat()


async def test_an_honest_deadline_missed_escalates_and_moves_are_limited(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday, category="heating"))
        committed = PERM.local_date(monday) + timedelta(days=3)  # Thursday
        await handle.execute_update(
            AppealWorkflow.declare_white_spot,
            DeclareWhiteSpot(by="ivanov", reason=REASON, committed_date=committed),
        )
        assert "already declared" in await rejected(
            handle,
            AppealWorkflow.declare_white_spot,
            DeclareWhiteSpot(by="ivanov", reason=REASON, committed_date=committed),
        )
        # Thursday ends with no answer: missed at midnight, escalated Friday 09:00.
        await advance_to(ts_env, local(monday, 4, 9, 1))
        state = await wait_for(handle, lambda s: s.escalation_level == 1)
        missed = entries(state, "sla_breached")[0]
        assert missed.data["clock"] == "commitment"
        assert near(missed.at, local(monday, 4, 0))
        assert near(entries(state, "escalated")[0].at, local(monday, 4, 9))

        for move, days in enumerate((7, 14), start=1):
            await handle.execute_update(
                AppealWorkflow.move_commitment,
                MoveCommitment(by="ivanov", new_date=committed + timedelta(days=days), reason=f"{REASON} ({move})"),
            )
        refusal = await rejected(
            handle,
            AppealWorkflow.move_commitment,
            MoveCommitment(by="ivanov", new_date=committed + timedelta(days=21), reason=REASON),
        )
        assert refusal == "the commitment was already moved 2 times; policy social allows 2"
        state = await state_of(handle)
        await handle.terminate("test over")

    assert state.commitment is not None and state.commitment.committed_date == committed + timedelta(days=14)
    assert [m["to"] for m in state.commitment.moves] == [
        (committed + timedelta(days=7)).isoformat(),
        (committed + timedelta(days=14)).isoformat(),
    ]
    assert (await events(pool, handle.id)).count("commitment_moved") == 2


async def test_a_commitment_date_must_be_real(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        today = PERM.local_date(monday)
        for day, words in (
            (today, "is not in the future"),
            (today + timedelta(days=400), "more than 366 days"),
        ):
            refusal = await rejected(
                handle,
                AppealWorkflow.declare_white_spot,
                DeclareWhiteSpot(by="ivanov", reason=REASON, committed_date=day),
            )
            assert refusal.startswith("committed_date:") and words in refusal
        short = await rejected(
            handle, "declare_white_spot", {"by": "ivanov", "reason": "нет", "committed_date": str(today)}
        )
        assert "reason" in short and "at least 10 characters" in short
        await handle.terminate("test over")


async def test_one_extension_of_at_most_30_days_for_59_fz(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        social = await start(ts_env.client, task_queue, make_appeal(monday))
        assert "allows no extension" in await rejected(
            social, AppealWorkflow.extend, Extend(by="ivanov", days=5, reason=REASON)
        )
        handle = await start(ts_env.client, task_queue, make_appeal(monday, channel="pos"))
        before = (await state_of(handle)).clock("answer").due_at
        assert await rejected(handle, AppealWorkflow.extend, Extend(by="ivanov", days=31, reason=REASON)) == (
            "days: an extension may be at most 30 calendar days, not 31 days"
        )
        await handle.execute_update(AppealWorkflow.extend, Extend(by="ivanov", days=30, reason=REASON))
        state = await state_of(handle)
        after = state.clock("answer").due_at
        assert after == PERM.add_calendar_time(monday, timedelta(days=60))
        assert after > before and state.extended_until == after
        assert "59-ФЗ allows one extension" in await rejected(
            handle, AppealWorkflow.extend, Extend(by="ivanov", days=1, reason=REASON)
        )
        for h in (social, handle):
            await h.terminate("test over")

    assert ("extension", "+7 912 000-00-00") in await notified(pool, handle.id)
    assert (await events(pool, handle.id)).count("extended") == 1


async def test_interim_answer_starts_the_final_clock(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await advance_to(ts_env, local(monday, 0, 9, 50))
        await handle.execute_update(
            AppealWorkflow.interim_answer, InterimAnswer(by="ivanov", text="Заявка передана подрядчику.")
        )
        state = await state_of(handle)
        assert "once" in await rejected(
            handle, AppealWorkflow.interim_answer, InterimAnswer(by="ivanov", text="Ещё раз.")
        )
        pos = await start(ts_env.client, task_queue, make_appeal(monday, channel="pos"))
        assert "has no interim answers" in await rejected(
            pos, AppealWorkflow.interim_answer, InterimAnswer(by="ivanov", text="Промежуточный.")
        )
        for h in (handle, pos):
            await h.terminate("test over")

    assert state.clock("answer").stopped_at is not None and state.clock("answer").breached_at is None
    # 7 working days after Monday: the end of Wednesday of the next week.
    assert state.clock("final").due_at == local(monday, 9, 18)


async def test_a_refuted_answer_reopens_with_a_new_answer_clock(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        assert "no published answer to refute" in await rejected(
            handle, AppealWorkflow.refute, Refute(by="citizen", reason=REASON)
        )
        await answer_and_publish(handle)
        await advance_to(ts_env, local(monday, 1, 10))
        await handle.execute_update(AppealWorkflow.refute, Refute(by="citizen", reason="Снег так и лежит."))
        state = await state_of(handle)
        assert state.cycle == 2 and state.status == AppealStatus.in_progress
        reopened = state.clock("answer")
        assert reopened.cycle == 2 and reopened.due_at == local(monday, 2, 10)  # 8 working hours
        await answer_and_publish(handle)
        result = await sit_out_feedback_window(ts_env, handle)
        state = await state_of(handle)

    assert result.status == AppealStatus.closed
    assert [(c.name, c.cycle) for c in state.clocks if c.name == "answer"] == [("answer", 1), ("answer", 2)]
    assert [e.kind for e in state.timeline].count("answered") == 2
    cycles = await pool.fetch(
        "SELECT cycle, stopped_at IS NOT NULL AS stopped FROM appeal_clocks "
        "WHERE workflow_id = $1 AND clock = 'answer' ORDER BY cycle",
        handle.id,
    )
    assert [(r["cycle"], r["stopped"]) for r in cycles] == [(1, True), (2, True)]


@pytest.fixture
def editable_config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    return config


async def test_a_policy_file_changed_in_flight(ts_env, pool, task_queue, editable_config):
    settings = replace(Settings(), config_dir=editable_config)
    sla = editable_config / "sla.toml"
    async with running_worker(ts_env.client, pool, task_queue, settings):
        monday = await to_monday_morning(ts_env)
        first = await start(ts_env.client, task_queue, make_appeal(monday))
        await first.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        await advance_to(ts_env, local(monday, 0, 10))
        await first.execute_update(AppealWorkflow.pause, PauseClocks(by="ivanov", reason=REASON))
        await advance_to(ts_env, local(monday, 0, 11))
        await first.execute_update(AppealWorkflow.resume, ResumeClocks(by="ivanov"))
        before = await state_of(first)
        assert near(before.clock("answer").due_at, local(monday, 1, 10))  # 18:00 + 1 paused hour

        # The operator shortens the social answer clock from 8 to 6 working hours.
        sla.write_text(sla.read_text().replace('answer = "8 working hours"', 'answer = "6 working hours"'))
        second = await start(ts_env.client, task_queue, make_appeal(monday + timedelta(hours=2)))
        after = await state_of(first)
        newcomer = await state_of(second)
        assert after.clock("answer").due_at == before.clock("answer").due_at  # pinned
        assert newcomer.policy_version != before.policy_version
        assert newcomer.clock("answer").due_at == local(monday, 0, 18)  # 11:00 + 6 working hours

        await first.execute_update(AppealWorkflow.repin_policy, RepinPolicy(by="operator"))
        repinned = await state_of(first)
        # 6 working hours from 09:00 is 16:00; the paused hour survives the re-pin: 17:00.
        assert near(repinned.clock("answer").due_at, local(monday, 0, 17))
        assert repinned.policy_version == newcomer.policy_version
        histories = [await h.fetch_history() for h in (first, second)]
        for h in (first, second):
            await h.terminate("test over")

    # The file changed again after the fact: replay does not read it, so nothing diverges.
    sla.write_text(sla.read_text().replace('answer = "6 working hours"', 'answer = "1 working hour"'))
    replayer = Replayer(workflows=[AppealWorkflow], data_converter=DATA_CONVERTER)
    for history in histories:
        replay = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replay.replay_failure is None, replay.replay_failure


async def test_alarms_already_due_fire_through_a_timer_never_by_comparing_with_now(ts_env, pool, task_queue):
    """The supervisor's commands never depend on the time: an alarm that is due when it is planned
    gets a 1 ms timer (a worker rebuilding a run was seen with the previous task's time; a decision
    taken on workflow.now() then differed on replay). An appeal received on the Friday before is
    overdue on every clock from the start."""
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday - timedelta(days=3)))
        state = await wait_for(handle, lambda s: s.escalation_level >= 1)
        for h in (handle,):
            await h.terminate("test over")
    assert entries(state, "sla_breached") and entries(state, "escalated")
    history = await handle.fetch_history()
    markers = [
        e.marker_recorded_event_attributes for e in history.events if e.HasField("marker_recorded_event_attributes")
    ]
    patches = [m.details["patch-data"].payloads[0].data for m in markers if m.marker_name == "core_patch"]
    assert any(b'"supervisor-timer-always"' in p for p in patches), patches  # Core writes it in plain JSON
    timers = [e.timer_started_event_attributes for e in history.events if e.HasField("timer_started_event_attributes")]
    assert timers and timers[0].start_to_fire_timeout.ToTimedelta() == timedelta(milliseconds=1)
    assert len(timers) >= 3  # every alarm through its own timer: warnings, breach, escalation
    replay = await Replayer(workflows=[AppealWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)
    assert replay.replay_failure is None
