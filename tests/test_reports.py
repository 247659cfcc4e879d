"""SLA reports against real PostgreSQL, with the HTML rendered in real headless Chromium.

Headers and labels are Russian by default and English with APPEALS_LANGUAGE=en (or `language="en"`);
the figures and the page's structure are the same in both.

The dataset: six appeals received Mon 2026-11-16 .. Mon 2026-11-23 in Perm time (UTC+5),
two executors, two municipalities (both Asia/Yekaterinburg), working hours 09–18 with lunch
13–14. Hand-computed working hours from received_at:

    appeal  exec mun     reaction (ack)            answer (answered_at)
    A1      A    Пермь   Mon 10:00→11:30  = 1.5    →Tue 10:00 = 3+4+1        = 8
    A2      A    Пермь   Mon 12:00→15:00  = 2      →Wed 12:00 = 1+4+8+3      = 16
    A3      A    Кунгур  Tue 09:00→14:30  = 4.5    →Fri 11:00 = 8+8+8+2      = 26
    B1      B    Пермь   Mon 17:00→Tue 10:00 = 2   →Thu 16:00 = 1+8+8+4+2    = 23
    B2      B    Кунгур  Thu 09:30→11:00  = 1.5    —
    B3      B    Пермь   (Mon 2026-11-23, never acknowledged)
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import string
import struct
import subprocess
import tomllib
import uuid
import zlib
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from appeals.working_calendar import CalendarConfig, WorkingCalendar
from stack.filters import filters
from stack.texts import LANGUAGES, texts
from stack.texts import en as english
from stack.texts import ru as russian
from tools import reports
from tools.reports import (
    Report,
    build_report,
    csv_cell,
    csv_columns,
    csv_header,
    render_csv,
    render_html,
    render_table,
)

ROOT = Path(__file__).resolve().parent.parent
PERM = ZoneInfo("Asia/Yekaterinburg")
START = datetime(2026, 11, 16, tzinfo=PERM)
END = datetime(2026, 11, 28, tzinfo=PERM)
RUN = uuid.uuid4().hex[:8]
EXEC_A = f"report-exec-a-{RUN}@perm.example"
EXEC_B = f"report-exec-b-{RUN}@perm.example"
INCIDENT = f"INC-report-{RUN}"
SCREENSHOT_DIR = ROOT / ".appeals-data" / "report-check"
CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium"


@pytest.fixture(autouse=True)
def _default_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default, whatever the shell running the tests has set."""
    monkeypatch.delenv("APPEALS_LANGUAGE", raising=False)


def t(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Perm local time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=PERM)


# --- the fixture data ------------------------------------------------------------------------

Event = tuple[str, datetime, dict[str, Any]]


