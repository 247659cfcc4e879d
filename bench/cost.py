"""Cost bench: the raw Temporal floor beside the project's appeal, on one dev server, in one run.

    .venv/bin/python -m bench.cost                     # 300 lifecycles, 50 at a time; a burst of 1,000
    .venv/bin/python -m bench.cost --ci                # CI scale: 10 lifecycles, a burst of 20 on a 12 s clock
    .venv/bin/python -m bench.cost --json cost.json    # the figures as JSON as well
    .venv/bin/python -m bench.cost --no-burst --no-thirty-day   # a quick look at one lever

Everything is started by the script: the embedded PostgreSQL, `temporal server start-dev` in
memory, and one worker process per task queue (bench/cost_worker.py), so each side's worker
CPU is its own. The floor is bench/cost_raw.py: a workflow with 2 trivial activities and 1
signal, and a bare timer. The project runs its own worker (stack.workers.build_worker, payload
encryption on) and is driven through its intake (starter.submit) and its Updates:

1. the 30-day path on the time-skipping test server, for its history (bench/cost_thirty.py);
2. starts: N workflows started, K at a time, while the worker takes their first tasks;
3. full lifecycles: N, K at a time. Raw: start, signal, result. Project: submit → acknowledge →
   answer with a photo → moderator accepts → citizen rates 5 → closed (a short feedback window);
4. the lifecycles' histories (events, serialized bytes), then replayed for CPU per replay, with
   the worker's sandbox and, for reference, without it;
5. the burst: B raw timers due at one instant, then B appeals received at one instant on a
   one-minute acknowledgment clock (the demo policies); the slowest workflow task of each, the
   raw timers' fire lag and the lag of each breach reaching PostgreSQL (appeal_events). With
   --burst-together both storms start at the same instant instead.

The sandbox re-executes the workflow modules for every new run: both sides keep .pyc files (under
$TMPDIR), as a deployed worker does (stack.workers.cache_bytecode); --no-bytecode: neither does.

Prints the table with issue 9's targets beside the figures. The machine is shared, and every
figure moves with its load: compare the sides of one run, not runs on different days.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from activities import db
from bench import cost_burst, cost_raw
from bench import cost_drive as drive
from bench import cost_history as hist
from bench.cost_report import Figures, Side, details, table, write_json
from bench.cost_thirty import thirty_day_history
from bench.cost_worker import InMemoryDevServer, WorkerProcess
from devstack.embedded import EmbeddedPostgres
from stack.client import DATA_CONVERTER
from stack.codec import new_key_line
from stack.logs import configure
from stack.settings import REPO_ROOT, Settings
from stack.workers import build_worker

RAW_QUEUE, PROJECT_QUEUE, BURST_QUEUE = "cost-raw", "cost-appeals", "cost-burst"


@dataclass(frozen=True)
class Options:
    appeals: int = 300
    concurrency: int = 50
    burst: int = 1000
    burst_clock: float = 60.0  # seconds on the acknowledgment clock, and on the raw timers
    burst_concurrency: int = 100
    burst_wait: float = 900.0  # the most to wait past the deadline for every breach to arrive
    burst_together: bool = False  # raw timers and appeals at the same instant instead of one after the other
    bytecode: bool = True  # both sides keep .pyc files, even where PYTHONDONTWRITEBYTECODE is set
    replays: int = 50
    raw_encrypted: bool = False
    worker_log_level: str = "INFO"
    thirty_day: bool = True
    burst_phase: bool = True
    workdir: Path | None = None
    keep: bool = False


CI = {"appeals": 10, "concurrency": 5, "burst": 20, "burst_clock": 12.0, "burst_concurrency": 20, "replays": 5}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Configs ---------------------------------------------------------------------------------


def lifecycle_config(target: Path) -> Path:
    """The shipped config with a 3-second feedback window, as tests/test_end_to_end.py's quick_feedback."""
    shutil.copytree(REPO_ROOT / "config", target)
    sla = target / "sla.toml"
    text = sla.read_text(encoding="utf-8")
    quick = text.replace('feedback_window = "2 calendar days"', 'feedback_window = "0.05 minutes"')
    if quick == text:
        raise RuntimeError(f"{sla}: no 'feedback_window = \"2 calendar days\"' to shorten")
    sla.write_text(quick, encoding="utf-8")
    return target


