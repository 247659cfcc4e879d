"""The cost bench's figures, the targets of issue 9 beside them, the table and the JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NAN = math.nan


@dataclass
class Side:
    """One side of the comparison: the raw floor or the project. NaN where not measured."""

    lifecycles: int = 0
    lifecycles_per_s: float = NAN
    starts: int = 0
    starts_per_s: float = NAN
    events: float = NAN  # mean history events per happy-path lifecycle
    events_max: int = 0
    history_bytes: float = NAN  # mean serialized history bytes per lifecycle
    history_bytes_max: int = 0
    worker_cpu_ms: float = NAN  # worker process CPU per lifecycle
    starts_worker_cpu_ms: float = NAN  # worker process CPU per start, during the starts phase
    replays: int = 0
    replay_cpu_ms: float = NAN  # CPU per replayed lifecycle history
    replay_unsandboxed_cpu_ms: float = NAN  # the same without the sandbox, for reference
    burst: int = 0
    burst_start_s: float = NAN  # how long starting the whole burst took
    burst_max_task_s: float = NAN  # slowest workflow task of the burst (Started → Completed)
    burst_tasks_over_2s: int = 0
    burst_tasks_over_5s: int = 0
    burst_task_timeouts: int = 0  # start to close (the worker held a task past 10 s)
    burst_sticky_timeouts: int = 0  # schedule to start on the sticky queue (5 s), then retried
    burst_task_failures: dict[str, int] = field(default_factory=dict)  # by cause
    burst_lag_p50_s: float = NAN  # raw: timer fired − due; project: breach in PostgreSQL − due
    burst_lag_p99_s: float = NAN
    burst_lag_max_s: float = NAN
    burst_missing: int = 0  # never fired / never reached PostgreSQL within the wait
    burst_worker_cpu_s: float = NAN


@dataclass
class Figures:
    raw: Side = field(default_factory=Side)
    project: Side = field(default_factory=Side)
    thirty_day_events: int = 0
    thirty_day_bytes: int = 0
    happy_path_json_bytes: int = 0  # one happy-path history exported as JSON (base64 payloads)
    status_timeouts: int = 0  # the driver waited STATUS_PATIENCE for a status that never showed
    updates_per_appeal: float = NAN  # Updates the driver sent per happy path, refusals included
    refused_per_appeal: float = NAN  # of which refused for now and tried again
    happy_path_breakdown: list[tuple[str, int, int]] = field(default_factory=list)
    happy_path_activities: dict[str, int] = field(default_factory=dict)
    happy_path_largest: list[tuple[int, str, int]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)


def ratio(project: float, raw: float) -> float:
    if math.isnan(project) or math.isnan(raw) or raw == 0:
        return NAN
    return project / raw


def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def _verdict(value: float, ok: Callable[[float], bool]) -> str:
    return "n/a" if math.isnan(value) else ("PASS" if ok(value) else "FAIL")


@dataclass(frozen=True)
class Row:
    label: str
    raw: str
    project: str
    ratio: str
    target: str = ""
    verdict: str = ""


def rows(f: Figures) -> list[Row]:
    """The table's rows; judging the figures against the targets, it records the verdicts on `f`.
    Per-appeal figures are means over the run's lifecycles."""
    r, p = f.raw, f.project
    lifecycle_ratio = ratio(p.lifecycles_per_s, r.lifecycles_per_s)
    start_ratio = ratio(p.starts_per_s, r.starts_per_s)
    cpu_ratio = ratio(p.worker_cpu_ms, r.worker_cpu_ms)
    lag_ratio = ratio(p.burst_lag_p99_s, r.burst_lag_p99_s)
    kb = 1000.0
    thirty = float(f.thirty_day_events) if f.thirty_day_events else NAN
    verdicts = {
        "lifecycles": _verdict(lifecycle_ratio, lambda v: v >= 0.6),
        "starts": _verdict(start_ratio, lambda v: v >= 0.8),
        "events": _verdict(p.events, lambda v: v <= 40),
        "bytes": _verdict(p.history_bytes, lambda v: v <= 30 * kb),
        "thirty_day_events": _verdict(thirty, lambda v: v <= 120),
        "worker_cpu": _verdict(cpu_ratio, lambda v: v <= 3),
        "burst_max_task": _verdict(p.burst_max_task_s, lambda v: v <= 2),
        "burst_lag": _verdict(lag_ratio, lambda v: v <= 1.3),
    }
    f.verdicts = verdicts
    return [
        Row(
            "Full lifecycles per second",
            _fmt(r.lifecycles_per_s),
            _fmt(p.lifecycles_per_s),
            _fmt(lifecycle_ratio, 2),
            ">= 0.6x raw",
            verdicts["lifecycles"],
        ),
        Row(
            "Starts per second",
            _fmt(r.starts_per_s),
            _fmt(p.starts_per_s),
            _fmt(start_ratio, 2),
            ">= 0.8x raw",
            verdicts["starts"],
        ),
        Row(
            "History events, happy path",
            _fmt(r.events),
            _fmt(p.events),
            _fmt(ratio(p.events, r.events), 2),
            "<= 40",
            verdicts["events"],
        ),
        Row(
            "History KB, happy path",
            _fmt(r.history_bytes / kb),
            _fmt(p.history_bytes / kb),
            _fmt(ratio(p.history_bytes, r.history_bytes), 2),
            "<= 30 KB",
            verdicts["bytes"],
        ),
        Row("History events, 30-day path", "", _fmt(thirty, 0), "", "<= 120", verdicts["thirty_day_events"]),
        Row("History KB, 30-day path", "", _fmt(f.thirty_day_bytes / kb if f.thirty_day_bytes else NAN), ""),
        Row(
            "Worker CPU per lifecycle, ms",
            _fmt(r.worker_cpu_ms),
            _fmt(p.worker_cpu_ms),
            _fmt(cpu_ratio, 2),
            "<= 3x raw",
            verdicts["worker_cpu"],
        ),
        Row(
            "Worker CPU per start, ms",
            _fmt(r.starts_worker_cpu_ms),
            _fmt(p.starts_worker_cpu_ms),
            _fmt(ratio(p.starts_worker_cpu_ms, r.starts_worker_cpu_ms), 2),
        ),
        Row(
            "Replay CPU per history, ms",
            _fmt(r.replay_cpu_ms),
            _fmt(p.replay_cpu_ms),
            _fmt(ratio(p.replay_cpu_ms, r.replay_cpu_ms), 2),
        ),
        Row(
            "Replay CPU per history without the sandbox, ms",
            _fmt(r.replay_unsandboxed_cpu_ms),
            _fmt(p.replay_unsandboxed_cpu_ms),
            _fmt(ratio(p.replay_unsandboxed_cpu_ms, r.replay_unsandboxed_cpu_ms), 2),
        ),
        Row(
            f"Burst of {p.burst or r.burst}: slowest workflow task, s",
            _fmt(r.burst_max_task_s, 2),
            _fmt(p.burst_max_task_s, 2),
            _fmt(ratio(p.burst_max_task_s, r.burst_max_task_s), 2),
            "<= 2 s",
            verdicts["burst_max_task"],
        ),
        Row(
            "Burst: lag p50, s (raw: timer fired; project: breach in PostgreSQL)",
            _fmt(r.burst_lag_p50_s, 2),
            _fmt(p.burst_lag_p50_s, 2),
            _fmt(ratio(p.burst_lag_p50_s, r.burst_lag_p50_s), 2),
        ),
        Row(
            "Burst: lag p99, s",
            _fmt(r.burst_lag_p99_s, 2),
            _fmt(p.burst_lag_p99_s, 2),
            _fmt(lag_ratio, 2),
            "<= 1.3x raw",
            verdicts["burst_lag"],
        ),
    ]


