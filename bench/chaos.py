"""Chaos run: appeals in flight through worker kills, a dev-server restart, a PostgreSQL outage
and failing webhooks, with operator Updates throughout; then nothing may be lost, duplicated
or stuck, every history must replay, and every Update during an outage must return in time.

    .venv/bin/python -m bench.chaos                        # CI scale: 200 appeals, 3 kills
    .venv/bin/python -m bench.chaos --appeals 2000         # bench scale
    .venv/bin/python -m bench.chaos --json out.json --keep # figures as JSON, keep the logs

Real parts only: `worker.py` as a subprocess, `temporal server start-dev` on a SQLite file,
the embedded PostgreSQL (stopped with `pg_ctl stop -m immediate`), and an aiohttp server on
loopback for the notification and publication webhooks. The SLA is the demo's (minutes), so
warnings, breaches and escalations fire during the run. Exit code 1 if any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from activities import db
from bench.chaos_checks import settle, unsettled, verify
from bench.chaos_operators import Operators, plan_for
from bench.chaos_report import report, summary_table
from bench.chaos_stack import Postgres, Webhooks, Window, WorkerProcess
from devstack.demo import generate, prepare_config
from devstack.embedded import DevServer
from stack import client as stack_client
from stack import logs
from stack.codec import new_key_line, write_secret
from stack.intake import submit_many
from stack.process import exit_now
from stack.settings import Settings


@dataclass(frozen=True)
class Options:
    appeals: int = 200
    kills: int = 3
    server_restarts: int = 1
    db_outage_seconds: float = 30.0
    webhook_outage_seconds: float = 30.0
    concurrency: int = 16
    driven_share: float = 0.7  # appeals the officials work on; the rest escalate
    gap_seconds: float = 10.0  # calm between an outage and the next fault
    recovery_seconds: float = 35.0  # after a kill or restart: tasks in hand time out (30 s)
    settle_seconds: float = 90.0
    officials_seconds: float = 60.0  # after the last fault, the most to wait for officials still at work
    drain_seconds: float = 120.0  # the most to wait for an outage's Updates before the next fault
    update_limit: float = 5.0
    seed: int = 7
    worker_log_level: str = "WARNING"
    workdir: Path | None = None
    keep: bool = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _use_own_codec_key(workdir: Path) -> None:
    """The run's dev server and database are its own, so is its payload key: a fresh one in the
    workdir (kept with the logs, to read the histories afterwards), shared with every worker
    through the environment. Set before the first payload is encoded: keys load on first use."""
    path = workdir / "codec-keys"
    write_secret(path, new_key_line("chaos") + "\n")
    os.environ.pop("APPEALS_CODEC_KEYS", None)
    os.environ["APPEALS_CODEC_KEYS_FILE"] = str(path)


EXEMPT = ("kill", "server_restart")  # the engine is down: no latency promise until it recovers


def schedule(opts: Options) -> list[str]:
    """The first kill hits the intake burst; then each outage with a kill after it; then the
    restarts and the remaining kills. CI: kill, webhook, kill, db, kill, server restart."""
    kills = opts.kills
    faults: list[str] = []
    if kills:
        faults.append("kill")
        kills -= 1
    outages = ["webhook_outage"] * (opts.webhook_outage_seconds > 0) + ["db_outage"] * (opts.db_outage_seconds > 0)
    for outage in outages:
        faults.append(outage)
        if kills:
            faults.append("kill")
            kills -= 1
    return faults + ["server_restart"] * opts.server_restarts + ["kill"] * kills


def pause_before(opts: Options, previous: str | None, fault: str | None) -> float:
    """Calm between faults: a kill or restart is left to recover before an outage is measured;
    two of them may follow each other at once."""
    if previous in EXEMPT:
        return 0.0 if fault in EXEMPT else opts.recovery_seconds
    return opts.gap_seconds


def expected_span(opts: Options, faults: list[str]) -> float:
    """Seconds from the end of intake to the end of the last fault's recovery, roughly."""
    seconds = {"kill": 3.0, "server_restart": 15.0, "db_outage": opts.db_outage_seconds + 1}
    seconds["webhook_outage"] = opts.webhook_outage_seconds
    total = sum(seconds[f] for f in faults)
    return total + sum(pause_before(opts, a, b) for a, b in zip([None, *faults], [*faults, None], strict=True))


