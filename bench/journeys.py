"""Appeal journeys shared by the tests, the recorded histories and the benchmarks (tests import
them from here; bench/ never imports tests/).

Journeys start at 09:00 Perm time on a Monday that begins a full working week, so
every deadline below can be checked by hand: working hours are 09:00–18:00 with
lunch 13:00–14:00 (config/calendar.toml).
"""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner

from appeals.models import (
    Acknowledge,
    AppealInput,
    AppealStatus,
    Attachment,
    DeclareWhiteSpot,
    Moderate,
    PauseClocks,
    Recipient,
    Redirect,
    Refute,
    ResumeClocks,
    SubmitAnswer,
)
from appeals.state import AppealResult, AppealState
from appeals.working_calendar import CalendarConfig, WorkingCalendar
from stack.intake import submit
from stack.outbox import deliver_forever
from stack.settings import REPO_ROOT, Settings
from stack.workers import build_worker, outbox
from workflows.appeal import AppealWorkflow
from workflows.appeal.steps.confirm_address import ConfirmAddress


@asynccontextmanager
async def running_worker(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    settings: Settings | None = None,
    runner: WorkflowRunner | None = None,
) -> AsyncIterator[Worker]:
    settings = settings or Settings()
    worker = build_worker(client, pool, settings, task_queue=task_queue, runner=runner)
    sender = outbox(pool, settings)
    delivery = asyncio.create_task(deliver_forever(sender, idle=0.1))
    try:
        async with worker:
            yield worker
    finally:
        delivery.cancel()
        # Wait for the loop to let go: a row it held when cancelled is rolled back to pending, and
        # the drain's SKIP LOCKED would pass over it while it is still held.
        with contextlib.suppress(asyncio.CancelledError):
            await delivery
        await sender.deliver_due(limit=10_000)  # what the steps wrote last, before the test reads it


def make_appeal(received_at: datetime, **overrides: Any) -> AppealInput:
    fields: dict[str, Any] = {
        "channel": "vk",
        "external_id": f"post-{uuid.uuid4().hex[:12]}",
        "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
        "author": {"name": "Мария Иванова", "handle": "id123456", "contact": "+7 912 000-00-00"},
        "received_at": received_at.isoformat(),
        "category": "snow_removal",
        "municipality": "Пермь",
    }
    fields.update(overrides)
    return AppealInput.model_validate(fields)


ANSWER_TEXT = (
    "Снег во дворе дома на ул. Ленина, 50 вывезен 30.11 подрядчиком «Пермблагоустройство», "
    "проезд расчищен до асфальта, фото прилагаем."
)
PHOTO = Attachment(url="https://files.example.ru/lenina-50-after.jpg", kind="photo")
FORMAL_TEXT = "Ваше обращение рассмотрено, информация принята к сведению."


def good_answer(by: str = "ivanov") -> SubmitAnswer:
    return SubmitAnswer(by=by, text=ANSWER_TEXT, attachments=[PHOTO])


PERM = WorkingCalendar.for_municipality(
    CalendarConfig.model_validate(tomllib.loads((REPO_ROOT / "config" / "calendar.toml").read_text())),
    "Пермь",
)


def full_week_monday(after: datetime) -> datetime:
    """09:00 Perm time on the first Monday after `after` whose week has five full working days."""
    day = PERM.local_date(after) + timedelta(days=1)
    while True:
        week = [day + timedelta(days=n) for n in range(5)]
        if day.weekday() == 0 and all(
            len(PERM.working_intervals(d)) == 2 and PERM.working_intervals(d)[-1][1].hour == 18 for d in week
        ):
            return datetime.combine(day, time(9), PERM.zone)
        day += timedelta(days=1)


async def to_monday_morning(env: WorkflowEnvironment) -> datetime:
    """Skip the test server's clock to a full-week Monday, 09:00 in Perm."""
    now = await env.get_current_time()
    monday = full_week_monday(now)
    await env.sleep(monday - now)
    return monday