def table(f: Figures) -> str:
    header = ("", "Raw Temporal (2 activities, 1 signal)", "This project", "Ratio", "Target", "Verdict")
    cells = [header, *((x.label, x.raw, x.project, x.ratio, x.target, x.verdict) for x in rows(f))]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        return "  ".join(c.ljust(w) if i in (0, 4, 5) else c.rjust(w) for i, (c, w) in pairs)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]).rstrip(), rule, *(line(row).rstrip() for row in cells[1:])])


def details(f: Figures) -> str:
    r, p = f.raw, f.project
    lines = [
        f"lifecycles: {r.lifecycles} raw, {p.lifecycles} project, {f.options.get('concurrency')} at a time; "
        f"starts: {r.starts} raw, {p.starts} project",
        f"driver: {_fmt(f.updates_per_appeal)} Updates per happy path, of which {_fmt(f.refused_per_appeal)} "
        f"refused for now and tried again; status waits timed out: {f.status_timeouts}",
        f"history per happy path: raw max {r.events_max} events / {r.history_bytes_max:,} B; "
        f"project max {p.events_max} events / {p.history_bytes_max:,} B; "
        f"one project history as JSON: {f.happy_path_json_bytes:,} B",
        f"replays: {r.replays} raw, {p.replays} project histories",
    ]
    for name, side in (("raw timers", r), ("appeals", p)):
        lines.append(
            f"burst, {name}: {side.burst} started in {_fmt(side.burst_start_s, 1)} s; tasks over 2 s: "
            f"{side.burst_tasks_over_2s}, over 5 s: {side.burst_tasks_over_5s}, timed out: "
            f"{side.burst_task_timeouts}, sticky queue timeouts: {side.burst_sticky_timeouts}, "
            f"failed: {sum(side.burst_task_failures.values())}"
            f"{f' {side.burst_task_failures}' if side.burst_task_failures else ''}; "
            f"lag max {_fmt(side.burst_lag_max_s, 2)} s; missing: {side.burst_missing}; "
            f"worker CPU {_fmt(side.burst_worker_cpu_s, 1)} s"
        )
    if f.happy_path_activities:
        lines.append(
            "project happy path, activities and markers: "
            + ", ".join(f"{name} x{n}" for name, n in sorted(f.happy_path_activities.items(), key=lambda x: -x[1]))
        )
    if f.happy_path_largest:
        lines.append(
            "project happy path, largest events: "
            + ", ".join(f"#{n} {what} {size:,} B" for n, what, size in f.happy_path_largest)
        )
    if f.happy_path_breakdown:
        lines.append("project happy path, where the bytes go (event type: count, bytes):")
        lines += [f"    {kind:<40} {n:4d} {size:9,d}" for kind, n, size in f.happy_path_breakdown[:8]]
    lines.append(f"machine: {f.machine}")
    return "\n".join(lines)


def write_json(f: Figures, path: Path) -> None:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    rows(f)  # the verdicts
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(asdict(f)), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