class Chaos:
    def __init__(self, opts: Options, workdir: Path) -> None:
        self.opts = opts
        self.workdir = workdir
        self.settings = Settings()
        self.webhooks = Webhooks()
        self.windows: list[Window] = []
        self.postgres: Postgres | None = None
        self.server: DevServer | None = None
        self.worker: WorkerProcess | None = None

    def say(self, message: str) -> None:
        print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    async def run(self) -> dict[str, Any]:
        opts, started = self.opts, time.monotonic()
        year = datetime.now(UTC).year
        config = prepare_config(self.workdir / "config", [year, year + 1])
        await self.webhooks.start()
        self.postgres = await asyncio.to_thread(Postgres, self.workdir / "pg")
        database_url = await self.postgres.ensure_database()
        self.server = DevServer(
            self.workdir / "temporal.db", port=free_port(), ui_port=free_port(), namespace=self.settings.namespace
        )
        await self.server.start()
        client = await stack_client.connect(self.settings, self.server.address)
        env = os.environ | {
            "TEMPORAL_ADDRESS": self.server.address,
            "TEMPORAL_NAMESPACE": self.settings.namespace,
            "APPEALS_TASK_QUEUE": self.settings.task_queue,
            "APPEALS_DATABASE_URL": database_url,
            "APPEALS_CONFIG_DIR": str(config),
            "APPEALS_NOTIFIER": "webhook",
            "APPEALS_WEBHOOK_URL": self.webhooks.notify_url,
            "APPEALS_WEBHOOK_SECRET": "chaos-notify-secret",
            "APPEALS_PUBLISHER": "webhook",
            "APPEALS_PUBLISH_WEBHOOK_URL": self.webhooks.publish_url,
            "APPEALS_PUBLISH_WEBHOOK_SECRET": "chaos-publish-secret",
            "APPEALS_LOG_LEVEL": opts.worker_log_level,
            "APPEALS_METRICS_PORT": "",
        }
        self.worker = WorkerProcess(env, self.workdir, client, self.settings.task_queue)
        await self.worker.start()
        watchdog = asyncio.create_task(self.worker.watch())
        sampler = asyncio.create_task(self.worker.sample_cpu())

        appeals = generate(opts.appeals, seed=opts.seed, tag=f"chaos{int(time.time())}")
        ids = [a.workflow_id for a in appeals]
        faults = schedule(opts)
        self.say(f"submitting {len(appeals)} appeals (workdir {self.workdir}); faults: {', '.join(faults)}")
        submitted = await submit_many(client, appeals, concurrency=opts.concurrency)
        created = sum(s.created for s in submitted)
        previous, calm_since = None, time.monotonic()
        if faults and faults[0] == "kill":  # in the middle of the intake burst
            previous = faults.pop(0)
            await self.inflict(previous)
            calm_since = time.monotonic()
        routed_in = await self.wait_routed(database_url, len(ids))
        self.say(f"{created} created, all routed in {routed_in:.0f}s")

        operators = Operators(client, opts.concurrency, seed=opts.seed)
        span = expected_span(opts, faults)
        rng = random.Random(opts.seed)
        drivers = [
            asyncio.create_task(operators.drive(a, plan, rng.uniform(0, span * 0.9)))
            for a in appeals
            if (plan := plan_for(rng, opts.driven_share)) is not None
        ]
        for fault in faults:
            await asyncio.sleep(max(0.0, pause_before(opts, previous, fault) - (time.monotonic() - calm_since)))
            await self.inflict(fault)
            if fault not in EXEMPT:  # let the Updates issued in the outage finish before the next fault
                await operators.drain(self.windows[-1].end, opts.drain_seconds)
            previous, calm_since = fault, time.monotonic()
        await asyncio.sleep(max(0.0, pause_before(opts, previous, None) - (time.monotonic() - calm_since)))
        self.say(f"faults done; {sum(not d.done() for d in drivers)} of {len(drivers)} officials still at work")
        _, pending = await asyncio.wait(drivers, timeout=opts.officials_seconds) if drivers else (set(), set())
        operators.closing = True  # no new actions; those under way may still return
        await operators.drain(time.monotonic(), opts.drain_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in drivers:
            if task.done() and not task.cancelled() and task.exception() is not None:
                operators.gave_up.append(f"driver crashed: {task.exception()!r}")

        pool = await db.create_pool(database_url, max_size=4)
        try:
            self.say("settling: waiting for retries and deliveries to finish")
            settled = await settle(client, pool, ids, opts.settle_seconds, opts.concurrency)
            still = await unsettled(client, pool, ids, opts.concurrency)
            self.say(f"settled in {settled:.0f}s; verifying")
            evidence = self.workdir / "evidence"
            # Where a delivery may repeat under its key: the worker or the database gone mid-delivery.
            cuts = [(w.wall_start, w.wall_end) for w in self.windows if w.kind in ("kill", "db_outage")]
            findings = await verify(client, pool, ids, self.webhooks, opts.concurrency, evidence, cuts)
        finally:
            await pool.close()
        watchdog.cancel()
        sampler.cancel()
        for w in self.windows:
            w.note += f"; worker CPU {self.worker.cpu_between(w.start, w.recovered)}% of a core"
        return report(
            opts=asdict(opts) | {"workdir": str(self.workdir)},
            findings=findings,
            samples=operators.samples,
            windows=self.windows,
            gave_up=operators.gave_up,
            unexpected_exits=self.worker.unexpected_exits,
            unsettled=still,
            created=created,
            drivers=len(drivers),
            wall_seconds=time.monotonic() - started,
            worker_cpu=self.worker.cpu_between(started, time.monotonic()),
            load=self.worker.load_average(),
            routed_seconds=routed_in,
            webhook_refusals=self.webhooks.refused,
        )

    async def wait_routed(self, database_url: str, count: int, timeout: float = 300.0) -> float:
        start = time.monotonic()
        pool = await db.create_pool(database_url, max_size=2)
        try:
            while time.monotonic() - start < timeout:
                routed = await pool.fetchval("SELECT count(*) FROM appeal_events WHERE kind = 'routed'")
                if routed >= count:
                    break
                await asyncio.sleep(1)
        finally:
            await pool.close()
        return time.monotonic() - start

    async def inflict(self, fault: str) -> None:
        assert self.worker and self.server and self.postgres
        window = Window(fault, time.monotonic())
        self.windows.append(window)
        self.say(f"{fault} begins")
        if fault == "kill":
            await self.worker.kill_and_respawn()
            window.end = time.monotonic()
            window.recovered = await self.worker.ready()
            window.note = f"worker back in {window.recovered - window.start:.1f}s"
        elif fault == "server_restart":
            await asyncio.to_thread(self.server.stop)
            window.end = time.monotonic()
            await self.server.start()
            window.recovered = await self.worker.ready()
            back = window.recovered - window.start
            window.note = f"server down {window.end - window.start:.1f}s, worker polling again after {back:.1f}s"
        elif fault == "db_outage":
            await self.postgres.stop_immediately()
            await asyncio.sleep(self.opts.db_outage_seconds)
            await self.postgres.start()
            window.end = window.recovered = time.monotonic()
            window.note = f"database down {window.end - window.start:.1f}s"
        elif fault == "webhook_outage":
            self.webhooks.failing = True
            await asyncio.sleep(self.opts.webhook_outage_seconds)
            self.webhooks.failing = False
            window.end = window.recovered = time.monotonic()
            window.note = f"webhooks answered 500 for {window.end - window.start:.1f}s"
        window.wall_end = window.wall_start + (window.end - window.start)
        self.say(f"{fault} over: {window.note}")

    async def close(self) -> None:
        if self.worker:
            await asyncio.to_thread(self.worker.stop)
        if self.server:
            await asyncio.to_thread(self.server.stop)
        if self.postgres:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.postgres.stop)
        await self.webhooks.stop()


