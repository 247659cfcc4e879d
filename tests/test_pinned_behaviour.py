"""Exact pins for behaviour no other test fixed, before workflows/appeal.py is rebuilt into steps (issue 9, part 0).

Each test below was shown to fail when the behaviour it pins is changed by one step:
- the "1 working day" escalation interval, counted one day more;
- the back-off cap on reminders past the top rung (x16), made x8 or x32;
- the moderation boundary `score == review_at` (inclusive), made exclusive;
- the calendar's `extra_working_days` override, dropped.

Live runs start on the time-skipping server at the real date, so their expected instants are written
as "N days after the anchor" (a day the test picks by the rule it states) and checked to the second,
in the appeal's zone (Asia/Yekaterinburg, UTC+5: Perm) and in UTC. Pure calendar checks use fixed dates.
"""

from __future__ import annotations

import itertools
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.planning import PlanningActivities, load
from appeals import clocks
from appeals.models import SubmitAnswer
from appeals.moderation import ModerationConfig, Verdict, check_answer
from appeals.records import PlanRequest
from appeals.state import AppealState, TimelineEntry
from appeals.working_calendar import CalendarConfig, DayKind, WorkingCalendar
from stack.settings import REPO_ROOT, Settings
from tests.conftest import make_appeal, running_worker
from tests.scenarios import ANSWER_TEXT, PERM, advance_to, start, state_of, to_monday_morning, wait_for
from workflows.appeal import AppealWorkflow

ZONE = "Asia/Yekaterinburg"
ESCALATIONS = ("escalated", "escalation_reminder")


def second(moment: datetime) -> datetime:
    """An instant to the whole second: a timer fires at its instant plus the milliseconds of a workflow task."""
    return moment.replace(microsecond=0)


def local_iso(moment: datetime) -> str:
    return second(moment).astimezone(PERM.zone).isoformat()


def utc_iso(moment: datetime) -> str:
    return second(moment).astimezone(UTC).isoformat()


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), PERM.zone)


def full_day(day: date) -> bool:
    """A plain working day: 09:00–13:00 and 14:00–18:00, not shortened."""
    return [(s.time(), e.time()) for s, e in PERM.working_intervals(day)] == [
        (time(9), time(13)),
        (time(14), time(18)),
    ] and not PERM.day_note(day).shortened


def first_day_like(after: datetime, pattern: str) -> date:
    """The first day after `after` that starts a run of days shaped like `pattern`:
    W a plain working day, o a weekend day (no holiday, no transfer)."""
    day = PERM.local_date(after) + timedelta(days=1)
    while True:
        shape = [
            full_day(d) if want == "W" else PERM.day_note(d).kind is DayKind.weekend
            for want, d in zip(pattern, (day + timedelta(days=n) for n in range(len(pattern))), strict=True)
        ]
        if all(shape):
            return day
        day += timedelta(days=1)


def working_days_after(day: date, n: int) -> date:
    """The n-th working day after `day`, counted on the shipped Perm calendar."""
    while n:
        day += timedelta(days=1)
        n -= PERM.is_working_day(day)
    return day


def working_days_between(a: date, b: date) -> int:
    return sum(PERM.is_working_day(a + timedelta(days=n)) for n in range(1, (b - a).days + 1))


def escalations(state: AppealState) -> list[TimelineEntry]:
    return [e for e in state.timeline if e.kind in ESCALATIONS]


async def settled(handle: WorkflowHandle, predicate: Callable[[AppealState], bool]) -> AppealState:
    """The state once `predicate` holds, or the last one seen if it never does: the exact assertions
    that follow then say what differs, instead of a timeout."""
    try:
        return await wait_for(handle, predicate)
    except AssertionError:
        return await state_of(handle)


async def advance_by_days(env: WorkflowEnvironment, until: datetime) -> None:
    """Skip to `until` a day at a time: each sleep spans at most one escalation timer."""
    now = await env.get_current_time()
    while now < until:
        now = min(now + timedelta(days=1), until)
        await advance_to(env, now)


# --- the "1 working day" escalation interval ------------------------------------------------------