# --- Measuring -------------------------------------------------------------------------------


async def measured(worker: WorkerProcess, work: Awaitable[float]) -> tuple[float, float]:
    """(wall seconds the work reports, worker CPU seconds until the worker is idle again)."""
    await worker.settle()
    before = worker.cpu()
    took = await work
    await worker.settle()
    return took, worker.cpu() - before


async def starts(
    side: Side, worker: WorkerProcess, client: Client, opts: Options, start: Callable[[int], Awaitable[str]]
) -> None:
    ids: list[str] = []

    async def one(n: int) -> None:
        ids.append(await start(n))

    took, cpu = await measured(worker, drive.bounded(opts.appeals, opts.concurrency, one))
    side.starts, side.starts_per_s = opts.appeals, opts.appeals / took
    side.starts_worker_cpu_ms = cpu / opts.appeals * 1000
    await drive.terminate_all(client, ids)


async def lifecycles(side: Side, worker: WorkerProcess, opts: Options, one: Callable[[int], Awaitable[None]]) -> None:
    took, cpu = await measured(worker, drive.bounded(opts.appeals, opts.concurrency, one))
    side.lifecycles, side.lifecycles_per_s = opts.appeals, opts.appeals / took
    side.worker_cpu_ms = cpu / opts.appeals * 1000


def history_sizes(side: Side, histories: list[Any]) -> None:
    events = [len(h.events) for h in histories]
    sizes = [hist.history_bytes(h) for h in histories]
    side.events, side.events_max = hist.mean(events), max(events, default=0)
    side.history_bytes, side.history_bytes_max = hist.mean(sizes), max(sizes, default=0)


async def replays(
    figures: Figures,
    most: int,
    raw_histories: list[WorkflowHistory],
    happy_histories: list[WorkflowHistory],
    raw_converter: DataConverter,
    project_worker: Worker,
) -> None:
    """CPU per replay of the recorded lifecycles, with the workers' sandbox and without it; one
    replay of each kind first, unmeasured, so that one-off imports are not counted."""
    n = min(most, len(raw_histories), len(happy_histories))
    figures.raw.replays = figures.project.replays = n
    kinds = {
        "replay_cpu_ms": (
            Replayer(workflows=cost_raw.WORKFLOWS, data_converter=raw_converter),
            hist.replayer_like(project_worker, DATA_CONVERTER),
        ),
        "replay_unsandboxed_cpu_ms": (
            Replayer(
                workflows=cost_raw.WORKFLOWS,
                data_converter=raw_converter,
                workflow_runner=UnsandboxedWorkflowRunner(),
            ),
            hist.replayer_like(project_worker, DATA_CONVERTER, sandbox=False),
        ),
    }
    for name, (raw_replayer, project_replayer) in kinds.items():
        for side, replayer, histories in (
            (figures.raw, raw_replayer, raw_histories),
            (figures.project, project_replayer, happy_histories),
        ):
            await hist.replay_cpu(replayer, histories[-1:])
            setattr(side, name, await hist.replay_cpu(replayer, histories[:n]) * 1000)


# --- The run ---------------------------------------------------------------------------------


