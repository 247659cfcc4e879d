"""`python3 dev.py up`: the whole engine on one machine, no Docker.

PostgreSQL (unless APPEALS_DATABASE_URL is set), the Temporal dev server with its
Web UI (unless TEMPORAL_ADDRESS is set), the codec server the UI decodes payloads
through, migrations, search attributes and the worker. Ctrl-C stops everything;
the next start resumes the appeals in flight.

On the first run it generates the payload encryption key and the codec server's
credential in the data directory (mode 0600), unless they are configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from activities.db import create_pool
from activities.planning import CALENDAR_FILE, load
from api import server as api_server
from appeals.working_calendar import CalendarConfig
from devstack import demo
from devstack.demo import prepare_config
from devstack.embedded import DevServer, EmbeddedPostgres
from stack import codec_server, logs, metrics
from stack.client import connect, data_converter
from stack.codec import EncryptionCodec, ensure_keys_file
from stack.process import exit_now
from stack.settings import Settings
from stack.workers import serve, stop_on_signals
from tools import reports

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
    keys_from, generated = ensure_keys_file(settings)
    if generated:
        say(f"· generated the payload encryption key in {keys_from} (keep it: without it the data is unreadable)")
    tokens_from = codec_server.ensure_tokens_file(settings) or "APPEALS_CODEC_TOKENS"
    stop = stop_on_signals()
    async with contextlib.AsyncExitStack() as cleanup:
        database_url = settings.database_url
        if database_url is None:
            say(f"· starting PostgreSQL in {settings.data_dir / 'postgres'} …")
            postgres = EmbeddedPostgres(settings.data_dir / "postgres")
            cleanup.callback(postgres.stop)
            database_url = await postgres.ensure_database()
        codec = data_converter(settings).payload_codec
        assert isinstance(codec, EncryptionCodec)
        codec_url = f"http://localhost:{settings.codec_port}"
        app = codec_server.build_app(
            codec, codec_server.credentials_from(settings), codec_server.cors_origins(settings)
        )
        cleanup.push_async_callback((await codec_server.start(app, settings.codec_host, settings.codec_port)).cleanup)
        address = settings.temporal_address
        ui_url = None
        if address is None:
            say(f"· starting the Temporal dev server on port {settings.dev_server_port} …")
            server = DevServer(
                settings.data_dir / "temporal.db",
                port=settings.dev_server_port,
                ui_port=settings.ui_port,
                namespace=settings.namespace,
                codec_endpoint=codec_url,
            )
            cleanup.callback(server.stop)
            await server.start()
            address, ui_url = server.address, server.ui_url
        rt = metrics.runtime(settings.metrics_port, settings.metrics_host)
        client = await connect(settings, address, runtime=rt)
        # The HTTP API, on the same client (api/; alone: api_server.py). Stops before the servers.
        api, api_key_file, _ = await api_server.start_embedded(client, database_url, settings)
        cleanup.push_async_callback(api.stop)
        worker = asyncio.create_task(serve(client, database_url, settings, stop, rt))
        await asyncio.sleep(0)
        # The worker is polling once serve() reaches stop.wait(); wait for that or a failure.
        while not worker.done() and not stop.is_set():
            if await _polling(client, settings.task_queue):
                break
            await asyncio.sleep(0.2)
        if not worker.done():
            inline = tokens_from == "APPEALS_CODEC_TOKENS"
            token = '"Bearer <token>"' if inline else f'"Bearer $(cut -d: -f2- {tokens_from})"'
            say(
                f"\n{READY}.\n"
                f"  Temporal UI:  {ui_url or '(your cluster UI)'}/namespaces/{settings.namespace}"
                "/workflows\n"
                f"  Temporal:     {address}   task queue: {settings.task_queue}\n"
                f"  Codec server: {codec_url}   payloads encrypted with key {codec.keyring.current} ({keys_from})\n"
                f"  Credential:   in {tokens_from}; sign the UI in at {codec_url}/login\n"
                f"  Decode (CLI): temporal workflow show -w <id> --codec-endpoint {codec_url} --codec-auth {token}\n"
                f"  Database:     {masked(database_url)}\n"
                f"  Submit:       .venv/bin/python starter.py submit examples/appeal.json\n"
                f"  HTTP API:     {api.url}   docs {api.url}/docs   operator key in {api_key_file}\n"
                f'                curl -H "Authorization: Bearer $(cat {api_key_file})" {api.url}/appeals\n'
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


def masked(url: str) -> str:
    """A database URL fit to print: the password, in the userinfo or as a parameter, is ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


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
