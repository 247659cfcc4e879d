"""Real parts only: embedded PostgreSQL, the time-skipping test server and the dev server."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import hypothesis
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from activities import db
from bench.journeys import make_appeal, running_worker  # noqa: F401 (fixtures' helpers, shared with bench/)
from devstack import binaries
from devstack.embedded import EmbeddedPostgres
from stack import search_attributes
from stack.client import DATA_CONVERTER
from stack.codec import new_key_line
from stack.logs import configure

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

configure("WARNING")
# Every payload is encrypted: one fresh key for the session, in the environment, so the CLIs the
# tests spawn (starter.py, appealctl.py, worker.py, dev.py up) encrypt and decrypt with it too.
os.environ["APPEALS_CODEC_KEYS"] = new_key_line("test-session")
os.environ.pop("APPEALS_CODEC_KEYS_FILE", None)
# Property tests are judged by their examples, not by the speed of a busy CI machine.
hypothesis.settings.register_profile("appeals", deadline=None)
hypothesis.settings.load_profile("appeals")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", delete_on_stop=True)
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="session")
async def database_url(postgres: EmbeddedPostgres) -> str:
    return await postgres.ensure_database()


@pytest_asyncio.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url)
    await db.migrate(pool)
    yield pool
    await pool.close()


@pytest_asyncio.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: a month of SLA in milliseconds.

    One per test (it starts in ~0.1 s): a workflow left running by another test
    would fire timers whose activities no worker polls, and that halts skipping.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=binaries.temporal_test_server(),
    )
    # The test server has no ListSearchAttributes; adding is enough there.
    await search_attributes.add(env.client, search_attributes.ALL)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal dev server, with visibility and the custom search attributes."""
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=binaries.temporal_cli(),
        search_attributes=search_attributes.ALL,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"appeals-test-{uuid.uuid4().hex[:8]}"


async def events(pool: asyncpg.Pool, workflow_id: str) -> list[str]:
    rows = await pool.fetch("SELECT kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", workflow_id)
    return [r["kind"] for r in rows]


async def notified(pool: asyncpg.Pool, workflow_id: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT kind, recipient FROM notifications WHERE workflow_id = $1 AND status = 'sent' ORDER BY seq",
        workflow_id,
    )
    return [(r["kind"], r["recipient"]) for r in rows]


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 20.0) -> T:
    """Retry `probe` until it returns something truthy: visibility is eventually consistent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value or loop.time() > deadline:
            return value
        await asyncio.sleep(0.2)


def run_script(
    script: str, address: str, task_queue: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """One of the project's command-line tools, as a user runs it, against a given Temporal."""
    env = os.environ | {"TEMPORAL_ADDRESS": address, "APPEALS_TASK_QUEUE": task_queue}
    return subprocess.run(
        [sys.executable, script, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