async def run(opts: Options) -> dict[str, Any]:
    """One chaos run; the figures and the verdict of every check."""
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="appeals-chaos-"))
    if workdir.exists() and any(workdir.iterdir()):
        raise SystemExit(f"chaos: {workdir} is not empty; a run starts from nothing")
    workdir.mkdir(parents=True, exist_ok=True)
    _use_own_codec_key(workdir)
    # One runtime for every client here, without the SDK's warnings: each RPC retried while the
    # server restarts would drown the table.
    quiet = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter("ERROR", "ERROR"))))
    Runtime.set_default(quiet, error_if_already_set=False)
    chaos = Chaos(opts, workdir)
    result: dict[str, Any] | None = None
    try:
        result = await chaos.run()
        return result
    finally:
        await chaos.close()
        if opts.workdir is None:
            if opts.keep or result is None or not result["passed"]:
                chaos.say(f"logs, histories and the codec key kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


def parse(argv: list[str] | None = None) -> tuple[Options, Path | None]:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n")[0])
    d = Options()
    p.add_argument("--appeals", type=int, default=d.appeals, help="appeals in flight (CI 200, bench 2000)")
    p.add_argument("--kills", type=int, default=d.kills, help="SIGKILLs of the worker")
    p.add_argument("--server-restarts", type=int, default=d.server_restarts, help="dev-server stops and starts")
    p.add_argument("--db-outage-seconds", type=float, default=d.db_outage_seconds, help="PostgreSQL down (0: none)")
    p.add_argument("--webhook-outage-seconds", type=float, default=d.webhook_outage_seconds, help="webhooks 500")
    p.add_argument("--concurrency", type=int, default=d.concurrency, help="operator Updates and RPCs in parallel")
    p.add_argument("--driven-share", type=float, default=d.driven_share, help="share of appeals officials work on")
    p.add_argument("--gap-seconds", type=float, default=d.gap_seconds, help="calm after each outage")
    p.add_argument("--recovery-seconds", type=float, default=d.recovery_seconds, help="calm after a kill/restart")
    p.add_argument("--settle-seconds", type=float, default=d.settle_seconds, help="most to wait for retries")
    p.add_argument("--officials-seconds", type=float, default=d.officials_seconds, help="officials' overtime")
    p.add_argument("--drain-seconds", type=float, default=d.drain_seconds, help="most to wait for an outage's Updates")
    p.add_argument("--update-limit", type=float, default=d.update_limit, help="seconds an Update may take")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--worker-log-level", default=d.worker_log_level, help="the workers' logs, in the workdir")
    p.add_argument("--workdir", type=Path, help="keep data and logs here (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--json", type=Path, help="also write the figures as JSON")
    a = p.parse_args(argv)
    opts = Options(
        appeals=a.appeals,
        kills=a.kills,
        server_restarts=a.server_restarts,
        db_outage_seconds=a.db_outage_seconds,
        webhook_outage_seconds=a.webhook_outage_seconds,
        concurrency=a.concurrency,
        driven_share=a.driven_share,
        gap_seconds=a.gap_seconds,
        recovery_seconds=a.recovery_seconds,
        settle_seconds=a.settle_seconds,
        drain_seconds=a.drain_seconds,
        officials_seconds=a.officials_seconds,
        update_limit=a.update_limit,
        seed=a.seed,
        worker_log_level=a.worker_log_level,
        workdir=a.workdir,
        keep=a.keep,
    )
    return opts, a.json


async def _interruptible(opts: Options) -> dict[str, Any]:
    """SIGINT or SIGTERM cancels the run, so the worker, the server and PostgreSQL still stop."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    return await run(opts)


def main(argv: list[str] | None = None) -> int:
    opts, json_out = parse(argv)
    logs.configure("WARNING")
    try:
        result = asyncio.run(_interruptible(opts))
    except asyncio.CancelledError:
        print("chaos: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    print(summary_table(result))
    if json_out:
        json_out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    exit_now(main())