async def run(opts: Options) -> Figures:
    figures = Figures(options={k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(opts).items()})
    figures.machine = {
        "cpus": os.cpu_count(),
        "load_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "bytecode": "cached (.pyc)" if not sys.dont_write_bytecode else "not written (PYTHONDONTWRITEBYTECODE)",
    }
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="cost-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    postgres = EmbeddedPostgres(workdir / "pg", delete_on_stop=True)
    server = InMemoryDevServer(workdir)
    workers: list[WorkerProcess] = []
    pool: asyncpg.Pool | None = None
    try:
        say(f"starting PostgreSQL and the dev server (in memory); workdir {workdir}")
        database_url = await postgres.ensure_database()
        pool = await db.create_pool(database_url)
        await db.migrate(pool)
        client = await server.start(DATA_CONVERTER)
        address = server.address
        raw_converter = DATA_CONVERTER if opts.raw_encrypted else DataConverter.default
        raw_client = await Client.connect(address, data_converter=raw_converter)
        quick = lifecycle_config(workdir / "config-lifecycle")
        burst_dir = cost_burst.burst_config(workdir / "config-burst", opts.burst_clock, datetime.now().astimezone())
        common = ["--address", address]
        project_args = ["--database-url", database_url, "--log-level", opts.worker_log_level]
        raw_args = ["raw", *common, "--task-queue", RAW_QUEUE, *(["--encrypted"] if opts.raw_encrypted else [])]
        raw = WorkerProcess("worker-raw", raw_args, workdir)
        project = WorkerProcess(
            "worker-project",
            ["project", *common, "--task-queue", PROJECT_QUEUE, "--config-dir", str(quick), *project_args],
            workdir,
        )
        workers = [raw, project]
        if opts.burst_phase:
            workers.append(
                WorkerProcess(
                    "worker-burst",
                    ["project", *common, "--task-queue", BURST_QUEUE, "--config-dir", str(burst_dir), *project_args],
                    workdir,
                )
            )
        await asyncio.gather(*(w.ready() for w in workers))

        if opts.thirty_day:
            say("30-day path on the time-skipping test server")
            thirty = await thirty_day_history(pool)
            figures.thirty_day_events, figures.thirty_day_bytes = len(thirty.events), hist.history_bytes(thirty)

        tag = drive.run_tag()
        say(f"starts: {opts.appeals} raw, then {opts.appeals} appeals, {opts.concurrency} at a time")

        async def start_raw(n: int) -> str:
            return (await drive.start_raw(raw_client, RAW_QUEUE, f"cost-start-{tag}-{n}")).id

        async def start_appeal(n: int) -> str:
            appeal = drive.make_appeal(datetime.now().astimezone(), f"cost-start-{tag}-{n}")
            await drive.start_appeal(client, PROJECT_QUEUE, appeal)
            return appeal.workflow_id

        await starts(figures.raw, raw, raw_client, opts, start_raw)
        await starts(figures.project, project, client, opts, start_appeal)

        say(f"lifecycles: {opts.appeals} raw, then {opts.appeals} happy paths, {opts.concurrency} at a time")
        raw_ids = [f"cost-life-{tag}-{n}" for n in range(opts.appeals)]
        appeals = [drive.make_appeal(datetime.now().astimezone(), f"cost-life-{tag}-{n}") for n in range(opts.appeals)]
        stats = drive.DriverStats()

        async def raw_one(n: int) -> None:
            await drive.raw_lifecycle(raw_client, RAW_QUEUE, raw_ids[n])

        async def happy_one(n: int) -> None:
            fresh = appeals[n].model_copy(update={"received_at": datetime.now().astimezone()})
            await drive.happy_path(client, PROJECT_QUEUE, fresh, stats)

        await lifecycles(figures.raw, raw, opts, raw_one)
        await lifecycles(figures.project, project, opts, happy_one)
        figures.updates_per_appeal = stats.updates / opts.appeals
        figures.refused_per_appeal = stats.refused / opts.appeals
        figures.status_timeouts = stats.status_timeouts

        say("histories and replays")
        raw_histories = await hist.fetch_all(raw_client, raw_ids)
        happy_histories = await hist.fetch_all(client, [a.workflow_id for a in appeals])
        history_sizes(figures.raw, raw_histories)
        history_sizes(figures.project, happy_histories)
        if happy_histories:
            figures.happy_path_breakdown = hist.breakdown(happy_histories[0])
            figures.happy_path_json_bytes = hist.json_bytes(happy_histories[0])
            figures.happy_path_largest = hist.largest(happy_histories[0])
            figures.happy_path_activities = dict(hist.activity_types(happy_histories[0]))
        settings = dataclasses.replace(Settings(), config_dir=quick)
        project_worker = build_worker(client, pool, settings, task_queue="cost-replay")  # built, never run
        await replays(figures, opts.replays, raw_histories, happy_histories, raw_converter, project_worker)

        if opts.burst_phase:
            await cost_burst.both(
                figures.raw,
                figures.project,
                raw_client=raw_client,
                client=client,
                pool=pool,
                raw_worker=raw,
                burst_worker=workers[2],
                queues=(RAW_QUEUE, BURST_QUEUE),
                count=opts.burst,
                clock=opts.burst_clock,
                concurrency=opts.burst_concurrency,
                wait=opts.burst_wait,
                together=opts.burst_together,
                say=say,
            )
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
        if pool is not None:
            await pool.close()
        postgres.stop()
        if not opts.keep and opts.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    figures.machine["load_at_end"] = os.getloadavg()[0]
    return figures