def _dataset() -> list[dict[str, Any]]:
    return [
        {
            "id": "a1",
            "executor": EXEC_A,
            "municipality": "Пермь",
            "received": t(16, 10),
            "ack": t(16, 11, 30),
            "answered": t(17, 10),
            "status": "closed_resolved",
            "events": [
                ("acknowledged", t(16, 11, 30), {"on_time": True}),
                ("answered", t(17, 10), {"on_time": True}),
                ("published", t(17, 10, 5), {}),
                ("closed", t(19, 10), {"status": "closed_resolved"}),
            ],
        },
        {
            "id": "a2",
            "executor": EXEC_A,
            "municipality": "Пермь",
            "received": t(16, 12),
            "ack": t(16, 15),
            "answered": t(18, 12),
            "status": "answered",
            "events": [
                ("acknowledged", t(16, 15), {"on_time": True}),
                ("answered", t(17, 16), {"on_time": True}),
                ("answer_returned", t(17, 16, 1), {"by": "automatic check", "executor": EXEC_A}),
                ("sla_breached", t(18, 9), {"clock": "rework"}),
                ("escalated", t(18, 9), {"level": 1}),
                ("answered", t(18, 12), {"on_time": False}),
                ("published", t(18, 12, 5), {}),
            ],
        },
        {
            "id": "a3",
            "executor": EXEC_A,
            "municipality": "Кунгур",
            "received": t(17, 9),
            "ack": t(17, 14, 30),
            "answered": t(20, 11),
            "status": "answered",
            "events": [
                ("sla_breached", t(17, 12), {"clock": "acknowledge"}),
                ("escalated", t(17, 12), {"level": 1}),
                ("acknowledged", t(17, 14, 30), {"on_time": False}),
                ("white_spot_declared", t(18, 10), {"committed_date": "2026-11-20"}),
                ("answered", t(20, 11), {"on_time": True, "commitment_kept": True}),
                ("published", t(20, 11, 5), {}),
            ],
        },
        {
            "id": "b1",
            "executor": EXEC_B,
            "municipality": "Пермь",
            "received": t(16, 17),
            "ack": t(17, 10),
            "answered": t(19, 16),
            "status": "answered",
            "cycle": 2,
            "events": [
                ("acknowledged", t(17, 10), {"on_time": True}),
                ("answered", t(17, 15), {"on_time": True}),
                ("answer_returned", t(17, 16), {"by": "moderator-ivanova", "executor": EXEC_B}),
                ("answered", t(18, 10), {"on_time": True}),
                ("published", t(18, 10, 5), {}),
                ("reopened", t(18, 11), {"cycle": 2}),
                ("sla_breached", t(19, 14), {"clock": "answer"}),
                ("escalated", t(19, 14), {"level": 1}),
                ("escalated", t(19, 17), {"level": 2}),
                ("answered", t(19, 16), {"on_time": False}),
                ("published", t(19, 16, 5), {}),
            ],
        },
        {
            "id": "b2",
            "executor": EXEC_B,
            "municipality": "Кунгур",
            "received": t(19, 9, 30),
            "ack": t(19, 11),
            "answered": None,
            "status": "in_progress",
            "events": [
                ("acknowledged", t(19, 11), {"on_time": True}),
                ("white_spot_declared", t(19, 11), {"committed_date": "2026-11-20"}),
                ("sla_breached", t(20, 18, 30), {"clock": "commitment"}),
                ("sla_breached", t(20, 18, 45), {"clock": "final"}),
                ("escalated", t(20, 18, 45), {"level": 1}),
            ],
        },
        {
            "id": "b3",
            "executor": EXEC_B,
            "municipality": "Пермь",
            "received": t(23, 10),
            "ack": None,
            "answered": None,
            "status": "registered",
            "events": [
                ("sla_breached", t(23, 11), {"clock": "acknowledge"}),
                ("escalated", t(23, 11), {"level": 1}),
            ],
        },
        {  # received before the period: must not count
            "id": "early",
            "executor": EXEC_A,
            "municipality": "Пермь",
            "received": t(13, 10),
            "ack": t(13, 17),
            "answered": None,
            "status": "in_progress",
            "events": [
                ("acknowledged", t(13, 17), {"on_time": False}),
                ("sla_breached", t(13, 16), {"clock": "acknowledge"}),
                ("escalated", t(13, 16), {"level": 3}),
            ],
        },
    ]


