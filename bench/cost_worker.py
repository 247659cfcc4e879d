"""The cost bench's processes: the in-memory dev server, and one worker process per task queue,
so each one's CPU is its own.

    python -m bench.cost_worker raw --address HOST:PORT --task-queue Q --ready FILE [--encrypted]
    python -m bench.cost_worker project --address HOST:PORT --task-queue Q --ready FILE \\
        --database-url URL --config-dir DIR [--log-level INFO]

`raw` serves the floor of bench/cost_raw.py with a default Worker; `project` serves the
project's own worker, built by stack.workers.build_worker and connected through
stack.client.connect (payload encryption on), as worker.py does, minus the intake watch
and the retention schedule, which are not per-appeal costs. Each writes FILE once it polls
and stops on SIGTERM. `WorkerProcess` is the bench's side: spawn, wait, read the CPU.
`InMemoryDevServer` is `temporal server start-dev` without a database file.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from devstack import binaries
from stack import search_attributes
from stack.settings import REPO_ROOT


class WorkerProcess:
    """A bench worker as a child process; its CPU (all threads, user + system) read by psutil."""

    def __init__(self, name: str, args: list[str], workdir: Path) -> None:
        self.name = name
        self._ready = workdir / f"{name}.ready"
        self._ready.unlink(missing_ok=True)
        self.log_path = workdir / f"{name}.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.cost_worker", *args, "--ready", str(self._ready)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._ps = psutil.Process(self.process.pid)

    async def ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.exists():
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"worker {self.name} exited with code {self.process.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {self.name} did not start polling in {timeout:.0f}s; see {self.log_path}")
            await asyncio.sleep(0.2)

    def cpu(self) -> float:
        """CPU seconds used so far by the process, every thread counted."""
        times = self._ps.cpu_times()
        return float(times.user + times.system)

    async def settle(self, quiet: float = 0.02, window: float = 0.5, limit: float = 120.0) -> None:
        """Wait until the worker is idle: less than `quiet` CPU seconds in `window`."""
        deadline = time.monotonic() + limit
        last = self.cpu()
        while time.monotonic() < deadline:
            await asyncio.sleep(window)
            now = self.cpu()
            if now - last < quiet:
                return
            last = now

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class InMemoryDevServer:
    """`temporal server start-dev` in memory (no database file), headless, its output in a log
    file, with the project's search attributes defined from the start."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        self.address = f"127.0.0.1:{port}"
        self.log_path = workdir / "dev-server.log"
        self._args = [binaries.temporal_cli(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
        self._args += ["--headless", "--log-level", "warn", "--namespace", "default"]
        for key in search_attributes.ALL:
            kind = (
                IndexedValueType.Name(IndexedValueType.ValueType(key.indexed_value_type))
                .removeprefix("INDEXED_VALUE_TYPE_")
                .title()
            )
            self._args += ["--search-attribute", f"{key.name}={kind}"]
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self, converter: DataConverter, timeout: float = 60.0) -> Client:
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(self._args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the dev server exited with code {self._process.returncode}; see {self.log_path}")
            try:
                return await Client.connect(self.address, data_converter=converter)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.3)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- The child side ------------------------------------------------------------------------


async def _serve(worker: Worker, ready: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        ready.write_text(str(os.getpid()))
        await stop.wait()


async def _raw(args: argparse.Namespace) -> None:
    from bench import cost_raw

    converter = DataConverter.default
    if args.encrypted:
        from stack.client import DATA_CONVERTER

        converter = DATA_CONVERTER
    client = await Client.connect(args.address, data_converter=converter)
    worker = Worker(client, task_queue=args.task_queue, workflows=cost_raw.WORKFLOWS, activities=cost_raw.ACTIVITIES)
    await _serve(worker, args.ready)


async def _project(args: argparse.Namespace) -> None:
    from stack import logs
    from stack.client import connect
    from stack.settings import Settings
    from stack.workers import build_worker, prepared_pool

    logs.configure(args.log_level)
    settings = dataclasses.replace(
        Settings(),
        temporal_address=args.address,
        database_url=args.database_url,
        config_dir=Path(args.config_dir),
        task_queue=args.task_queue,
    )
    client = await connect(settings)
    async with prepared_pool(args.database_url) as pool:
        await _serve(build_worker(client, pool, settings, task_queue=args.task_queue), args.ready)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a worker process of the cost bench")
    parser.add_argument("kind", choices=["raw", "project"])
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--encrypted", action="store_true", help="raw: use the project's encrypting converter")
    parser.add_argument("--database-url")
    parser.add_argument("--config-dir")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    asyncio.run(_raw(args) if args.kind == "raw" else _project(args))


if __name__ == "__main__":
    main()
