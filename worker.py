"""Run an appeals worker against a Temporal cluster and PostgreSQL.

    TEMPORAL_ADDRESS=temporal:7233 APPEALS_DATABASE_URL=postgresql://... python worker.py

Start as many as the load needs; each applies pending migrations (under a lock)
and registers missing search attributes. For everything embedded on one
machine, use `python3 dev.py up` instead.
"""

from __future__ import annotations

import asyncio
import sys

from stack import logs, metrics
from stack.client import connect
from stack.process import exit_now
from stack.settings import Settings
from stack.workers import serve, stop_on_signals


async def main() -> None:
    settings = Settings()
    logs.configure(settings.log_level)
    if not settings.database_url:
        sys.exit("worker.py needs APPEALS_DATABASE_URL (or run `python3 dev.py up`)")
    stop = stop_on_signals()
    rt = metrics.runtime(settings.metrics_port, settings.metrics_host)
    client = await connect(settings, runtime=rt)
    await serve(client, settings.database_url, settings, stop, rt)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (ConnectionError, FileNotFoundError, ValueError) as err:
        print(f"worker: {err}", file=sys.stderr)
        exit_now(1)
    exit_now(0)
