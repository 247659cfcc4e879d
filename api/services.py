"""What the routes share: the Temporal client, the database pool, the keys, the limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import asyncpg
from starlette.requests import Request
from temporalio.client import Client

from activities.planning import CALENDAR_FILE, load
from api.keys import KeyStore
from api.limits import Buckets
from appeals.working_calendar import CalendarConfig
from stack.settings import Settings


@dataclass
class Services:
    client: Client
    pool: asyncpg.Pool
    settings: Settings
    keys: KeyStore
    buckets: Buckets

    @classmethod
    def build(
        cls, client: Client, pool: asyncpg.Pool, settings: Settings, *, key_cache_seconds: float = 30.0
    ) -> Services:
        services = cls(
            client=client,
            pool=pool,
            settings=settings,
            keys=KeyStore(pool, key_cache_seconds),
            buckets=Buckets(settings.api_rate_per_minute, settings.api_burst),
        )
        services.calendar()  # a broken calendar.toml stops the start, with the file and field named
        return services

    def calendar(self) -> CalendarConfig:
        """calendar.toml as it is now (parsed again only when it changed)."""
        return load(self.settings.config_dir / CALENDAR_FILE, CalendarConfig)[0]


def services(request: Request) -> Services:
    return cast(Services, request.app.state.services)
