"""The 30-day path under time skipping, for its history: the journeys' thirty_day_path (a 59-ФЗ
appeal paused, committed, the date missed, escalated twice, answered, closed after the feedback
window), recorded for the cost table."""

from __future__ import annotations

import asyncpg
from temporalio.client import WorkflowHistory
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from bench.journeys import running_worker, thirty_day_path
from devstack import binaries
from stack import search_attributes
from stack.client import DATA_CONVERTER

TASK_QUEUE = "cost-thirty-day"


async def thirty_day_history(pool: asyncpg.Pool) -> WorkflowHistory:
    # The SDK core warns that the test server lacks a capability the bench does not use: errors only.
    quiet = LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=binaries.temporal_test_server(),
        runtime=Runtime(telemetry=TelemetryConfig(logging=quiet)),
    )
    try:
        await search_attributes.add(env.client, search_attributes.ALL)
        async with running_worker(env.client, pool, TASK_QUEUE):
            handle = await thirty_day_path(env, TASK_QUEUE)
            return await handle.fetch_history()
    finally:
        await env.shutdown()
