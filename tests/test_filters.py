"""The README's list filters, run against the dev server: each returns what it promises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appeals.models import Acknowledge, AskCitizen
from stack.filters import filters
from starter import submit
from tests.conftest import eventually, make_appeal, running_worker
from tests.scenarios import PERM, wait_for
from workflows.appeal import AppealWorkflow

pytestmark = pytest.mark.e2e


async def ids(client, query: str, ours: set[str]) -> set[str]:
    return {w.id async for w in client.list_workflows(query)} & ours


async def test_each_filter_returns_what_it_promises(dev_env, pool, task_queue):
    client = dev_env.client
    now = datetime.now(UTC)
    year_ago = now - timedelta(days=365)
    async with running_worker(client, pool, task_queue):
        appeals = {
            "stale": make_appeal(year_ago),  # both deadlines long gone: overdue, escalated
            "fresh": make_appeal(now),  # acknowledged: in progress, answer due later
            "asking": make_appeal(now),  # waiting for the citizen
        }
        handles = {}
        for name, appeal in appeals.items():
            await submit(client, appeal, task_queue=task_queue)
            handles[name] = client.get_workflow_handle(appeal.workflow_id)
            await wait_for(handles[name], lambda s: s.executor is not None)
        # The stale appeal's overdue alarms fire one timer after another: let it get to its breach.
        await wait_for(handles["stale"], lambda s: s.sla_breached)
        await handles["fresh"].execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        await handles["asking"].execute_update(
            AppealWorkflow.ask_citizen, AskCitizen(by="ivanov", question="Уточните номер дома")
        )
        ours = {a.workflow_id for a in appeals.values()}
        fresh_due = (await handles["fresh"].query(AppealWorkflow.get_state)).clock("answer").due_at
        queries = filters(datetime.now(UTC), PERM, executor="perm-roads@gorodperm.ru")

        async def settled() -> bool:
            return await ids(client, queries["waiting for the citizen"], ours) == {appeals["asking"].workflow_id}

        assert await eventually(settled)
        assert await ids(client, queries["overdue now"], ours) == {appeals["stale"].workflow_id}
        # Escalations go out in working hours only, so whether the stale appeal has reached level 2
        # depends on when the test runs; the filter must agree with the workflow's own state.
        stale = await handles["stale"].query(AppealWorkflow.get_state)
        expected = {appeals["stale"].workflow_id} if stale.escalation_level >= 2 else set()
        assert await ids(client, queries["escalated to level 2 or higher"], ours) == expected
        assert await ids(client, queries["by executor"], ours) == ours
        due_soon = await ids(client, queries["due within the next working hour"], ours)
        window_end = PERM.add_working_time(datetime.now(UTC), timedelta(hours=1))
        assert due_soon == ({appeals["fresh"].workflow_id} if fresh_due < window_end else set())

        async def stale_breached() -> set[str]:
            found = await ids(client, queries["breached at any time, still open"], ours)
            return found if appeals["stale"].workflow_id in found else set()

        breached = await eventually(stale_breached)  # each overdue alarm fires through its own timer
        assert appeals["stale"].workflow_id in breached and appeals["fresh"].workflow_id not in breached
        for handle in handles.values():
            await handle.terminate("test over")