async def advance(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Skip `duration` of test-server time; timers inside it fire and their activities run."""
    if duration > timedelta(0):
        await env.sleep(duration)


async def advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    await advance(env, moment - await env.get_current_time())


async def state_of(handle: WorkflowHandle) -> AppealState:
    return await handle.query(AppealWorkflow.get_state)


async def wait_for(
    handle: WorkflowHandle, predicate: Callable[[AppealState], bool], timeout: float = 15.0
) -> AppealState:
    """Query until the state satisfies `predicate`: timers fire, then the worker catches up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await state_of(handle)
        if predicate(state):
            return state
        if loop.time() > deadline:
            raise AssertionError(f"state never matched; last timeline: {state.timeline}")
        await asyncio.sleep(0.05)


async def answer_and_publish(handle: WorkflowHandle, answer: SubmitAnswer | None = None) -> AppealState:
    """Submit an answer, have the ЦУР moderator accept it, and wait until it is published."""
    await handle.execute_update(AppealWorkflow.answer, answer or good_answer())
    await wait_for(handle, lambda s: s.status == AppealStatus.in_moderation)
    await handle.execute_update(AppealWorkflow.moderate, Moderate(by="moderator", accept=True))
    return await wait_for(handle, lambda s: s.status == AppealStatus.answered)


async def sit_out_feedback_window(env: WorkflowEnvironment, handle: WorkflowHandle, days: int = 2) -> AppealResult:
    """Let the citizen's feedback window (2 calendar days for social appeals, 7 for the website)
    pass; the appeal closes. A handle from `get_workflow_handle` does not skip time by itself."""
    await advance(env, timedelta(days=days, minutes=1))
    return await handle.result()


async def start(client: Client, task_queue: str, appeal: AppealInput) -> WorkflowHandle:
    submission = await submit(client, appeal, task_queue=task_queue)
    assert submission.created
    handle = client.get_workflow_handle(submission.workflow_id, result_type=AppealResult)
    await wait_for(handle, lambda s: s.executor is not None)
    return handle


async def happy_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """Acknowledged in 10 minutes, answered by noon, closed when the feedback window passes."""
    monday = await to_monday_morning(env)
    handle = await start(env.client, task_queue, make_appeal(monday))
    await advance_to(env, monday + timedelta(minutes=10))
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    await advance_to(env, monday + timedelta(hours=3))
    await answer_and_publish(handle)
    await sit_out_feedback_window(env, handle)
    return handle


async def escalated_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """Acknowledgment missed (two escalations), then the answer missed (the ladder tops out).

    Social policy: acknowledge within 1 working hour, answer within 8, escalate every 2.
    Monday 09:00 → acknowledge due 10:00 (level 1 at 10:00, level 2 at 12:00), acknowledged
    12:01; answer due 18:00, level 3 at the next working moment, Tuesday 09:00.
    """
    monday = await to_monday_morning(env)
    handle = await start(env.client, task_queue, make_appeal(monday))
    await advance_to(env, monday + timedelta(hours=3, minutes=1))
    await wait_for(handle, lambda s: s.escalation_level == 2)
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    await advance_to(env, monday + timedelta(days=1, minutes=1))
    await wait_for(handle, lambda s: s.escalation_level == 3)
    await answer_and_publish(handle)
    await sit_out_feedback_window(env, handle)
    return handle


async def thirty_day_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """A 59-ФЗ appeal over a month: a pause, an honest deadline missed, two escalations.

    Monday 09:00 received by ПОС, acknowledged 10:00; paused Tuesday 10:00 to Thursday 10:00
    for the citizen's clarification; on day 10 the executor commits to day 24 (a Thursday);
    the date passes, level 1 goes out Friday 09:00 and level 2 Monday 09:00; answered Monday
    10:00; closed after the 7-day feedback window.
    """
    monday = await to_monday_morning(env)
    handle = await start(env.client, task_queue, make_appeal(monday, channel="pos", category="heating"))
    why = "Нужна замена участка теплотрассы, работы возможны только после отопительного сезона"
    await advance_to(env, monday + timedelta(hours=1))
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    await advance_to(env, monday + timedelta(days=1, hours=1))
    await handle.execute_update(AppealWorkflow.pause, PauseClocks(by="ivanov", reason=why))
    await advance_to(env, monday + timedelta(days=3, hours=1))
    await handle.execute_update(AppealWorkflow.resume, ResumeClocks(by="ivanov"))
    await advance_to(env, monday + timedelta(days=10, hours=1))
    committed = PERM.local_date(monday) + timedelta(days=24)
    await handle.execute_update(
        AppealWorkflow.declare_white_spot, DeclareWhiteSpot(by="ivanov", reason=why, committed_date=committed)
    )
    await advance_to(env, monday + timedelta(days=28, hours=1))
    # When the missed date falls before a long holiday (a run that starts in December), the
    # escalations wait for the working days after it: go on a day at a time until level 2.
    for _ in range(30):
        if (await state_of(handle)).escalation_level >= 2:
            break
        await advance(env, timedelta(days=1))
    await wait_for(handle, lambda s: s.escalation_level == 2)
    await answer_and_publish(handle)
    await advance(env, timedelta(days=7, minutes=1))
    await handle.result()
    return handle


async def full_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """Redirect, a formal answer sent back, rework, publication, a refutation, a second answer, closure."""
    monday = await to_monday_morning(env)
    handle = await start(env.client, task_queue, make_appeal(monday, category="roads"))
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    roads = Recipient(role="executor", address="perm-dorogi@gorodperm.ru")
    await handle.execute_update(
        AppealWorkflow.redirect, Redirect(by="ivanov", to=roads, reason="Двор на балансе МКУ «Пермблагоустройство»")
    )
    await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="petrov", text=FORMAL_TEXT))
    await wait_for(handle, lambda s: s.status == AppealStatus.rework)
    await answer_and_publish(handle, good_answer("petrov"))
    await handle.execute_update(AppealWorkflow.refute, Refute(by="citizen", reason="Снег так и лежит у подъезда"))
    await wait_for(handle, lambda s: s.cycle == 2)
    await answer_and_publish(handle, good_answer("petrov"))
    await sit_out_feedback_window(env, handle)
    return handle


