"""Serving the API with uvicorn: alone (`api_server.py`, one copy of many in a cluster) or
inside `python3 dev.py up`, next to the worker, on the same Temporal client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import uvicorn
from temporalio.client import Client

from activities import db
from api.app import build_app
from api.keys import KeyStore
from api.services import Services
from stack.codec import write_secret
from stack.settings import Settings

DEV_KEY_FILE = "api-key"  # in the data directory: the operator key `dev.py up` makes for you
DEV_KEY_NAME = "dev-operator"


class _Quiet(uvicorn.Server):
    """Leaves SIGINT and SIGTERM to whoever runs it (`dev.py up` stops the worker first)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, so that a busy port is a one-line error before anything serves."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ConnectionError(
            f"the HTTP API cannot listen on {host}:{port}: {err.strerror} (APPEALS_API_PORT)"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def url_of(host: str, port: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "::1", "localhost") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


@dataclass
class Running:
    """A served API: stop() finishes the requests in hand, then closes."""

    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]
    pool: asyncpg.Pool | None = None

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if self.pool is not None:
            await self.pool.close()


async def serve(found: Services, host: str, port: int) -> Running:
    """Start serving `found` on host:port in this event loop; returns once it listens."""
    sock = bind(host, port)
    config = uvicorn.Config(
        build_app(found),
        log_config=None,  # our JSON logs (stack/logs.py)
        access_log=False,  # ours has no query strings (api/access.py)
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=75,  # longer than a load balancer's idle timeout (60 s), so it never reuses a closed one
    )
    logging.getLogger("uvicorn.access").disabled = True  # even if someone gives it a handler
    server = _Quiet(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the HTTP API stopped while starting")
        await asyncio.sleep(0.05)
    actual = sock.getsockname()[1]
    return Running(url_of(host, actual), server, task)


async def open_pool(database_url: str) -> asyncpg.Pool:
    pool = await db.create_pool(database_url, max_size=5)
    await db.migrate(pool)
    return pool


async def ensure_dev_key(keys: KeyStore, path: Path) -> bool:
    """`dev.py up`: an operator key in `path` (0600), made on the first run and kept while it
    works. Returns whether a new one was made."""
    if path.exists():
        if await keys.verify(path.read_text(encoding="utf-8").strip()) is not None:
            return False
        path.unlink()  # a key of another database: make one for this one
    _, key = await keys.create(DEV_KEY_NAME, "operator")
    write_secret(path, key + "\n")
    return True


async def start_embedded(client: Client, database_url: str, settings: Settings) -> tuple[Running, Path, bool]:
    """For `dev.py up`: the API on the worker's client, with a dev operator key in the data dir."""
    pool = await open_pool(database_url)
    try:
        found = Services.build(client, pool, settings)
        key_file = settings.data_dir / DEV_KEY_FILE
        made = await ensure_dev_key(found.keys, key_file)
        running = await serve(found, settings.api_host, settings.api_port)
    except BaseException:
        await pool.close()
        raise
    running.pool = pool
    return running, key_file, made
