"""The Temporal Schedule that starts the retention workflow (152-ФЗ), created idempotently.

Every worker calls `ensure_retention_schedule` at start. The first creates the schedule;
the others (and later starts) update it to the current settings, keeping its state, so
an operator's pause survives a worker restart. Overlapping runs are skipped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.retention import RetentionRequest
from stack import logs
from stack.settings import Settings
from workflows.retention import RetentionWorkflow

SCHEDULE_ID = "appeals-retention"
# One run should finish well within a day; a stuck one is cut off and the next takes over.
RUN_TIMEOUT = timedelta(hours=12)

log = logs.get(__name__)


def retention_schedule(settings: Settings, schedule_id: str = SCHEDULE_ID) -> Schedule:
    if settings.retention_days < 1:
        raise SystemExit(f"APPEALS_RETENTION_DAYS={settings.retention_days}: give a whole number of days, 1 or more")
    if settings.retention_every_hours < 1:
        raise SystemExit(f"APPEALS_RETENTION_EVERY_HOURS={settings.retention_every_hours}: give 1 or more")
    if not 1 <= settings.retention_batch <= 5000:
        raise SystemExit(f"APPEALS_RETENTION_BATCH={settings.retention_batch}: give 1 to 5000")
    request = RetentionRequest(retention_days=settings.retention_days, batch_size=settings.retention_batch)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run,
            request,
            id=schedule_id,  # each run's id is this plus the scheduled time
            task_queue=settings.task_queue,
            execution_timeout=RUN_TIMEOUT,
            static_summary=f"erase personal data of appeals closed over {settings.retention_days} days ago",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=settings.retention_every_hours))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_retention_schedule(
    client: Client, settings: Settings, *, schedule_id: str = SCHEDULE_ID
) -> Literal["created", "updated"]:
    """Create the retention schedule, or bring an existing one up to the current settings."""
    schedule = retention_schedule(settings, schedule_id)
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule.state = current.description.schedule.state  # e.g. paused by an operator
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(keep_state)
        log.info("retention schedule updated", schedule_id=schedule_id, retention_days=settings.retention_days)
        return "updated"
    log.info("retention schedule created", schedule_id=schedule_id, retention_days=settings.retention_days)
    return "created"