async def test_one_working_day_escalation_interval_crosses_the_weekend(ts_env, pool, task_queue):
    """Website, roads (policy website-roads: acknowledge in 1 working day, escalate every 1 working day;
    a ladder of 3 rungs). Received Wednesday 09:00; acknowledgment due Thursday 18:00, missed.
    Level 1 at the next working moment, Friday 09:00; level 2 one working day later, Monday 09:00
    (Saturday and Sunday skipped); level 3 Tuesday 09:00; past the top, the first reminder
    Wednesday 09:00 (the back-off starts at x1)."""
    async with running_worker(ts_env.client, pool, task_queue):
        wednesday = first_day_like(await ts_env.get_current_time(), "WWWooWWW")
        received = at(wednesday, 9)
        await advance_to(ts_env, received)
        handle = await start(ts_env.client, task_queue, make_appeal(received, channel="website", category="roads"))
        routed = next(e for e in (await state_of(handle)).timeline if e.kind == "routed")
        assert (routed.data["policy"], routed.data["zone"]) == ("website-roads", ZONE)
        assert routed.data["acknowledge_due"] == at(wednesday + timedelta(days=1), 18).astimezone(UTC).isoformat()

        await advance_by_days(ts_env, at(wednesday + timedelta(days=7), 9, 1))
        state = await settled(handle, lambda s: len(escalations(s)) >= 4)
        await handle.terminate("test over")

    breach = next(e for e in state.timeline if e.kind == "sla_breached")
    assert breach.data["clock"] == "acknowledge"
    assert local_iso(breach.at) == f"{wednesday + timedelta(days=1)}T18:00:00+05:00"
    assert utc_iso(breach.at) == f"{wednesday + timedelta(days=1)}T13:00:00+00:00"
    days = {"Fri": 2, "Mon": 5, "Tue": 6, "Wed": 7}  # days after the Wednesday it was received
    assert [(e.kind, e.data["level"], e.data["clock"], local_iso(e.at)) for e in escalations(state)] == [
        ("escalated", 1, "acknowledge", f"{wednesday + timedelta(days=days['Fri'])}T09:00:00+05:00"),
        ("escalated", 2, "acknowledge", f"{wednesday + timedelta(days=days['Mon'])}T09:00:00+05:00"),
        ("escalated", 3, "acknowledge", f"{wednesday + timedelta(days=days['Tue'])}T09:00:00+05:00"),
        ("escalation_reminder", 3, "acknowledge", f"{wednesday + timedelta(days=days['Wed'])}T09:00:00+05:00"),
    ]
    assert [utc_iso(e.at) for e in escalations(state)] == [
        f"{wednesday + timedelta(days=n)}T04:00:00+00:00" for n in days.values()
    ]
    assert [second(e.at) - received for e in escalations(state)] == [timedelta(days=n) for n in days.values()]
    assert [second(e.at).astimezone(PERM.zone).strftime("%a") for e in escalations(state)] == list(days)


# --- the back-off cap on reminders past the top rung ----------------------------------------------


