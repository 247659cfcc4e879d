"""The intake and action HTTP API (api/), and its keys. Run as many copies as you like.

    python api_server.py                                   serve on APPEALS_API_HOST:APPEALS_API_PORT (127.0.0.1:8000)
    python api_server.py new-key --name vk-collector --scope intake    print a new key, once
    python api_server.py list-keys                         key ids, names, scopes; never the keys
    python api_server.py revoke-key KEY_ID                 the key stops working (within 30 s everywhere)

Needs Temporal (TEMPORAL_ADDRESS, ...) and PostgreSQL (APPEALS_DATABASE_URL; unset: the embedded
database of `python3 dev.py up` in APPEALS_DATA_DIR). `python3 dev.py up` runs one for you.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import warnings
from collections.abc import AsyncIterator

import asyncpg

from activities import db
from api import server
from api.keys import SCOPES, KeyStore, check_name
from api.services import Services
from devstack.embedded import EmbeddedPostgres
from stack import logs
from stack.client import connect
from stack.errors import OneLineParser, check_arguments, one_line, unexpected
from stack.process import exit_now
from stack.settings import Settings
from stack.text_table import text_table
from stack.workers import stop_on_signals


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A migrated pool on APPEALS_DATABASE_URL, else on the embedded database in the data directory."""
    embedded = None
    url = settings.database_url
    if url is None:
        if not (settings.data_dir / "postgres").exists():
            raise ConnectionError(
                "no database: set APPEALS_DATABASE_URL, or run `python3 dev.py up` once (it makes the embedded one)"
            )
        embedded = EmbeddedPostgres(settings.data_dir / "postgres")
        url = await embedded.ensure_database()
    try:
        pool = await db.create_pool(url, max_size=5)
        try:
            await db.migrate(pool)
            yield pool
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            embedded.stop()  # stops it only when no other process (dev.py up) uses it


async def run(settings: Settings) -> None:
    logs.configure(settings.log_level)
    stop = stop_on_signals()
    client = await connect(settings)
    async with database(settings) as pool:
        running = await server.serve(Services.build(client, pool, settings), settings.api_host, settings.api_port)
        logs.get("appeals.api").info("HTTP API listening", url=running.url, docs=f"{running.url}/docs")
        try:
            await stop.wait()
        finally:
            await running.stop()


async def keys(args: argparse.Namespace, settings: Settings) -> int:
    async with database(settings) as pool:
        store = KeyStore(pool)
        if args.command == "new-key":
            key, plain = await store.create(args.name, args.scope)
            print(plain)
            print(
                f"# key id {key.key_id}, {key.name} ({key.scope}); only its hash is stored: this is the one time "
                "the key is shown",
                file=sys.stderr,
            )
        elif args.command == "list-keys":
            rows = [(k.key_id, k.name, k.scope, k.created_at, k.revoked_at) for k in await store.list()]
            print(text_table(("key id", "name", "scope", "created", "revoked"), rows))
        elif await store.revoke(args.key_id):
            print(f"revoked {args.key_id}")
        else:
            print(f"error: no active key with id {args.key_id}", file=sys.stderr)
            return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="api_server.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the API (the default)")
    new = commands.add_parser("new-key", help="make a key and print it, once")
    new.add_argument("--name", required=True, help="who uses it, e.g. vk-collector (shown in the access log)")
    new.add_argument("--scope", required=True, choices=SCOPES, help="intake: submit only; operator: also act and read")
    commands.add_parser("list-keys", help="the keys: ids, names, scopes, never the keys")
    revoke = commands.add_parser("revoke-key", help="revoke a key by its id")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # the embedded database's wheel
    settings = Settings()
    try:
        check_arguments(vars(args))
        if args.command in ("new-key", "list-keys", "revoke-key"):
            if args.command == "new-key":
                check_name(args.name)
            return asyncio.run(keys(args, settings))
        asyncio.run(run(settings))
    except (ConnectionError, ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except Exception as err:  # never a traceback for the user; APPEALS_DEBUG=1 shows it
        print(unexpected(err), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    exit_now(main())