def parse(argv: list[str] | None = None) -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--ci", action="store_true", help="CI scale: " + ", ".join(f"{k}={v}" for k, v in CI.items()))
    parser.add_argument("--appeals", type=int, help="N: lifecycles and starts on each side (300)")
    parser.add_argument("--concurrency", type=int, help="K: how many at a time (50)")
    parser.add_argument("--burst", type=int, help="B: appeals, and raw timers, at one instant (1000)")
    parser.add_argument("--burst-clock", type=float, help="seconds to acknowledge in the burst (60)")
    parser.add_argument("--burst-concurrency", type=int, help="starts at a time in the burst (100)")
    parser.add_argument("--burst-wait", type=float, help="seconds past the deadline to wait for breaches (900)")
    parser.add_argument(
        "--burst-together", action="store_true", help="raw timers and appeals at one instant, not one after the other"
    )
    parser.add_argument(
        "--no-bytecode",
        dest="bytecode",
        action="store_false",
        default=None,
        help="no .pyc files on either side: the sandboxes compile the workflow modules for every run",
    )
    parser.add_argument("--replays", type=int, help="histories to replay on each side (50)")
    parser.add_argument("--raw-encrypted", action="store_true", help="the raw floor encrypts its payloads too")
    parser.add_argument("--worker-log-level", help="the project workers' log level (INFO, as deployed)")
    parser.add_argument("--no-burst", action="store_true", help="skip the burst")
    parser.add_argument("--no-thirty-day", action="store_true", help="skip the 30-day path")
    parser.add_argument("--workdir", type=Path, help="keep the logs and data here (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workdir")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    chosen: dict[str, Any] = dict(CI) if args.ci else {}
    for name in ("appeals", "concurrency", "burst", "burst_clock", "burst_concurrency", "burst_wait", "replays"):
        if getattr(args, name) is not None:
            chosen[name] = getattr(args, name)
    if args.worker_log_level:
        chosen["worker_log_level"] = args.worker_log_level
    opts = Options(
        **chosen,
        raw_encrypted=args.raw_encrypted,
        burst_together=args.burst_together,
        bytecode=args.bytecode is not False,
        thirty_day=not args.no_thirty_day,
        burst_phase=not args.no_burst,
        workdir=args.workdir,
        keep=args.keep,
    )
    if opts.appeals < 1 or opts.concurrency < 1 or opts.burst < 1 or opts.burst_clock <= 0:
        parser.error("--appeals, --concurrency and --burst must be at least 1, --burst-clock positive")
    return opts, args.json


def use_bytecode(cache: Path) -> None:
    """Let this process and the workers it starts write and read .pyc files, kept under `cache`
    (not beside the sources). Without them (PYTHONDONTWRITEBYTECODE=1) the sandbox compiles the
    workflow modules from source for every new run it creates."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    os.environ["APPEALS_PYCACHE_DIR"] = str(cache)  # the project's worker: the same cache
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(cache)


def main(argv: list[str] | None = None) -> int:
    opts, json_path = parse(argv)
    configure("WARNING")
    if not os.environ.get("APPEALS_CODEC_KEYS") and not os.environ.get("APPEALS_CODEC_KEYS_FILE"):
        # The bench's data is synthetic and lives as long as the run: a key of its own, in the
        # environment its workers inherit, so it runs on a fresh clone without `dev.py up`.
        os.environ["APPEALS_CODEC_KEYS"] = new_key_line("bench")
    if opts.bytecode:
        use_bytecode(Path(tempfile.gettempdir()) / "cost-bench-pycache")
    else:
        os.environ["APPEALS_PYCACHE_DIR"] = "off"  # the project's worker caches bytecode by default
    began = time.monotonic()
    figures = asyncio.run(run(opts))
    figures.machine["wall_seconds"] = round(time.monotonic() - began, 1)
    print(table(figures))
    print()
    print(details(figures))
    if json_path:
        write_json(figures, json_path)
        say(f"figures written to {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