@pytest.mark.timeout(600)
async def test_59fz_reminders_past_the_top_rung_back_off_to_16_working_days(ts_env, pool, task_queue):
    """59-ФЗ by ПОС, no category (the fallback ladder: 2 rungs), received Monday 09:00, never handled.
    Acknowledgment due Thursday 09:00 (3 calendar days): level 1 then, level 2 one working day later.
    Past the top the interval (1 working day) doubles with each reminder up to x16 and stays there:
    reminders 1 to 6 come 1, 2, 4, 8, 16 and 16 working days apart, all at 09:00:00 Perm time."""
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday, channel="pos", category=None))
        state = await state_of(handle)
        assert state.policy == "59-fz" and len(state.ladder) == 2
        ack_due = state.clock("acknowledge")
        assert ack_due is not None and ack_due.due_at == at(PERM.local_date(monday) + timedelta(days=3), 9)

        gaps = [1, 1, 2, 4, 8, 16, 16]  # level 1 → level 2 → reminders 1..6
        day = PERM.local_date(monday) + timedelta(days=3)  # level 1: the acknowledgment deadline
        expected_days = [day]
        for gap in gaps:
            day = working_days_after(day, gap)
            expected_days.append(day)
        # A cap of x32 would put the 6th reminder 32 working days after the 5th: wait a day past the 16th.
        await advance_by_days(ts_env, at(expected_days[-1] + timedelta(days=1), 9))
        state = await settled(handle, lambda s: len(escalations(s)) >= 8)
        await handle.terminate("test over")

    kinds = [("escalated", 1), ("escalated", 2), *[("escalation_reminder", 2)] * 6]
    assert [(e.kind, e.data["level"], local_iso(e.at)) for e in escalations(state)] == [
        (kind, level, f"{d}T09:00:00+05:00") for (kind, level), d in zip(kinds, expected_days, strict=True)
    ]
    assert [utc_iso(e.at) for e in escalations(state)] == [f"{d}T04:00:00+00:00" for d in expected_days]
    observed_days = [second(e.at).astimezone(PERM.zone).date() for e in escalations(state)]
    assert [working_days_between(a, b) for a, b in itertools.pairwise(observed_days)] == gaps
    # By name: the 4th reminder 8 working days after the 3rd, the 5th 16 after the 4th (the cap), the 6th 16 more.
    third, fourth, fifth, sixth = observed_days[4:]
    assert (working_days_between(third, fourth), working_days_between(fourth, fifth)) == (8, 16)
    assert working_days_between(fifth, sixth) == 16


# --- the moderation boundary score == review_at ---------------------------------------------------

# ANSWER_TEXT without its photo breaks exactly one criterion, no_evidence; its weight is the score.
SHIPPED_MODERATION = tomllib.loads((REPO_ROOT / "config" / "moderation.toml").read_text())


def moderation_config(no_evidence: float) -> ModerationConfig:
    """The shipped moderation.toml with review_at 45, reject_at 70 and no_evidence weighing `no_evidence`."""
    weights = {**SHIPPED_MODERATION.get("weights", {}), "no_evidence": no_evidence}
    return ModerationConfig.model_validate(
        {**SHIPPED_MODERATION, "review_at": 45.0, "reject_at": 70.0, "weights": weights}
    )


def custom_moderation(config_dir: Path, no_evidence: float) -> None:
    """The shipped moderation.toml with review_at 45, reject_at 70 and no_evidence weighing `no_evidence`."""
    text = (REPO_ROOT / "config" / "moderation.toml").read_text()
    for old, new in (
        ("reject_at = 60\n", "reject_at = 70\n"),
        ("review_at = 30\n", "review_at = 45\n"),
        ("no_evidence = 40 ", f"no_evidence = {no_evidence} "),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (config_dir / "moderation.toml").write_text(text)


BOUNDARY = [
    pytest.param(44.9, Verdict.substantive, id="just below review_at"),
    pytest.param(45.0, Verdict.doubtful, id="exactly review_at"),
    pytest.param(45.1, Verdict.doubtful, id="just above review_at"),
    pytest.param(69.9, Verdict.doubtful, id="just below reject_at"),
    pytest.param(70.0, Verdict.formal, id="exactly reject_at"),
]


@pytest.mark.parametrize(("score", "verdict"), BOUNDARY)
def test_the_moderation_boundaries_are_inclusive(score: float, verdict: Verdict):
    appeal = make_appeal(datetime(2026, 12, 1, 9, tzinfo=PERM.zone))
    report = check_answer(
        ANSWER_TEXT,
        appeal_text=appeal.text,
        attachments=0,
        citizen_contacts=["+7 912 000-00-00", "id123456"],
        config=moderation_config(score),
    )
    assert [r.code.value for r in report.reasons] == ["no_evidence"]
    assert report.score == score
    assert report.verdict is verdict


@pytest.mark.parametrize(("score", "verdict"), BOUNDARY)
async def test_the_moderation_boundaries_from_the_operators_file(tmp_path: Path, score: float, verdict: Verdict):
    custom_moderation(tmp_path, score)
    config, _ = load(tmp_path / "moderation.toml", ModerationConfig)  # as the checking activity reads it
    report = check_answer(
        ANSWER_TEXT, appeal_text="Не вывозят снег.", attachments=0, citizen_contacts=[], config=config
    )
    assert (report.score, report.verdict, [r.code.value for r in report.reasons]) == (score, verdict, ["no_evidence"])


async def test_an_answer_scoring_exactly_review_at_goes_to_the_moderator_as_doubtful(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str, tmp_path: Path
):
    """Through the workflow, with the worker reading a custom config dir: the recorded verdict at,
    just below and just above review_at (the file is read at every check)."""
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    settings = replace(Settings(), config_dir=config)
    recorded: list[tuple[float, str, str]] = []
    async with running_worker(ts_env.client, pool, task_queue, settings):
        monday = await to_monday_morning(ts_env)
        for weight in (44.9, 45.0, 45.1):
            custom_moderation(config, weight)
            handle = await start(ts_env.client, task_queue, make_appeal(monday))
            await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="ivanov", text=ANSWER_TEXT))
            state = await wait_for(handle, lambda s: any(e.kind == "sent_to_moderation" for e in s.timeline))
            sent = next(e for e in state.timeline if e.kind == "sent_to_moderation")
            recorded.append((sent.data["score"], sent.data["verdict"], state.status.value))
            await handle.terminate("test over")

    assert recorded == [
        (44.9, "substantive", "in_moderation"),
        (45.0, "doubtful", "in_moderation"),
        (45.1, "doubtful", "in_moderation"),
    ]