async def _insert(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for item in _dataset():
            wid = f"appeal-report-{RUN}-{item['id']}"
            events: list[Event] = item["events"]
            await conn.execute(
                """
                INSERT INTO appeals (workflow_id, channel, external_id, category, municipality, priority, text,
                    author, received_at, registered_at, status, executor, acknowledged_at, answered_at,
                    escalation_level, sla_breached, cycle, last_event_seq, incident_id)
                VALUES ($1, 'vk', $2, 'snow_removal', $3, 'normal', 'Не вывозят снег во дворе', $4, $5, $5, $6,
                    $7, $8, $9, $10, $11, $12, $13, $14)
                """,
                wid,
                f"post-{RUN}-{item['id']}",
                item["municipality"],
                {"name": "Житель"},
                item["received"],
                item["status"],
                item["executor"],
                item["ack"],
                item["answered"],
                max([e[2].get("level", 0) for e in events] or [0]),
                any(e[0] == "sla_breached" for e in events),
                item.get("cycle", 1),
                len(events),
                INCIDENT if item["id"] in ("a1", "a3") else None,
            )
            for seq, (kind, at, data) in enumerate(events, start=1):
                await conn.execute(
                    "INSERT INTO appeal_events (workflow_id, seq, kind, occurred_at, summary, data)"
                    " VALUES ($1, $2, $3, $4, $5, $6)",
                    wid,
                    seq,
                    kind,
                    at,
                    kind,
                    data,
                )
        for incident_id, status, linked in ((INCIDENT, "open", 2), (f"{INCIDENT}-done", "answered", 5)):
            await conn.execute(
                "INSERT INTO incidents (incident_id, title, category, municipality, address, status, opened_at, linked)"
                " VALUES ($1, $2, 'snow_removal', 'Пермь', 'ул. Ленина, 50', $3, $4, $5)",
                incident_id,
                f"Снег во дворе, ул. Ленина, 50 ({status})",
                status,
                t(16, 12),
                linked,
            )


@pytest.fixture(scope="module")
def calendar_config() -> CalendarConfig:
    with open(ROOT / "config" / "calendar.toml", "rb") as f:
        return CalendarConfig.model_validate(tomllib.load(f))


_report: Report | None = None


async def _the_report(pool: asyncpg.Pool, calendar_config: CalendarConfig) -> Report:
    global _report
    if _report is None:
        await _insert(pool)
        _report = await build_report(pool, START, END, calendar_config, executors=[EXEC_A, EXEC_B])
    return _report


def _row(rows: list[Any], name: str) -> Any:
    [row] = [r for r in rows if r.name == name]
    return row


# --- figures ---------------------------------------------------------------------------------


async def test_per_executor_figures(pool: asyncpg.Pool, calendar_config: CalendarConfig) -> None:
    report = await _the_report(pool, calendar_config)
    assert [r.name for r in report.by_executor] == [EXEC_A, EXEC_B]
    a, b = _row(report.by_executor, EXEC_A), _row(report.by_executor, EXEC_B)

    assert (a.appeals, a.acknowledged, a.acknowledged_on_time) == (3, 3, 2)
    assert a.ack_on_time_pct == pytest.approx(200 / 3)
    assert (a.answers, a.answers_on_time, a.answer_on_time_pct) == (4, 3, 75.0)
    assert a.breaches == 2 and a.escalations_by_level == {1: 2}
    assert (a.formal_returned, a.returned_by_check, a.returned_by_moderator) == (1, 1, 0)
    assert (a.refutations, a.repeats) == (0, 0)
    assert (a.commitments_made, a.commitments_kept, a.commitments_missed) == (1, 1, 0)
    assert (a.reaction.count, a.reaction.median_hours, a.reaction.p90_hours) == (3, 2.0, 4.5)
    assert (a.answer_time.count, a.answer_time.median_hours, a.answer_time.p90_hours) == (3, 16.0, 26.0)

    assert (b.appeals, b.acknowledged, b.acknowledged_on_time, b.ack_on_time_pct) == (3, 2, 2, 100.0)
    assert (b.answers, b.answers_on_time) == (3, 2)
    assert b.answer_on_time_pct == pytest.approx(200 / 3)
    assert b.breaches == 4 and b.escalations_by_level == {1: 3, 2: 1}
    assert (b.formal_returned, b.returned_by_check, b.returned_by_moderator) == (1, 0, 1)
    assert (b.refutations, b.repeats) == (1, 1)
    assert (b.commitments_made, b.commitments_kept, b.commitments_missed) == (1, 0, 1)
    assert (b.reaction.count, b.reaction.median_hours, b.reaction.p90_hours) == (2, 1.75, 2.0)
    assert (b.answer_time.count, b.answer_time.median_hours, b.answer_time.p90_hours) == (1, 23.0, 23.0)


async def test_per_municipality_and_total_figures(pool: asyncpg.Pool, calendar_config: CalendarConfig) -> None:
    report = await _the_report(pool, calendar_config)
    assert [r.name for r in report.by_municipality] == ["Кунгур", "Пермь"]
    perm, kungur = _row(report.by_municipality, "Пермь"), _row(report.by_municipality, "Кунгур")

    assert (perm.appeals, perm.ack_on_time_pct, perm.answers, perm.answers_on_time) == (4, 100.0, 6, 4)
    assert perm.breaches == 3 and perm.escalations_by_level == {1: 3, 2: 1}
    assert (perm.formal_returned, perm.returned_by_check, perm.returned_by_moderator) == (2, 1, 1)
    assert (perm.refutations, perm.repeats, perm.commitments_made) == (1, 1, 0)
    assert (perm.reaction.median_hours, perm.reaction.p90_hours) == (2.0, 2.0)
    assert (perm.answer_time.median_hours, perm.answer_time.p90_hours) == (16.0, 23.0)

    assert (kungur.appeals, kungur.ack_on_time_pct, kungur.answer_on_time_pct) == (2, 50.0, 100.0)
    assert kungur.breaches == 3 and kungur.escalations_by_level == {1: 2}
    assert (kungur.commitments_made, kungur.commitments_kept, kungur.commitments_missed) == (2, 1, 1)
    assert (kungur.reaction.median_hours, kungur.reaction.p90_hours) == (3.0, 4.5)
    assert (kungur.answer_time.median_hours, kungur.answer_time.p90_hours) == (26.0, 26.0)

    total = report.total  # the early appeal (13 Nov, escalated to level 3) is outside the period
    assert (total.appeals, total.acknowledged, total.acknowledged_on_time, total.ack_on_time_pct) == (6, 5, 4, 80.0)
    assert (total.answers, total.answers_on_time) == (7, 5)
    assert total.answer_on_time_pct == pytest.approx(500 / 7)
    assert total.breaches == 6 and total.escalations_by_level == {1: 5, 2: 1}
    assert (total.formal_returned, total.refutations, total.repeats) == (2, 1, 1)
    assert (total.commitments_made, total.commitments_kept, total.commitments_missed) == (2, 1, 1)
    # reaction 1.5, 1.5, 2, 2, 4.5; answer 8, 16, 23, 26 (nearest-rank p90)
    assert (total.reaction.median_hours, total.reaction.p90_hours) == (2.0, 4.5)
    assert (total.answer_time.median_hours, total.answer_time.p90_hours) == (19.5, 26.0)


async def test_incidents_trend_and_heatmap(pool: asyncpg.Pool, calendar_config: CalendarConfig) -> None:
    report = await _the_report(pool, calendar_config)
    mine = [i for i in report.open_incidents if i.incident_id.startswith(INCIDENT)]
    assert [(i.incident_id, i.linked) for i in mine] == [(INCIDENT, 2)]  # the answered one is left out

    assert [(w.week, w.appeals, w.answers, w.answers_on_time) for w in report.weekly] == [
        ("2026-W47", 5, 7, 5),
        ("2026-W48", 1, 0, 0),
    ]
    assert report.weekly[1].answer_on_time_pct is None

    cells = {(d, h): n for d, hours in enumerate(report.heatmap) for h, n in enumerate(hours) if n}
    # Mon 23 11:00, Tue 17 12:00, Wed 18 09:00, Thu 19 14:00, Fri 20 18:30 and 18:45 (local time)
    assert cells == {(0, 11): 1, (1, 12): 1, (2, 9): 1, (3, 14): 1, (4, 18): 2}
    assert report.levels == [1, 2, 3]


async def test_terminal_table(pool: asyncpg.Pool, calendar_config: CalendarConfig) -> None:
    text = render_table(await _the_report(pool, calendar_config))
    lines = text.splitlines()
    assert lines[0] == "Отчёт по SLA, обращения, поступившие 2026-11-16 00:00 — 2026-11-28 00:00 (Asia/Yekaterinburg)"
    header = next(line for line in lines if line.startswith("Исполнитель"))
    assert re.split(r"\s{2,}", header)[:3] == ["Исполнитель", "Обращений", "Реакция в срок %"]
    row_a = next(line for line in lines if line.startswith(EXEC_A))
    assert len(header) == len(row_a)  # aligned: every row ends under the last column
    assert row_a.split()[1:6] == ["3", "66.7", "75.0", "2", "2"]
    assert "1 (1/0)" in row_a and row_a.endswith("1/1/0")
    assert [line.split()[:2] for line in lines if line.startswith("Итого")] == [["Итого", "6"]] * 2
    assert "По исполнителям" in lines and "По муниципалитетам" in lines and "Открытые инциденты" in lines
    assert INCIDENT in text and "2026-W48" in text
    assert any(line.split()[:3] == ["Пт", "18:00", "2"] for line in lines)
    assert "Executor" not in text and "Total" not in text and "Fri" not in text


@pytest.mark.parametrize("how", ["argument", "setting"])
async def test_terminal_table_in_english(
    pool: asyncpg.Pool, calendar_config: CalendarConfig, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    report = await _the_report(pool, calendar_config)
    if how == "setting":
        monkeypatch.setenv("APPEALS_LANGUAGE", "en")
    text = render_table(report, "en") if how == "argument" else render_table(report)
    lines = text.splitlines()
    assert lines[0] == "SLA report, appeals received 2026-11-16 00:00 — 2026-11-28 00:00 (Asia/Yekaterinburg)"
    header = next(line for line in lines if line.startswith("Executor"))
    row_a = next(line for line in lines if line.startswith(EXEC_A))
    assert len(header) == len(row_a)
    assert row_a.split()[1:6] == ["3", "66.7", "75.0", "2", "2"]
    assert [line.split()[:2] for line in lines if line.startswith("Total")] == [["Total", "6"]] * 2
    assert any(line.split()[:3] == ["Fri", "18:00", "2"] for line in lines)
    assert "Исполнитель" not in text and "Итого" not in text


async def test_csv(pool: asyncpg.Pool, calendar_config: CalendarConfig) -> None:
    report = await _the_report(pool, calendar_config)
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert rows[0] == csv_header(report)
    assert rows[0][:10] == [
        "группа",
        "название",
        "обращений",
        "реакций",
        "реакций в срок",
        "реакция в срок %",
        "ответов",
        "ответов в срок",
        "ответ в срок %",
        "нарушений",
    ]
    assert rows[0][10:13] == ["эскалаций ур. 1", "эскалаций ур. 2", "эскалаций ур. 3"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("исполнитель", EXEC_A),
        ("исполнитель", EXEC_B),
        ("муниципалитет", "Кунгур"),
        ("муниципалитет", "Пермь"),
        ("итого", "Итого"),
    ]
    by_name = {r[1]: dict(zip(csv_columns(report), r, strict=True)) for r in rows[1:]}
    a = by_name[EXEC_A]
    assert (a["appeals"], a["ack_on_time_pct"], a["answer_on_time_pct"], a["breaches"]) == ("3", "66.67", "75.00", "2")
    assert (a["escalated_l1"], a["escalated_l2"], a["escalated_l3"]) == ("2", "0", "0")
    assert (a["reaction_median_h"], a["reaction_p90_h"], a["answer_median_h"], a["answer_p90_h"]) == (
        "2.00",
        "4.50",
        "16.00",
        "26.00",
    )
    b = by_name[EXEC_B]
    assert (b["formal_returned"], b["returned_by_moderator"], b["refutations"], b["repeats"]) == ("1", "1", "1", "1")
    assert (b["commitments_made"], b["commitments_kept"], b["commitments_missed"]) == ("1", "0", "1")
    assert by_name["Итого"]["answer_median_h"] == "19.50"
    assert by_name["Пермь"]["answer_on_time_pct"] == "66.67"


async def test_csv_in_english_has_the_column_ids_for_headers(
    pool: asyncpg.Pool, calendar_config: CalendarConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = await _the_report(pool, calendar_config)
    monkeypatch.setenv("APPEALS_LANGUAGE", "en")
    english_rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert english_rows[0] == csv_header(report) == csv_header(report, "en") == csv_columns(report)
    assert english_rows[0][:3] == ["group", "name", "appeals"] and "escalated_l3" in english_rows[0]
    assert [(r[0], r[1]) for r in english_rows[1:]][-1] == ("total", "Total")
    assert english_rows[1][0] == "executor"
    # The same figures in both languages: only the header and the group and total names differ.
    russian_rows = list(csv.reader(io.StringIO(render_csv(report, "ru"))))
    assert [r[2:] for r in english_rows[1:]] == [r[2:] for r in russian_rows[1:]]


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil.example","Пермь")', "+7 912 000", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tПермь", "\rx"],
)
async def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
    pool: asyncpg.Pool, calendar_config: CalendarConfig, name: str
) -> None:
    report = await _the_report(pool, calendar_config)
    report.by_municipality[0] = dataclasses.replace(report.by_municipality[0], name=name)

    rows = list(csv.reader(io.StringIO(render_csv(report), newline="")))

    municipality = next(r for r in rows if r[0] == "муниципалитет")
    assert municipality[1] == "'" + name.replace("\r", "\n")
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)


