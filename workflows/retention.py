"""RetentionWorkflow: erase the personal data of appeals closed long ago (152-ФЗ).

A Temporal Schedule (stack/retention_schedule.py) starts it, by default once a day.
It only orchestrates: record the run, erase in batches until a batch comes back short,
mark the run finished. The cutoff is fixed once per run (workflow time minus the
retention period) and carried through continue-as-new, so a long run erases up to one
instant. Every activity is idempotent: a retry or a crash repeats nothing.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.retention import (
        RetentionActivities,
        RetentionBatch,
        RetentionReport,
        RetentionRequest,
        RetentionRun,
    )

RETENTION_WORKFLOW_TYPE = "RetentionWorkflow"
BOOK_TIMEOUT = timedelta(seconds=30)
BATCH_TIMEOUT = timedelta(minutes=5)
# The database may be down for a while; the run waits for it rather than failing.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn(name=RETENTION_WORKFLOW_TYPE, failure_exception_types=[ValidationError])
class RetentionWorkflow:
    @workflow.run
    async def run(self, request: RetentionRequest) -> RetentionReport:
        cutoff = request.cutoff or workflow.now() - timedelta(days=request.retention_days)
        run_key = workflow.info().workflow_id
        await workflow.execute_activity_method(
            RetentionActivities.start_retention_run,
            RetentionRun(run_key=run_key, cutoff=cutoff, retention_days=request.retention_days),
            start_to_close_timeout=BOOK_TIMEOUT,
            retry_policy=RETRY,
            summary="record the run",
        )
        while True:
            erased = await workflow.execute_activity_method(
                RetentionActivities.erase_closed_appeals,
                RetentionBatch(run_key=run_key, cutoff=cutoff, limit=request.batch_size),
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=RETRY,
                summary=f"erase up to {request.batch_size} appeals",
            )
            if erased < request.batch_size:
                break
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(request.model_copy(update={"cutoff": cutoff}))
        return await workflow.execute_activity_method(
            RetentionActivities.finish_retention_run,
            run_key,
            start_to_close_timeout=BOOK_TIMEOUT,
            retry_policy=RETRY,
            summary="mark the run finished",
        )
