"""The chaos run at CI scale (issue 8): 200 appeals in flight through 3 worker kills, a dev-server
restart, 30 s without PostgreSQL and failing webhooks, with operator Updates throughout.

It runs `python -m bench.chaos` as a user would, with real parts only (see bench/chaos.py),
and reads the figures it writes as JSON. The table it prints is in the captured output; the
logs and histories stay in the test's temporary directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.e2e]


@pytest.mark.timeout(1200)
def test_nothing_is_lost_duplicated_or_stuck_through_the_chaos(tmp_path: Path):
    figures = tmp_path / "chaos.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.chaos",
            "--appeals",
            "200",
            "--kills",
            "3",
            "--server-restarts",
            "1",
            "--db-outage-seconds",
            "30",
            "--webhook-outage-seconds",
            "30",
            "--workdir",
            str(tmp_path / "run"),
            "--json",
            str(figures),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1150,
    )
    print(run.stdout)
    assert figures.exists(), f"the chaos run ended without figures (exit {run.returncode}):\n{run.stderr[-4000:]}"
    result = json.loads(figures.read_text(encoding="utf-8"))
    checks = {c["id"]: c for c in result["checks"]}
    f = result["figures"]
    assert (f["kills"], f["server_restarts"], f["db_outages"], f["webhook_outages"]) == (3, 1, 1, 1)

    def examples(key: str) -> str:
        return "\n".join(checks[key]["examples"])

    assert checks["created"]["passed"], checks["created"]["value"]
    assert checks["lost"]["value"] == 0, examples("lost")
    assert checks["duplicated"]["value"] == 0, examples("duplicated")
    assert checks["failed"]["passed"], examples("failed")
    assert checks["timers"]["passed"], examples("timers")
    assert checks["undelivered"]["passed"], examples("undelivered")
    assert checks["coverage"]["passed"], examples("coverage")
    assert checks["update_latency"]["passed"], f"{checks['update_latency']['value']}:\n{examples('update_latency')}"
    # Every history replays: as it is, or (a handful after kills) only in the grouping its recording
    # worker gave an Update and the results delivered with it, which the workers learn from the failed
    # attempt (stack/activation_learning.py) and the check proves (bench/chaos_replay.py).
    assert checks["replay"]["passed"], examples("replay")
    for key in ("stuck", "unreadable", "update_unanswered"):
        assert checks[key]["passed"], examples(key)