async def address_confirmed(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """A website appeal: acknowledged, the citizen confirms the address, answered, closed."""
    monday = await to_monday_morning(env)
    appeal = make_appeal(monday, channel="website", category="yard_improvement", address="Пермь, ул. Ленина, 50")
    handle = await start(env.client, task_queue, appeal)
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    await wait_for(handle, lambda s: any(e.kind == "address_confirmation_asked" for e in s.timeline))
    await advance(env, timedelta(hours=1))
    await handle.execute_update(AppealWorkflow.confirm_address, ConfirmAddress(by="citizen"))
    await answer_and_publish(handle)
    await sit_out_feedback_window(env, handle, days=7)
    return handle


async def address_corrected(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """The citizen corrects the address to another municipality: routed again, then answered."""
    monday = await to_monday_morning(env)
    appeal = make_appeal(monday, channel="website", category="yard_improvement", address="Пермь, ул. Ленина, 50")
    handle = await start(env.client, task_queue, appeal)
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    await wait_for(handle, lambda s: any(e.kind == "address_confirmation_asked" for e in s.timeline))
    fix = ConfirmAddress(by="citizen", address="Кунгур, ул. Советская, 1", municipality="Кунгур")
    await handle.execute_update(AppealWorkflow.confirm_address, fix)
    await answer_and_publish(handle)
    await sit_out_feedback_window(env, handle, days=7)
    return handle
