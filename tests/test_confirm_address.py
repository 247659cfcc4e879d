"""The step that shipped as the extension example: after acknowledgment, an appeal with an
address asks the citizen to confirm it (workflows/appeal/steps/confirm_address.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from appeals import clocks
from appeals.durations import Duration
from appeals.models import Acknowledge, AppealStatus
from stack.errors import reason
from tests.conftest import eventually, make_appeal, notified, running_worker
from tests.scenarios import PERM, advance, start, state_of, to_monday_morning, wait_for
from workflows.appeal import AppealWorkflow
from workflows.appeal.steps.confirm_address import ConfirmAddress


def website_appeal(monday: datetime, **fields: object):
    return make_appeal(
        monday, channel="website", category="yard_improvement", address="Пермь, ул. Ленина, 50", **fields
    )


def kinds(state) -> list[str]:
    return [e.kind for e in state.timeline]


async def asked(handle):
    await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
    return await wait_for(handle, lambda s: "address_confirmation_asked" in kinds(s))


async def test_the_citizen_confirms_and_the_clocks_move_by_the_wait(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, website_appeal(monday))
        state = await asked(handle)
        assert state.status == AppealStatus.waiting_for_citizen
        answer = state.clock("answer")
        assert answer.paused_since is not None
        due_before = answer.due_at
        await advance(ts_env, timedelta(hours=2))  # 09:00 → 11:00 on a working Monday
        await handle.execute_update(AppealWorkflow.confirm_address, ConfirmAddress(by="citizen"))
        state = await wait_for(handle, lambda s: "address_confirmed" in kinds(s))
        await handle.terminate("test over")
    assert state.status == AppealStatus.in_progress
    assert state.clock("answer").due_at == PERM.add_working_time(due_before, timedelta(hours=2))
    assert state.clock("address_confirmation").stopped_at is not None
    assert ("address_confirmation_asked", "+7 912 000-00-00") in await notified(pool, handle.id)


async def test_a_correction_to_another_municipality_routes_again(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, website_appeal(monday))
        assert (await state_of(handle)).executor.address == "perm-roads@gorodperm.ru"
        await asked(handle)
        fix = ConfirmAddress(by="citizen", address="Кунгур, ул. Советская, 1", municipality="Кунгур")
        await handle.execute_update(AppealWorkflow.confirm_address, fix)
        state = await wait_for(handle, lambda s: "address_corrected" in kinds(s))
        await handle.terminate("test over")
    assert state.appeal.address == "Кунгур, ул. Советская, 1" and state.appeal.municipality == "Кунгур"
    assert state.executor.address == "tsur-triage@permkrai.ru"
    corrected = next(e for e in state.timeline if e.kind == "address_corrected")
    assert corrected.data["executor"] == "tsur-triage@permkrai.ru"
    row = await pool.fetchrow("SELECT executor, municipality FROM appeals WHERE workflow_id = $1", handle.id)
    assert (row["executor"], row["municipality"]) == ("tsur-triage@permkrai.ru", "Кунгур")


async def test_silence_past_the_clock_continues_with_the_address_as_given(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, website_appeal(monday))
        state = await asked(handle)
        waiting = state.clock("address_confirmation")
        day = Duration.model_validate("1 working day")
        assert waiting.due_at == clocks.start_clock(PERM, "x", waiting.started_at, day, []).due_at
        while await ts_env.get_current_time() <= waiting.due_at:  # past the clock, in steps
            await advance(ts_env, timedelta(hours=3))
        state = await wait_for(handle, lambda s: "address_unconfirmed" in kinds(s))
        await handle.terminate("test over")
    assert state.status == AppealStatus.in_progress
    assert state.appeal.address == "Пермь, ул. Ленина, 50"
    assert state.escalation_level == 0 and not state.sla_breached  # silence is not the executor's fault


async def test_a_reply_when_nothing_waits_is_refused(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday, address="Пермь, ул. Ленина, 50"))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(AppealWorkflow.confirm_address, ConfirmAddress(by="citizen"))
        assert reason(refused.value) == "the appeal is not waiting for the citizen to confirm the address"
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        state = await eventually(lambda: state_of(handle))
        await handle.terminate("test over")
    assert "address_confirmation_asked" not in kinds(state)  # the social policy has no such step


@pytest.mark.e2e
async def test_the_address_step_on_the_dev_server(dev_env, pool, task_queue):
    """The same step end to end on the dev server: real time, real PostgreSQL, the outbox delivering."""
    client = dev_env.client
    async with running_worker(client, pool, task_queue):
        appeal = website_appeal(datetime.now(UTC) - timedelta(minutes=1))
        handle = await start(client, task_queue, appeal)
        await asked(handle)
        fix = ConfirmAddress(by="citizen", address="Кунгур, ул. Советская, 1", municipality="Кунгур")
        await handle.execute_update(AppealWorkflow.confirm_address, fix)
        state = await wait_for(handle, lambda s: "address_corrected" in kinds(s))
        await handle.terminate("test over")
    assert state.executor.address == "tsur-triage@permkrai.ru" and state.status == AppealStatus.in_progress
    stored = [
        r["kind"]
        for r in await pool.fetch("SELECT kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", handle.id)
    ]
    assert stored[-2:] == ["address_confirmation_asked", "address_corrected"]
    assert ("address_confirmation_asked", "+7 912 000-00-00") in await notified(pool, handle.id)
