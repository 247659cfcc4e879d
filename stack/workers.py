"""Build and run the appeals worker; shared by `worker.py` and the embedded stack."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities import db
from activities.checking import CheckingActivities
from activities.incidents import IncidentActivities
from activities.notifications import NotificationActivities
from activities.outbox import NotificationOutbox
from activities.planning import PlanningActivities
from activities.publishing import PublishingActivities
from activities.retention import RetentionActivities
from activities.storage import StorageActivities
from stack import channels, intake_watch, logs, metrics, search_attributes
from stack.activation_learning import LearningOrderRunner
from stack.outbox import deliver_forever
from stack.retention_schedule import ensure_retention_schedule
from stack.settings import Settings
from workflows.appeal import AppealWorkflow
from workflows.incident import IncidentWorkflow
from workflows.retention import RetentionWorkflow
from workflows.unknown import UnknownWorkflow

log = logs.get(__name__)


def cache_bytecode(settings: Settings) -> Path | None:
    """Keep .pyc files for the modules the workflow sandbox re-imports for every new run, under
    `settings.pycache_dir` (not beside the sources), even where PYTHONDONTWRITEBYTECODE is set:
    without them each run compiles the workflow modules from source again (about a third of the
    replay CPU in bench/cost.py). Returns the directory, or None when switched off or unwritable."""
    if settings.pycache_dir == "off":
        return None
    where = Path(settings.pycache_dir) if settings.pycache_dir else settings.data_dir / "pycache"
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        log.warning("no bytecode cache: the sandbox compiles from source", reason=type(err).__name__)
        return None
    sys.pycache_prefix = str(where)
    sys.dont_write_bytecode = False
    return where


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    *,
    task_queue: str | None = None,
    runner: WorkflowRunner | None = None,
) -> Worker:
    cache_bytecode(settings)
    planning = PlanningActivities(settings.config_dir)
    planning.check()
    checking = CheckingActivities(settings.config_dir)
    checking.check()
    checking.warm_up()  # the Russian dictionaries load once per worker, here
    notifier = channels.notifier(settings)
    storage = StorageActivities(pool, adapter=notifier.name)
    notifications = NotificationActivities(pool, notifier)
    publishing = PublishingActivities(pool, channels.publishers(settings))
    incidents = IncidentActivities(pool, settings.config_dir)
    retention = RetentionActivities(pool)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[AppealWorkflow, IncidentWorkflow, RetentionWorkflow, UnknownWorkflow],
        activities=[
            planning.plan_appeal,
            checking.check_answer,
            storage.record_event,
            storage.record_batch,
            storage.appeal_exists,
            notifications.send_notification,
            publishing.publish_answer,
            incidents.save_incident,
            incidents.find_open_incident,
            incidents.find_matching_appeals,
            retention.start_retention_run,
            retention.erase_closed_appeals,
            retention.finish_retention_run,
        ],
        # Replays the SDK would group differently from the recording worker are retried in the
        # recorded grouping (stack/activation_learning.py); every other run is left as it is.
        workflow_runner=LearningOrderRunner(runner or SandboxedWorkflowRunner()),
        max_concurrent_workflow_tasks=settings.workflow_task_slots,
        activity_executor=ThreadPoolExecutor(max_workers=4, thread_name_prefix="activities"),  # sync checking
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


def outbox(pool: asyncpg.Pool, settings: Settings) -> NotificationOutbox:
    """Where the workflows' notifications are delivered from (run it with stack.outbox)."""
    return NotificationOutbox(pool, channels.notifier(settings))


@asynccontextmanager
async def prepared_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a migrated database."""
    pool = await db.create_pool(database_url)
    try:
        applied = await db.migrate(pool)
        log.info("database ready", migrations_applied=applied)
        yield pool
    finally:
        await pool.close()


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(
    client: Client, database_url: str, settings: Settings, stop: asyncio.Event, rt: Runtime | None = None
) -> None:
    """Migrate, register search attributes, and poll the task queue until `stop` is set."""
    added = await search_attributes.register(client)
    if added:
        log.info("search attributes registered", added=added)
    await ensure_retention_schedule(client, settings)
    async with prepared_pool(database_url) as pool:
        worker = build_worker(client, pool, settings)
        background = [
            asyncio.create_task(intake_watch.watch(client, pool, rt, settings.task_queue)),
            asyncio.create_task(deliver_forever(outbox(pool, settings))),
        ]
        if rt:
            background.append(asyncio.create_task(metrics.export_open_appeals(rt, pool)))
        async with worker:
            log.info("worker polling", task_queue=settings.task_queue, namespace=client.namespace)
            await stop.wait()
            log.info("worker stopping: finishing the tasks in hand")
        for task in background:
            task.cancel()
