"""`python3 dev.py up`: the whole engine on one machine, no Docker.

PostgreSQL (unless APPEALS_DATABASE_URL is set), the Temporal dev server with its
Web UI (unless TEMPORAL_ADDRESS is set), migrations, search attributes and the
worker. Ctrl-C stops everything; the next start resumes the appeals in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from activities.db import create_pool
from activities.planning import CALENDAR_FILE, load
from appeals.working_calendar import CalendarConfig
from stack import demo, logs, metrics, reports
from stack.client import connect
from stack.demo import prepare_config
from stack.embedded import DevServer, EmbeddedPostgres
from stack.process import exit_now
from stack.settings import Settings
from stack.workers import serve, stop_on_signals

READY = "appeals engine ready"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def main(demo: bool = False) -> None:
    settings = Settings()
    if demo:  # minutes instead of hours, in a data directory of its own
        data_dir = settings.data_dir.with_name(settings.data_dir.name + "-demo")
        config_dir = prepare_config(data_dir / "config", [datetime.now(UTC).year, datetime.now(UTC).year + 1])
        settings = replace(settings, data_dir=data_dir, config_dir=config_dir)
    logs.configure(settings.log_level)
    stop = stop_on_signals()
    with contextlib.ExitStack() as cleanup:
        database_url = settings.database_url
        if database_url is None:
            say(f"· starting PostgreSQL in {settings.data_dir / 'postgres'} …")
            postgres = EmbeddedPostgres(settings.data_dir / "postgres")
            cleanup.callback(postgres.stop)
            database_url = await postgres.ensure_database()
        address = settings.temporal_address
        ui_url = None
        if address is None:
            say(f"· starting the Temporal dev server on port {settings.dev_server_port} …")
            server = DevServer(
                settings.data_dir / "temporal.db",
                port=settings.dev_server_port,
                ui_port=settings.ui_port,
                namespace=settings.namespace,
            )
            cleanup.callback(server.stop)
            await server.start()
            address, ui_url = server.address, server.ui_url
        rt = metrics.runtime(settings.metrics_port)
        client = await connect(settings, address, runtime=rt)
        worker = asyncio.create_task(serve(client, database_url, settings, stop, rt))
        await asyncio.sleep(0)
        # The worker is polling once serve() reaches stop.wait(); wait for that or a failure.
        while not worker.done() and not stop.is_set():
            if await _polling(client, settings.task_queue):
                break
            await asyncio.sleep(0.2)
        if not worker.done():
            say(
                f"\n{READY}.\n"
                f"  Temporal UI:  {ui_url or '(your cluster UI)'}/namespaces/{settings.namespace}"
                "/workflows\n"
                f"  Temporal:     {address}   task queue: {settings.task_queue}\n"
                f"  Database:     {database_url}\n"
                f"  Submit:       .venv/bin/python starter.py submit examples/appeal.json\n"
                f'  Filter in the UI, e.g.:  AppealStatus="awaiting_acknowledgment"\n'
                "  Stop:         Ctrl-C\n"
            )
        player = asyncio.create_task(_play_demo(client, settings, database_url, ui_url)) if demo else None
        await worker
        if player is not None and not player.done():
            player.cancel()
        say("· stopped cleanly; `python3 dev.py up` resumes the appeals in flight")


async def _play_demo(client: Client, settings: Settings, database_url: str, ui_url: str | None) -> None:
    say("· demo: submitting 24 appeals with simulated officials (about 5 minutes) …")
    started = datetime.now(UTC)
    ids = await demo.run(client, settings.task_queue)
    await asyncio.sleep(90)  # the last feedback windows close
    config, _ = load(settings.config_dir / CALENDAR_FILE, CalendarConfig)
    pool = await create_pool(database_url, max_size=2)
    try:
        report = await reports.build_report(pool, started - timedelta(minutes=5), datetime.now(UTC), config)
    finally:
        await pool.close()
    path = settings.data_dir / "demo-report.html"
    path.write_text(reports.render_html(report), encoding="utf-8")
    say(f"· demo: {len(ids)} appeals played; SLA report: {path}\n  In the UI: {ui_url}  (try SlaBreached=true)")


async def _polling(client: Client, task_queue: str) -> bool:
    """True once our worker polls the task queue."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return any(p.identity == client.identity for p in response.pollers)


if __name__ == "__main__":
    try:
        asyncio.run(main(demo="--demo" in sys.argv[1:]))
    except (ConnectionError, FileNotFoundError, RuntimeError, TimeoutError, ValueError) as err:
        print(f"up: {err}", file=sys.stderr)
        exit_now(1)
    exit_now(0)
