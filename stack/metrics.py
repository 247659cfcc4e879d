"""Prometheus: the SDK's metrics plus the engine's, on one endpoint.

The workflow counters live in workflows/metrics.py. The open-appeals gauge is read
from the projection table, since an open appeal is a row, not an event.

The endpoint has no authentication, so it listens on 127.0.0.1 unless told otherwise
(APPEALS_METRICS_HOST, e.g. 0.0.0.0 inside a container network that a scraper shares).
"""

from __future__ import annotations

import asyncio

import asyncpg
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from stack import logs

OPEN_BY_STATUS = """
SELECT status, count(*) AS n FROM appeals WHERE closed_at IS NULL GROUP BY status
"""

log = logs.get(__name__)


DEFAULT_HOST = "127.0.0.1"


def bind_address(port: int, host: str = DEFAULT_HOST) -> str:
    """`host:port`, with an IPv6 host in brackets."""
    host = host.strip().strip("[]") or DEFAULT_HOST
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def runtime(port: int | None, host: str = DEFAULT_HOST) -> Runtime | None:
    """A Temporal runtime exporting Prometheus metrics on `host:port`, or None to keep the default."""
    if port is None:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address(port, host))))


async def export_open_appeals(rt: Runtime, pool: asyncpg.Pool, every: float = 15.0) -> None:
    """Keep `appeals_open{status}` current until cancelled."""
    gauge = rt.metric_meter.create_gauge("appeals_open", "Open appeals, by status")
    seen: set[str] = set()
    while True:
        try:
            counts = {row["status"]: row["n"] for row in await pool.fetch(OPEN_BY_STATUS)}
        except (OSError, asyncpg.PostgresError) as err:
            log.warning("open appeals gauge skipped", error=type(err).__name__)
        else:
            for status in seen | set(counts):
                gauge.set(counts.get(status, 0), {"status": status})
            seen |= set(counts)
        await asyncio.sleep(every)
