"""`appealctl.py` and `starter.py` as real subprocesses, with no server: the operator's "when is this
due?", and every mistake as one line on stderr with exit code 2. Output is in Russian by default and
in English with APPEALS_LANGUAGE=en; error messages are English in both."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def appealctl(*args: str, language: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "APPEALS_LANGUAGE"}
    if language:
        env["APPEALS_LANGUAGE"] = language
    return subprocess.run(
        [sys.executable, "appealctl.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )


def test_a_social_answer_asked_on_new_years_eve_is_due_after_the_holidays():
    done = appealctl("deadline", "--start", "2026-12-31T16:00+05:00", "--policy", "social", "--clock", "answer")
    assert done.returncode == 0, done.stderr
    assert "срок         2027-01-11T18:00:00+05:00" in done.stdout
    assert "2026-12-31 day off: Выходной (перенесено с 04.01.2026)" in done.stdout
    assert "2027-01-07 holiday: Рождество Христово" in done.stdout


def test_the_deadline_explanation_in_each_language():
    args = ("deadline", "--start", "2026-12-31T16:00+05:00", "--duration", "8 working hours", "--municipality", "Пермь")
    russian, english = appealctl(*args), appealctl(*args, language="en")
    assert russian.returncode == english.returncode == 0, russian.stderr + english.stderr
    assert russian.stdout.splitlines()[:6] == [
        "начало       2026-12-31T16:00:00+05:00",
        "длительность 8 working hours",
        "часовой пояс Asia/Yekaterinburg",
        "календарь    федеральный",
        "срок         2027-01-11T18:00:00+05:00   (2027-01-11T13:00:00+00:00)",
        "почему",
    ]
    assert english.stdout.splitlines()[:6] == [
        "start      2026-12-31T16:00:00+05:00",
        "duration   8 working hours",
        "zone       Asia/Yekaterinburg",
        "calendar   federal",
        "deadline   2027-01-11T18:00:00+05:00   (2027-01-11T13:00:00+00:00)",
        "why",
    ]
    # The reasons are the calendar's own words, the same in both.
    assert russian.stdout.splitlines()[6:] == english.stdout.splitlines()[6:]


def test_a_language_the_cli_does_not_speak_is_refused():
    done = appealctl("deadline", "--start", "2026-12-31T16:00+05:00", "--duration", "1 hour", language="de")
    assert done.returncode != 0 and "APPEALS_LANGUAGE='de': write one of ru, en" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_list_filters_are_headed_in_the_readers_language():
    russian, english = appealctl("filters"), appealctl("filters", language="en")
    assert russian.returncode == english.returncode == 0, russian.stderr + english.stderr
    headings = [line for line in russian.stdout.splitlines() if line.startswith("# ")]
    assert headings[:2] == ["# просрочены сейчас", "# срок нарушался, обращение не закрыто"]
    assert len(headings) == 6 and "# по исполнителю" in headings
    assert "# overdue now" in english.stdout.splitlines() and "# by executor" in english.stdout.splitlines()

    def queries(done: subprocess.CompletedProcess[str]) -> list[str]:
        """The queries, but for the instants (each run's own "now")."""
        lines = [line for line in done.stdout.splitlines() if line and not line.startswith("# ")]
        return [re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<instant>", line) for line in lines]

    assert len(queries(russian)) == 6 and queries(russian) == queries(english)


def test_the_municipalities_table_in_each_language():
    russian, english = appealctl("municipalities"), appealctl("municipalities", language="en")
    assert russian.stdout.split()[:4] == ["муниципалитет", "часовой", "пояс", "регион"]
    assert english.stdout.split()[:4] == ["municipality", "zone", "region", "region_file"]
    rows = [[line.split() for line in done.stdout.splitlines()[2:]] for done in (russian, english)]
    assert len(rows[0]) > 5 and rows[0] == rows[1]  # the same rows under other headers


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
    assert "срок         2026-11-16T10:00:00+05:00" in perm.stdout  # Friday 17:00 in Perm
    assert "срок         2026-11-13T17:00:00+03:00" in moscow.stdout  # Friday 15:00 in Moscow


def test_mistakes_are_explained_without_a_traceback():
    unknown = appealctl("deadline", "--start", "2026-11-30T10:00+05:00", "--policy", "nope")
    assert unknown.returncode == 2 and "no policy named 'nope'; known: social-high" in unknown.stderr
    naive = appealctl("deadline", "--start", "2026-11-30T10:00", "--duration", "1 hour")
    assert naive.returncode == 2 and "has no UTC offset" in naive.stderr
    vague = appealctl("deadline", "--start", "2026-11-30T10:00+05:00", "--duration", "soon")
    assert vague.returncode == 2 and "'soon' is not a duration" in vague.stderr
    for done in (unknown, naive, vague):
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("language", "title", "header", "page"),
    [
        (None, "Отчёт по SLA, обращения, поступившие 2026-11-01", "группа,название,обращений,", '<html lang="ru">'),
        ("en", "SLA report, appeals received 2026-11-01", "group,name,appeals,", '<html lang="en">'),
    ],
)
def test_the_report_command_writes_table_csv_and_html(pool, database_url, tmp_path, language, title, header, page):
    env = {k: v for k, v in os.environ.items() if k != "APPEALS_LANGUAGE"} | {"APPEALS_DATABASE_URL": database_url}
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
        env=env | ({"APPEALS_LANGUAGE": language} if language else {}),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(title)
    assert (tmp_path / "sla.csv").read_text(encoding="utf-8").splitlines()[0].startswith(header)
    html = (tmp_path / "sla.html").read_text(encoding="utf-8")
    assert "<svg" in html and page in html
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


# --- every mistake is one line on stderr, exit code 2, never a traceback ----------------------

APPEAL = {
    "channel": "vk",
    "external_id": "wall-1",
    "text": "Не вывозят снег во дворе.",
    "author": {"name": "Мария"},
    "received_at": "2026-11-29T09:00:00+05:00",
}


def run(*args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """A CLI with no Temporal to reach: everything here must be refused before connecting."""
    env = os.environ | {"TEMPORAL_ADDRESS": "127.0.0.1:9", "APPEALS_DATABASE_URL": ""}
    done = subprocess.run([sys.executable, *args], cwd=ROOT, input=stdin, capture_output=True, timeout=60, env=env)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr and "errors.pydantic.dev" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "latin1.json").write_bytes(json.dumps(APPEAL, ensure_ascii=False).encode("cp1251"))
    (tmp_path / "directory.json").mkdir()
    hostile = APPEAL | {"text": "a\x00b", "author": {"name": "\u200b\u200b"}, "received_at": "1970-01-01T00:00:00Z"}
    hostile["attachments"] = [{"url": "javascript:alert(1)"}]
    (tmp_path / "hostile.json").write_text(json.dumps(hostile))
    (tmp_path / "future.json").write_text(json.dumps(APPEAL | {"received_at": "2099-01-01T00:00:00Z"}))
    versions = [APPEAL, APPEAL | {"external_id": "wall-2"}, APPEAL | {"text": "Исправленный текст."}]
    (tmp_path / "versions.jsonl").write_text("\n".join(json.dumps(v) for v in versions))
    third = json.dumps(APPEAL | {"external_id": "wall-3", "text": "Снег @"}).encode().replace(b"@", b"\xff")
    lines = [json.dumps(APPEAL).encode(), b"", third]
    (tmp_path / "broken.jsonl").write_bytes(b"\n".join(lines))
    return tmp_path


CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "invalid UTF-8": (("starter.py", "submit", "{d}/latin1.json"), ("latin1.json: line 1", "is not UTF-8")),
    "a directory": (("starter.py", "submit", "{d}/directory.json"), ("is a directory",)),
    "a missing file": (("starter.py", "submit", "{d}/missing.json"), ("no such file",)),
    "hostile fields": (
        ("starter.py", "submit", "{d}/hostile.json"),
        ("text: contains a NUL", "author.name: is empty", "received_at: 1970", "attachments.0.url: must be an http"),
    ),
    "the future": (("starter.py", "submit", "{d}/future.json"), ("received_at: 2099-01-01", "in the future")),
    "two versions in a batch": (("starter.py", "batch", "{d}/versions.jsonl"), ("line 1 and line 3", "differ in text")),
    "invalid UTF-8 in a batch": (("starter.py", "batch", "{d}/broken.jsonl"), ("line 3", "is not UTF-8")),
    "an unknown command": (("starter.py", "resubmit"), ("invalid choice: 'resubmit'",)),
    "appealctl submit": (("appealctl.py", "submit", "{d}/hostile.json"), ("text: contains a NUL",)),
    "a huge duration": (
        ("appealctl.py", "deadline", "--start", "2026-11-30T10:00+05:00", "--duration", "99999999999 calendar days"),
        ("too long",),
    ),
    "year 9999": (
        ("appealctl.py", "deadline", "--start", "9999-12-31T10:00+05:00", "--duration", "30 calendar days"),
        ("9999-12-31 is outside 2000-01-01..2099-12-31",),
    ),
    "a duration that is no number": (
        ("appealctl.py", "deadline", "--start", "2026-11-30T10:00+05:00", "--duration", "1e999 working hours"),
        ("--duration: '1e999 working hours' is not a duration",),
    ),
    "--from after --to": (("appealctl.py", "report", "--from", "2026-12-01", "--to", "2026-11-01"), ("is after --to",)),
    "a report in year 9999": (("appealctl.py", "report", "--from", "2026-12-01", "--to", "9999-12-31"), ("outside",)),
    "--input that is no object": (
        ("appealctl.py", "act", "appeal-vk-1", "acknowledge", "--input", "[1]"),
        ("must be a JSON object",),
    ),
    "an escape in by": (
        ("appealctl.py", "act", "appeal-vk-1", "acknowledge", "by=a\x1bb"),
        ("by: contains the control",),
    ),
    "a duplicate of nothing": (
        ("appealctl.py", "act", "appeal-vk-1", "mark_duplicate", "by=operator", "original=appeal-fax-1"),
        ("original: must be an appeal's workflow id",),
    ),
    "an incident committed in the past": (
        (
            "appealctl.py",
            "incident",
            "open",
            "--id",
            "x",
            "--title",
            "t",
            "--category",
            "c",
            "--address",
            "a",
            "--committed-date",
            "2020-01-15",
        ),
        ("is not after today",),
    ),
    "an incident committed in 2100": (
        (
            "appealctl.py",
            "incident",
            "open",
            "--id",
            "x",
            "--title",
            "t",
            "--category",
            "c",
            "--address",
            "a",
            "--committed-date",
            "2100-01-01",
        ),
        ("2100-01-01 is outside",),
    ),
    "a quote in a list filter": (
        ("appealctl.py", "filters", "--executor", 'x" OR true OR Executor = "y'),
        ("--executor: quotes",),
    ),
    "a link to no appeal": (("appealctl.py", "incident", "link", "x", "vk-1"), ("workflow_id: must be an appeal",)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_mistake_is_one_line_with_exit_code_2(case: str, files: Path) -> None:
    args, words = CASES[case]
    assert_one_line_error(run(*(a.format(d=files) for a in args)), *words)


def test_stdin_that_is_not_utf8_and_an_argument_that_is_not_utf8(files: Path) -> None:
    assert_one_line_error(run("starter.py", "submit", "-", stdin=b'{"text": "\xff"}'), "stdin: line 1", "not UTF-8")
    assert_one_line_error(run("appealctl.py", "show", b"appeal-vk-\xff"), "not UTF-8", "\\udcff")
