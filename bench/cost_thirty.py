"""The 30-day path under time skipping, for its history: a 59-ФЗ appeal received Monday 09:00 by
ПОС, acknowledged at 10:00, paused Tuesday 10:00 to Thursday 10:00, committed on day 10 to day
24, the date missed (escalations Friday 09:00 and Monday 09:00), answered and published, closed
after the 7-day feedback window. The same journey as the tests' thirty_day_path, driven here
without importing tests/."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import asyncpg
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from appeals.models import Acknowledge, DeclareWhiteSpot, Moderate, PauseClocks, ResumeClocks
from appeals.working_calendar import CalendarConfig, WorkingCalendar
from bench.cost_drive import good_answer, make_appeal, run_tag, start_appeal
from devstack import binaries
from stack import search_attributes
from stack.client import DATA_CONVERTER
from stack.settings import REPO_ROOT, Settings
from stack.workers import build_worker

TASK_QUEUE = "cost-thirty-day"
WHY = "Нужна замена участка теплотрассы, работы возможны только после отопительного сезона"


def perm_calendar() -> WorkingCalendar:
    config = CalendarConfig.model_validate(tomllib.loads((REPO_ROOT / "config" / "calendar.toml").read_text()))
    return WorkingCalendar.for_municipality(config, "Пермь")


def full_week_monday(calendar: WorkingCalendar, after: datetime) -> datetime:
    """09:00 Perm time on the first Monday after `after` whose week has five full working days."""
    day = calendar.local_date(after) + timedelta(days=1)
    while True:
        week = [day + timedelta(days=n) for n in range(5)]
        if day.weekday() == 0 and all(
            len(calendar.working_intervals(d)) == 2 and calendar.working_intervals(d)[-1][1].hour == 18 for d in week
        ):
            return datetime.combine(day, time(9), calendar.zone)
        day += timedelta(days=1)


async def advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    gap = moment - await env.get_current_time()
    if gap > timedelta(0):
        await env.sleep(gap)


async def wait_for(
    handle: WorkflowHandle[Any, Any], predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> None:
    """Query the state (as plain JSON) until `predicate` holds: timers fire, then the worker catches up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await handle.query("get_state")
        if predicate(state):
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{handle.id}: the state never matched; status {state.get('status')!r}")
        await asyncio.sleep(0.05)


async def thirty_day_history(pool: asyncpg.Pool) -> WorkflowHistory:
    # The SDK core warns that the test server lacks a capability the bench does not use: errors only.
    quiet = LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=binaries.temporal_test_server(),
        runtime=Runtime(telemetry=TelemetryConfig(logging=quiet)),
    )
    try:
        await search_attributes.add(env.client, search_attributes.ALL)
        async with build_worker(env.client, pool, Settings(), task_queue=TASK_QUEUE):
            return await _journey(env)
    finally:
        await env.shutdown()


async def _journey(env: WorkflowEnvironment) -> WorkflowHistory:
    calendar = perm_calendar()
    now = await env.get_current_time()
    monday = full_week_monday(calendar, now)
    await env.sleep(monday - now)
    appeal = make_appeal(monday, f"cost-30d-{run_tag()}", channel="pos", category="heating")
    await start_appeal(env.client, TASK_QUEUE, appeal)
    handle = env.client.get_workflow_handle(appeal.workflow_id)
    await wait_for(handle, lambda s: s.get("executor") is not None)
    await advance_to(env, monday + timedelta(hours=1))
    await handle.execute_update("acknowledge", Acknowledge(by="ivanov"))
    await advance_to(env, monday + timedelta(days=1, hours=1))
    await handle.execute_update("pause", PauseClocks(by="ivanov", reason=WHY))
    await advance_to(env, monday + timedelta(days=3, hours=1))
    await handle.execute_update("resume", ResumeClocks(by="ivanov"))
    await advance_to(env, monday + timedelta(days=10, hours=1))
    committed = calendar.local_date(monday) + timedelta(days=24)
    await handle.execute_update(
        "declare_white_spot", DeclareWhiteSpot(by="ivanov", reason=WHY, committed_date=committed)
    )
    await advance_to(env, monday + timedelta(days=28, hours=1))
    await wait_for(handle, lambda s: s.get("escalation_level") == 2)
    await handle.execute_update("answer", good_answer())
    await wait_for(handle, lambda s: s.get("status") == "in_moderation")
    await handle.execute_update("moderate", Moderate(by="moderator", accept=True))
    await wait_for(handle, lambda s: s.get("status") == "answered")
    await env.sleep(timedelta(days=7, minutes=1))
    result = await handle.result()
    status = result.get("status") if isinstance(result, dict) else getattr(result, "status", None)
    if status != "closed":
        raise RuntimeError(f"the 30-day path ended as {status!r}, not 'closed'")
    return await handle.fetch_history()
