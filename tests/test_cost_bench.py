"""The cost bench (bench/cost.py) runs end to end at CI scale and prints sane figures.

Only that it works is checked here; whether the figures meet issue 9's targets is the bench's
own verdict, read by people."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROWS = [
    "Full lifecycles per second",
    "Starts per second",
    "History events, happy path",
    "History KB, happy path",
    "History events, 30-day path",
    "Worker CPU per lifecycle, ms",
    "Replay CPU per history, ms",
    "Burst of 20: slowest workflow task, s",
    "Burst: lag p99, s",
]


def positive(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(value) and value > 0


def test_the_cost_bench_runs_at_ci_scale_and_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "cost.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.cost", "--ci", "--workdir", str(tmp_path / "work"), "--json", str(out)],
        cwd=ROOT,
        env=os.environ.copy(),  # the session's payload key (tests/conftest.py)
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    table = done.stdout
    assert "Raw Temporal (2 activities, 1 signal)" in table and "This project" in table
    for row in ROWS:
        assert row in table, f"{row!r} missing from the table:\n{table}"
    assert "PASS" in table or "FAIL" in table

    figures = json.loads(out.read_text())
    raw, project = figures["raw"], figures["project"]
    for side in (raw, project):
        assert side["lifecycles"] == 10 and side["starts"] == 10
        for name in ("lifecycles_per_s", "starts_per_s", "worker_cpu_ms", "replay_cpu_ms", "history_bytes"):
            assert positive(side[name]), (name, side[name])
        assert side["burst"] == 20 and side["burst_missing"] == 0
        assert positive(side["burst_max_task_s"])
        assert -0.5 < side["burst_lag_p50_s"] <= side["burst_lag_p99_s"] <= side["burst_lag_max_s"]
    # The floor's history is what a 2-activity, 1-signal workflow writes; the appeal's is longer.
    assert 15 <= raw["events"] <= 30
    assert project["events"] > raw["events"] and project["history_bytes"] > raw["history_bytes"]
    assert figures["thirty_day_events"] > project["events"]
    # The driver acts on the AppealStatus search attribute the workflow upserts; if that is gone,
    # it still runs (trying Updates again), but each try costs a workflow task: adapt bench/cost_drive.py.
    assert figures["status_timeouts"] == 0, "the appeal never showed the status the driver waits for"
    assert set(figures["verdicts"]) == {
        "lifecycles",
        "starts",
        "events",
        "bytes",
        "thirty_day_events",
        "worker_cpu",
        "burst_max_task",
        "burst_lag",
    }
    assert set(figures["verdicts"].values()) <= {"PASS", "FAIL"}