def test_csv_cell_leaves_numbers_and_plain_text_alone() -> None:
    assert [csv_cell(v) for v in (3, "66.67", "-1.50", "Пермь", "", "a=b")] == [3, "66.67", "-1.50", "Пермь", "", "a=b"]
    assert csv_cell("-x") == "'-x"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.unbalanced: list[str] = []

    VOID = frozenset({"meta", "br", "img", "hr", "input", "link"})
    SVG_LEAVES = frozenset({"line", "rect", "circle", "polyline", "path"})

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.unbalanced.append(tag)


def _parse(document: str) -> _Html:
    parser = _Html()
    parser.feed(document)
    parser.close()
    return parser


async def test_html_is_self_contained(pool: asyncpg.Pool, calendar_config: CalendarConfig) -> None:
    document = render_html(await _the_report(pool, calendar_config))
    parsed = _parse(document)
    assert parsed.unbalanced == [] and parsed.stack == []
    svgs = [attrs.get("id") for tag, attrs in parsed.tags if tag == "svg"]
    assert svgs == ["chart-compliance", "chart-trend", "chart-heatmap"]
    assert "<script" not in document.lower() and " on" not in " ".join(
        f" {k}" for _, attrs in parsed.tags for k in attrs
    )  # no scripts, no inline event handlers
    assert "http://" not in document.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in document and "<link" not in document
    heat = [attrs for tag, attrs in parsed.tags if tag == "rect" and attrs.get("class") == "heat"]
    assert len(heat) == 7 * 24
    assert sum(1 for attrs in heat if attrs["fill"] != "#f1f5f9") == 5  # five busy cells
    assert sum(1 for tag, _ in parsed.tags if tag == "polyline") == 1
    assert EXEC_A in document and EXEC_B in document and INCIDENT in document
    assert '<html lang="ru">' in document and "<title>Отчёт по SLA</title>" in document
    assert "Соблюдение сроков по исполнителям" in document and ">Пт</text>" in document
    assert "Compliance by executor" not in document and "SLA report" not in document


