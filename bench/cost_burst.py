"""The burst of the cost bench: B raw timers due at one instant, then B appeals received at one
instant on a short acknowledgment clock (the demo's policies), on the same dev server.

Raw: the lag of each timer (TimerFired event time − the instant it was due). Project: the lag of
each acknowledgment breach reaching PostgreSQL (appeal_events 'sla_breached' recorded_at − the
clock's due instant). Both: the slowest workflow task in the histories (Started → Completed)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
from temporalio.client import Client, WorkflowHistory

from bench import cost_drive as drive
from bench import cost_history as hist
from bench.cost_report import Side
from bench.cost_worker import WorkerProcess
from devstack.demo import prepare_config


def burst_config(target: Path, clock: float, now: datetime) -> Path:
    """The demo's policies and every-minute-working calendar; `clock` seconds to acknowledge."""
    prepare_config(target, [now.year, now.year + 1])
    sla = target / "sla.toml"
    text = sla.read_text(encoding="utf-8")
    head, found, tail = text.partition('name = "demo-social"')
    old = 'acknowledge = "1 minute"'
    if not found or old not in tail:
        raise RuntimeError(f"{sla}: no demo-social policy with {old}")
    sla.write_text(head + found + tail.replace(old, f'acknowledge = "{clock / 60:g} minutes"', 1), encoding="utf-8")
    return target


def burst_tasks(side: Side, histories: list[WorkflowHistory]) -> None:
    tasks = hist.workflow_tasks(histories)
    side.burst_max_task_s = max(tasks.durations, default=float("nan"))
    side.burst_tasks_over_2s = sum(d > 2 for d in tasks.durations)
    side.burst_tasks_over_5s = sum(d > 5 for d in tasks.durations)
    side.burst_task_timeouts, side.burst_task_failures = tasks.timed_out, dict(tasks.failed)
    side.burst_sticky_timeouts = tasks.sticky_timeouts


def burst_lags(side: Side, lags: list[float], count: int) -> None:
    side.burst = count
    side.burst_missing = count - len(lags)
    side.burst_lag_p50_s = hist.percentile(lags, 50)
    side.burst_lag_p99_s = hist.percentile(lags, 99)
    side.burst_lag_max_s = max(lags, default=float("nan"))


_BREACHES = """
SELECT workflow_id, min(recorded_at) AS recorded_at, min(data ->> 'due_at') AS due_at
FROM appeal_events
WHERE kind = 'sla_breached' AND workflow_id = ANY($1::text[])
  AND coalesce(data ->> 'clock', 'acknowledge') = 'acknowledge'
GROUP BY workflow_id
"""


async def breaches(pool: asyncpg.Pool, burst: drive.Burst, wait: float) -> list[float]:
    """Wait until every appeal's acknowledgment breach is in PostgreSQL (or `wait` seconds past
    the deadline); the lag of each: recorded_at − the clock's due instant."""
    give_up = burst.due.timestamp() + wait
    while True:
        rows = await pool.fetch(_BREACHES, burst.ids)
        if len(rows) >= len(burst.ids) or time.time() > give_up:
            break
        await asyncio.sleep(1.0)
    lags = []
    for row in rows:
        due = datetime.fromisoformat(row["due_at"]) if row["due_at"] else burst.due
        lags.append((row["recorded_at"] - due).total_seconds())
    return lags


async def raw_storm(
    side: Side,
    client: Client,
    worker: WorkerProcess,
    queue: str,
    count: int,
    clock: float,
    concurrency: int,
    wait: float,
) -> None:
    await worker.settle()
    cpu = worker.cpu()
    storm = await drive.raw_timer_storm(client, queue, count, timedelta(seconds=clock), concurrency)
    side.burst_start_s = storm.start_seconds

    async def done(n: int) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.get_workflow_handle(storm.ids[n]).result(), wait)

    await drive.bounded(len(storm.ids), concurrency, done)
    await worker.settle()
    side.burst_worker_cpu_s = worker.cpu() - cpu
    histories = await hist.fetch_all(client, storm.ids)
    fired = [hist.first_timer_fired(h) for h in histories]
    burst_lags(side, [t - storm.due.timestamp() for t in fired if t is not None], count)
    burst_tasks(side, histories)
    await drive.terminate_all(client, storm.ids)


async def appeal_burst(
    side: Side,
    client: Client,
    pool: asyncpg.Pool,
    worker: WorkerProcess,
    queue: str,
    count: int,
    clock: float,
    concurrency: int,
    wait: float,
) -> None:
    await worker.settle()
    cpu = worker.cpu()
    appeals = await drive.appeal_burst(client, queue, count, timedelta(seconds=clock), concurrency)
    side.burst_start_s = appeals.start_seconds
    lags = await breaches(pool, appeals, wait)
    side.burst_worker_cpu_s = worker.cpu() - cpu
    # Never acknowledged, they would escalate for ever: end them, then read what they did.
    await drive.terminate_all(client, appeals.ids)
    burst_lags(side, lags, count)
    burst_tasks(side, await hist.fetch_all(client, appeals.ids))


async def both(
    raw: Side,
    project: Side,
    *,
    raw_client: Client,
    client: Client,
    pool: asyncpg.Pool,
    raw_worker: WorkerProcess,
    burst_worker: WorkerProcess,
    queues: tuple[str, str],
    count: int,
    clock: float,
    concurrency: int,
    wait: float,
    together: bool = False,
    say: Callable[[str], None],
) -> None:
    """The raw timer storm first, then the appeals, one after the other so that neither slows the
    other; or, `together`, both at the same instant, competing for the same two cores."""
    timers = raw_storm(raw, raw_client, raw_worker, queues[0], count, clock, concurrency, wait)
    appeals = appeal_burst(project, client, pool, burst_worker, queues[1], count, clock, concurrency, wait)
    if together:
        say(f"burst: {count} raw timers and {count} appeals at one instant, {clock:g} s clocks")
        await asyncio.gather(timers, appeals)
        return
    say(f"burst: {count} raw timers due at one instant, {clock:g} s from now")
    await timers
    say(f"burst: {count} appeals received at one instant, {clock:g} s to acknowledge")
    await appeals