# --- the calendar's extra working days ------------------------------------------------------------

SHIPPED_CALENDAR = CalendarConfig.model_validate(tomllib.loads((REPO_ROOT / "config" / "calendar.toml").read_text()))


def perm_calendar(*extra_working: date) -> WorkingCalendar:
    config = SHIPPED_CALENDAR.model_copy(update={"extra_working_days": list(extra_working)})
    return WorkingCalendar.for_municipality(config, "Пермь")


def test_a_holiday_made_working_by_decree_carries_a_deadline_and_its_eve_is_not_shortened():
    """Thursday 4 November 2027 (art. 112, Unity Day) declared a regional working day. From Wednesday
    3 November 09:00, 16 working hours: Wednesday is a full day (no longer the eve of a holiday) and
    Thursday works, so the deadline is Thursday 18:00. Without the override, Wednesday is an hour
    short, Thursday and Friday (transferred) are off: Tuesday 9 November 10:00."""
    start = at(date(2027, 11, 3), 9)
    with_override, without = perm_calendar(date(2027, 11, 4)), perm_calendar()

    assert with_override.add_working_time(start, timedelta(hours=16)).isoformat() == "2027-11-04T13:00:00+00:00"
    assert without.add_working_time(start, timedelta(hours=16)).isoformat() == "2027-11-09T05:00:00+00:00"
    assert with_override.working_intervals(date(2027, 11, 3))[-1][1] == at(date(2027, 11, 3), 18)
    assert without.working_intervals(date(2027, 11, 3))[-1][1] == at(date(2027, 11, 3), 17)
    assert with_override.day_note(date(2027, 11, 4)).detail == "working day (override)"


def test_a_saturday_made_working_by_decree_carries_a_deadline():
    """Saturday 19 June 2027 declared a regional working day (it works Monday's hours). From Friday
    18 June 14:00, 8 working hours: 4 on Friday, 4 on Saturday morning: Saturday 13:00. Without the
    override: Monday 21 June 13:00."""
    start = at(date(2027, 6, 18), 14)
    with_override, without = perm_calendar(date(2027, 6, 19)), perm_calendar()

    assert with_override.add_working_time(start, timedelta(hours=8)) == at(date(2027, 6, 19), 13)
    assert with_override.add_working_time(start, timedelta(hours=8)).isoformat() == "2027-06-19T08:00:00+00:00"
    assert without.add_working_time(start, timedelta(hours=8)) == at(date(2027, 6, 21), 13)


def custom_calendar(config_dir: Path, *extra_working: date) -> None:
    text = (REPO_ROOT / "config" / "calendar.toml").read_text()
    assert text.count("\nextra_working_days = []\n") == 1
    days = ", ".join(d.isoformat() for d in extra_working)
    (config_dir / "calendar.toml").write_text(
        text.replace("\nextra_working_days = []\n", f"\nextra_working_days = [{days}]\n")
    )


