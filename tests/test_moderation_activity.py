"""The checker as the workflow uses it: a sync local activity on the worker's thread pool,
its report pinned in the history as the local activity's result."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.checking import CheckingActivities
from appeals.moderation import QualityReport, Verdict
from appeals.records import CheckRequest

ROOT = Path(__file__).resolve().parent.parent


@workflow.defn(sandboxed=False)
class CheckOnce:
    @workflow.run
    async def run(self, request: CheckRequest) -> QualityReport:
        return await workflow.execute_local_activity_method(
            CheckingActivities.check_answer, request, start_to_close_timeout=timedelta(seconds=10)
        )


def _worker(env: WorkflowEnvironment, task_queue: str, executor: ThreadPoolExecutor | None) -> Worker:
    checking = CheckingActivities(ROOT / "config")
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[CheckOnce],
        activities=[checking.check_answer],
        activity_executor=executor,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


async def test_the_check_runs_on_the_thread_pool_and_is_pinned_in_history(ts_env: WorkflowEnvironment):
    task_queue = f"check-{uuid.uuid4().hex[:8]}"
    request = CheckRequest(
        answer="Меры по Вашему обращению будут приняты, ситуацию взяли на контроль.",
        appeal_text="Яма у дома 25, когда отремонтируют?",
        attachments=0,
        citizen_contacts=[],
    )
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with _worker(ts_env, task_queue, executor):
            handle = await ts_env.client.start_workflow(
                CheckOnce.run, request, id=f"check-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )
            report = await handle.result()
            history = await handle.fetch_history()
    assert report.verdict is Verdict.formal
    assert any("взяли на контроль" in r.fragment for r in report.reasons)
    markers = [e for e in history.events if e.HasField("marker_recorded_event_attributes")]
    assert len(markers) == 1  # the verdict is recorded once; a replay reuses it


async def test_a_sync_activity_needs_the_workers_executor(ts_env: WorkflowEnvironment):
    """What stack/workers.py build_worker must pass: `activity_executor=ThreadPoolExecutor(...)`."""
    with pytest.raises(ValueError, match="executor"):
        _worker(ts_env, "no-executor", None)
