"""The PostgreSQL pool and the schema migrations (plain SQL files, applied in order)."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import structlog

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it makes concurrent workers apply migrations one at a time.
_MIGRATION_LOCK = 0x41_50_50_45_41_4C

log = structlog.get_logger(__name__)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 20) -> asyncpg.Pool:
    try:
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=_init_connection)
    except (OSError, asyncpg.PostgresError) as err:
        raise ConnectionError(
            f"cannot connect to PostgreSQL ({err}). Check APPEALS_DATABASE_URL, "
            "or unset it to use the embedded database."
        ) from err
    assert pool is not None
    return pool


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    names: dict[int, str] = {}
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        number = int(path.name.split("_", 1)[0])
        if number in names:
            # Two files with one number: the second would be skipped silently on a database that has the first.
            raise RuntimeError(f"migrations {names[number]} and {path.name} share the number {number}; renumber one")
        names[number] = path.name
        found.append((number, path.name, path.read_text(encoding="utf-8")))
    return found


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply the migrations not applied yet, each in its own transaction."""
    applied_now = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for number, name, sql in _migrations():
                if number in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        number,
                        name,
                    )
                log.info("migration applied", migration=name)
                applied_now.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