async def test_the_override_in_calendar_toml_reaches_the_pinned_plan(tmp_path: Path):
    """calendar.toml → the plan's pinned calendar → the clocks. A website roads appeal (acknowledge in
    1 working day, answer in 5) received Wednesday 3 November 2027 09:00, with 4 November made working:
    acknowledgment due Thursday 4 November 18:00 (16 working hours), answer due Thursday 11 November
    18:00. Without the override: Monday 8 November 18:00 (15 hours: the eve is shortened) and Friday
    12 November 18:00."""
    shutil.copytree(REPO_ROOT / "config", tmp_path / "with")
    shutil.copytree(REPO_ROOT / "config", tmp_path / "without")
    custom_calendar(tmp_path / "with", date(2027, 11, 4))
    received = at(date(2027, 11, 3), 9)
    appeal = make_appeal(received, channel="website", category="roads")
    due: dict[str, tuple[datetime, timedelta, datetime]] = {}
    for name in ("with", "without"):
        plan = await PlanningActivities(tmp_path / name).plan_appeal(PlanRequest(appeal=appeal, now=received))
        assert plan.policy.name == "website-roads"
        calendar = WorkingCalendar.from_snapshot(plan.calendar)
        ack = clocks.start_clock(calendar, "acknowledge", received, plan.policy.acknowledge, [])
        answer = clocks.start_clock(calendar, "answer", received, plan.policy.answer, [])
        due[name] = (ack.due_at, ack.allowed, answer.due_at)

    assert due["with"] == (at(date(2027, 11, 4), 18), timedelta(hours=16), at(date(2027, 11, 11), 18))
    assert due["without"] == (at(date(2027, 11, 8), 18), timedelta(hours=15), at(date(2027, 11, 12), 18))
    assert [d.astimezone(UTC).isoformat() for d in (due["with"][0], due["with"][2])] == [
        "2027-11-04T13:00:00+00:00",
        "2027-11-11T13:00:00+00:00",
    ]


async def test_a_worker_with_an_extra_working_saturday_sets_the_deadline_on_it(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str, tmp_path: Path
):
    """Live: the coming Saturday is made a working day in the worker's calendar.toml. A website roads
    appeal received Friday 09:00 is due for acknowledgment Saturday 18:00 and for an answer Thursday
    18:00 (Saturday, Monday to Thursday). The same appeal on a worker with the shipped calendar: Monday
    18:00 and Friday 18:00."""
    friday = first_day_like(await ts_env.get_current_time(), "WooWWWWW")
    saturday = friday + timedelta(days=1)
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    custom_calendar(config, saturday)
    received = at(friday, 9)
    plain_queue = f"{task_queue}-plain"
    async with (
        running_worker(ts_env.client, pool, task_queue, replace(Settings(), config_dir=config)),
        running_worker(ts_env.client, pool, plain_queue),
    ):
        await advance_to(ts_env, received)
        states: dict[str, AppealState] = {}
        for queue in (task_queue, plain_queue):
            handle = await start(ts_env.client, queue, make_appeal(received, channel="website", category="roads"))
            states[queue] = await state_of(handle)
            await handle.terminate("test over")

    def deadlines(state: AppealState) -> list[str]:
        return [local_iso(c.due_at) for c in state.clocks]

    assert [c.name for c in states[task_queue].clocks] == ["acknowledge", "answer"]
    assert deadlines(states[task_queue]) == [
        f"{saturday}T18:00:00+05:00",
        f"{friday + timedelta(days=6)}T18:00:00+05:00",
    ]
    assert deadlines(states[plain_queue]) == [
        f"{friday + timedelta(days=3)}T18:00:00+05:00",
        f"{friday + timedelta(days=7)}T18:00:00+05:00",
    ]
    assert [utc_iso(c.due_at) for c in states[task_queue].clocks] == [
        f"{saturday}T13:00:00+00:00",
        f"{friday + timedelta(days=6)}T13:00:00+00:00",
    ]
