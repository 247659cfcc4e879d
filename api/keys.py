"""API keys: one per intake service or operator tool, stored hashed in PostgreSQL (`api_keys`).

A key reads `apk_<key id>_<secret>`: the key id (12 hex digits) finds the row, the secret is 32
random bytes. Only the SHA-256 of the whole key is stored; with 256 bits of randomness in it a
slow password hash adds nothing, and a lookup stays one indexed read. The plain key is shown once,
when it is made (`api_server.py new-key`), and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

SCOPES = ("intake", "operator")
# What each scope may do: intake services create appeals; operator tools also act and read.
PERMISSIONS: dict[str, frozenset[str]] = {
    "intake": frozenset({"create"}),
    "operator": frozenset({"create", "act", "read"}),
}
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
_KEY = re.compile(r"apk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scope: str
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    def may(self, permission: str) -> bool:
        return self.revoked_at is None and permission in PERMISSIONS.get(self.scope, frozenset())


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def new_key() -> tuple[str, str]:
    """A fresh (key id, key)."""
    key_id = secrets.token_hex(6)
    return key_id, f"apk_{key_id}_{secrets.token_urlsafe(32)}"


def check_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(
            f"key name {name!r}: 1 to 64 letters, digits and '._@-', starting with a letter or digit "
            "(e.g. vk-collector)"
        )
    return name


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r}: choose one of {', '.join(SCOPES)}")
    return scope


class KeyStore:
    """The `api_keys` table, with a short cache of verified keys: a revocation takes effect
    within `cache_seconds` on every copy of the API."""

    def __init__(self, pool: asyncpg.Pool, cache_seconds: float = 30.0) -> None:
        self.pool = pool
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, bytes, ApiKey]] = {}

    async def create(self, name: str, scope: str) -> tuple[ApiKey, str]:
        """A new key; the plain key is returned here and nowhere else."""
        check_name(name)
        check_scope(scope)
        key_id, key = new_key()
        row = await self.pool.fetchrow(
            "INSERT INTO api_keys (key_id, name, scope, key_sha256) VALUES ($1, $2, $3, $4) "
            "RETURNING key_id, name, scope, created_at, revoked_at",
            key_id,
            name,
            scope,
            digest(key),
        )
        assert row is not None
        return ApiKey(**dict(row)), key

    async def revoke(self, key_id: str) -> bool:
        done = await self.pool.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
        )
        self._cache.pop(key_id, None)
        return bool(done.endswith(" 1"))

    async def list(self) -> list[ApiKey]:
        rows = await self.pool.fetch(
            "SELECT key_id, name, scope, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id"
        )
        return [ApiKey(**dict(r)) for r in rows]

    async def verify(self, presented: str) -> ApiKey | None:
        """The key's record when `presented` is a valid key that is not revoked; else None."""
        match = _KEY.fullmatch(presented)
        if match is None:
            return None
        key_id = match.group(1)
        cached = self._cache.get(key_id)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            _, stored, key = cached
        else:
            row = await self.pool.fetchrow(
                "SELECT key_id, name, scope, created_at, revoked_at, key_sha256 FROM api_keys WHERE key_id = $1",
                key_id,
            )
            if row is None:
                return None
            fields = dict(row)
            stored = bytes(fields.pop("key_sha256"))
            key = ApiKey(**fields)
            self._cache[key_id] = (time.monotonic(), stored, key)
        if not hmac.compare_digest(stored, digest(presented)) or key.revoked_at is not None:
            return None
        return key
