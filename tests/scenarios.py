"""Appeal journeys shared by the tests, the recorded histories and the benchmarks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from appeals.models import Acknowledge, AppealInput, AppealResult, AppealState, SubmitAnswer
from starter import submit
from tests.conftest import make_appeal
from workflows.appeal import AppealWorkflow

ANSWER_TEXT = (
    "Снег во дворе дома на ул. Ленина, 50 вывезен 30.11 подрядчиком «Пермблагоустройство», "
    "проезд расчищен до асфальта, фото прилагаем."
)


async def advance(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Skip `duration` of test-server time in steps.

    One long `env.sleep` that spans several timers which each schedule activities
    can stall the Java test server's time skipping; short steps never do.
    """
    step = timedelta(minutes=20)
    while duration > timedelta(0):
        await env.sleep(min(step, duration))
        duration -= step


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


async def start(client: Client, task_queue: str, appeal: AppealInput) -> WorkflowHandle:
    submission = await submit(client, appeal, task_queue=task_queue)
    assert submission.created
    handle = client.get_workflow_handle(submission.workflow_id, result_type=AppealResult)
    await wait_for(handle, lambda s: s.executor is not None)
    return handle


async def happy_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """Acknowledged in 10 minutes, answered in 3 hours, closed with no breach."""
    appeal = make_appeal(await env.get_current_time())
    handle = await start(env.client, task_queue, appeal)
    await advance(env, timedelta(minutes=10))
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    await advance(env, timedelta(hours=3))
    await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="ivanov", text=ANSWER_TEXT))
    await handle.result()
    return handle


async def escalated_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    """Acknowledgment missed (two escalations), then the answer missed (the ladder tops out)."""
    appeal = make_appeal(await env.get_current_time())
    handle = await start(env.client, task_queue, appeal)
    # social policy: acknowledge within 1h, answer within 8h, escalate every 2h.
    await advance(env, timedelta(hours=3, minutes=1))
    await wait_for(handle, lambda s: s.escalation_level == 2)
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    await advance(env, timedelta(hours=7))
    await wait_for(handle, lambda s: s.escalation_level == 3)
    await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="ivanov", text=ANSWER_TEXT))
    await handle.result()
    return handle