def _structure(document: str) -> list[tuple[str, dict[str, str | None]]]:
    """The page without its words: every tag and its attributes but the aria-label and the language."""
    words = ("aria-label", "lang")
    return [(tag, {k: v for k, v in attrs.items() if k not in words}) for tag, attrs in _parse(document).tags]


async def test_html_in_english_is_the_same_page_in_other_words(
    pool: asyncpg.Pool, calendar_config: CalendarConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = await _the_report(pool, calendar_config)
    monkeypatch.setenv("APPEALS_LANGUAGE", "en")
    english = render_html(report)
    assert english == render_html(report, "en")
    assert '<html lang="en">' in english and "<title>SLA report</title>" in english
    assert "Compliance by executor" in english and ">Fri</text>" in english and "Fri 18:00 — 2 breaches" in english
    assert "Отчёт" not in english and "Итого" not in english
    assert _structure(english) == _structure(render_html(report, "ru"))


# --- the texts ---------------------------------------------------------------------------------


def _fields(text: object) -> set[str]:
    values = text if isinstance(text, tuple) else (text,)
    return {name for value in values for _, name, _, _ in string.Formatter().parse(str(value)) if name}


def _config() -> CalendarConfig:
    return CalendarConfig.model_validate(tomllib.loads((ROOT / "config" / "calendar.toml").read_text()))


def _empty_report() -> Report:
    return reports.compute_report([], [], [], START, END, _config())


def test_every_language_says_everything_with_the_same_placeholders() -> None:
    assert texts() is russian.TEXTS and texts("en") is english.TEXTS and LANGUAGES == ("ru", "en")
    ru: dict[str, Any] = dict(russian.TEXTS)
    en: dict[str, Any] = dict(english.TEXTS)
    assert ru.keys() == en.keys()
    for key, value in ru.items():
        if isinstance(value, dict):
            assert value.keys() == en[key].keys(), key
        else:
            assert _fields(value) == _fields(en[key]), key
    now = datetime(2026, 11, 30, 10, tzinfo=PERM)
    assert ru["filters"].keys() == filters(now, WorkingCalendar(_config())).keys()
    assert ru["csv_columns"].keys() == {c for c in csv_columns(_empty_report()) if not c.startswith("escalated_l")}
    with pytest.raises(ValueError, match="unknown language 'de'; choose one of ru, en"):
        texts("de")


def test_an_empty_period_in_both_languages() -> None:
    report = _empty_report()
    assert "нет" in render_table(report).splitlines() and "none" in render_table(report, "en").splitlines()
    assert "за период обращений нет" in render_html(report) and "no appeals in the period" in render_html(report, "en")
    assert "ответов пока нет" in render_html(report) and "no answers yet" in render_html(report, "en")


# --- the real browser ------------------------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"Chromium is not installed; the HTML report check needs it. Install it with: {CHROMIUM_INSTALL}")


def _render(html_path: Path, png: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            "--enable-logging=stderr",
            "--v=0",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _console_messages(stderr: str) -> list[str]:
    """Every console message Chromium logged: `...:INFO:CONSOLE:1] "Uncaught Error: ...", source: ...`."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _png_pixels(path: Path) -> tuple[int, int, set[tuple[int, ...]]]:
    """Decode an 8-bit RGB/RGBA PNG with the stdlib: width, height and the distinct colours."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, "unexpected PNG format"
    bpp = 4 if colour_type == 6 else 3
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    previous = bytearray(stride)
    colours: set[tuple[int, ...]] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        colours.update(tuple(line[i : i + 3]) for i in range(0, stride, bpp))
        previous = line
    return width, height, colours


def test_console_check_catches_errors(tmp_path: Path) -> None:
    """The negative control: a page with a broken script does log, so silence below means something."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>throw new Error('boom')</script></body></html>", encoding="utf-8")
    result = _render(page, tmp_path / "broken.png", tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    assert any("Uncaught Error: boom" in line for line in _console_messages(result.stderr))


async def test_html_renders_in_headless_chromium(
    pool: asyncpg.Pool, calendar_config: CalendarConfig, tmp_path: Path
) -> None:
    report = await _the_report(pool, calendar_config)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page, png = SCREENSHOT_DIR / "report.html", SCREENSHOT_DIR / "report.png"
    page.write_text(render_html(report), encoding="utf-8")
    png.unlink(missing_ok=True)

    result = _render(page, png, tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _console_messages(result.stderr) == []
    assert png.exists() and png.stat().st_size > 20_000, "the screenshot is missing or nearly empty"

    width, height, colours = _png_pixels(png)
    assert (width, height) == (1280, 2000)
    assert len(colours) > 50, "the screenshot is (nearly) a single flat colour"
    # The charts were painted: the bar colours and the trend line are on screen.
    for name, rgb in (
        ("ack bars", (0x25, 0x63, 0xEB)),
        ("answer bars", (0x16, 0xA3, 0x4A)),
        ("trend", (0x93, 0x33, 0xEA)),
        ("heat max", (185, 28, 28)),
        ("heat min", (254, 215, 170)),
    ):
        assert rgb in colours, f"{name} colour {rgb} not found in the screenshot"
