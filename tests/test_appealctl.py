"""`appealctl.py deadline`: the operator's "when is this due?", as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def appealctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "appealctl.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_social_answer_asked_on_new_years_eve_is_due_after_the_holidays():
    done = appealctl("deadline", "--start", "2026-12-31T16:00+05:00", "--policy", "social", "--clock", "answer")
    assert done.returncode == 0, done.stderr
    assert "deadline   2027-01-11T18:00:00+05:00" in done.stdout
    assert "2026-12-31 day off: Выходной (перенесено с 04.01.2026)" in done.stdout
    assert "2027-01-07 holiday: Рождество Христово" in done.stdout


def test_a_59_fz_deadline_on_a_holiday_moves_to_the_next_working_day_as_json():
    done = appealctl("deadline", "--start", "2026-12-02T10:00+05:00", "--duration", "30 calendar days", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["deadline_local"] == "2027-01-11T09:00:00+05:00"
    assert any("2027-01-01 is a non-working day" in line for line in answer["reasons"])


def test_the_zone_follows_the_municipality():
    perm = appealctl("deadline", "--start", "2026-11-13T12:00Z", "--duration", "2 working hours")
    moscow = appealctl(
        "deadline",
        "--start",
        "2026-11-13T12:00Z",
        "--duration",
        "2 working hours",
        "--municipality",
        "Москва",
    )
    assert "deadline   2026-11-16T10:00:00+05:00" in perm.stdout  # Friday 17:00 in Perm
    assert "deadline   2026-11-13T17:00:00+03:00" in moscow.stdout  # Friday 15:00 in Moscow


def test_mistakes_are_explained_without_a_traceback():
    unknown = appealctl("deadline", "--start", "2026-11-30T10:00+05:00", "--policy", "nope")
    assert unknown.returncode == 2 and "no policy named 'nope'; known: social-high" in unknown.stderr
    naive = appealctl("deadline", "--start", "2026-11-30T10:00", "--duration", "1 hour")
    assert naive.returncode == 2 and "has no UTC offset" in naive.stderr
    vague = appealctl("deadline", "--start", "2026-11-30T10:00+05:00", "--duration", "soon")
    assert vague.returncode == 2 and "'soon' is not a duration" in vague.stderr
    for done in (unknown, naive, vague):
        assert "Traceback" not in done.stderr


def test_the_report_command_writes_table_csv_and_html(pool, database_url, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "appealctl.py",
            "report",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--csv",
            str(tmp_path / "sla.csv"),
            "--html",
            str(tmp_path / "sla.html"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"APPEALS_DATABASE_URL": database_url},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sla.csv").read_text().splitlines()[0].startswith("group,name,appeals,")
    assert "<svg" in (tmp_path / "sla.html").read_text()
    as_json = subprocess.run(
        [sys.executable, "appealctl.py", "report", "--from", "2026-11-01", "--to", "2026-11-30", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"APPEALS_DATABASE_URL": database_url},
    )
    assert as_json.returncode == 0, as_json.stderr
    assert {"by_executor", "by_municipality", "open_incidents"} <= set(json.loads(as_json.stdout))


def test_the_report_command_explains_a_missing_database():
    done = subprocess.run(
        [sys.executable, "appealctl.py", "report", "--from", "2026-11-01", "--to", "2026-11-30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "APPEALS_DATABASE_URL"},
    )
    assert done.returncode == 2 and "report needs APPEALS_DATABASE_URL" in done.stderr
