"""Prometheus: the SDK's metrics plus the engine's, on one endpoint.

The workflow counters live in workflows/metrics.py. The open-appeals gauge is read
from the projection table, since an open appeal is a row, not an event.
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


def runtime(port: int | None) -> Runtime | None:
    """A Temporal runtime exporting Prometheus metrics on `port`, or None to keep the default."""
    if port is None:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}")))


async def export_open_appeals(rt: Runtime, pool: asyncpg.Pool, every: float = 15.0) -> None:
    """Keep `appeals_open{status}` current until cancelled."""
    gauge = rt.metric_meter.create_gauge("appeals_open", "Open appeals, by status")
    seen: set[str] = set()
    while True:
        try:
            counts = {row["status"]: row["n"] for row in await pool.fetch(OPEN_BY_STATUS)}
        except (OSError, asyncpg.PostgresError) as err:
            log.warning("open appeals gauge skipped", error=str(err))
        else:
            for status in seen | set(counts):
                gauge.set(counts.get(status, 0), {"status": status})
            seen |= set(counts)
        await asyncio.sleep(every)
