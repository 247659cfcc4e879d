"""SLA reports from PostgreSQL: compliance, reaction times, quality, commitments, incidents.

`build_report` reads the appeals received in a period and their audit events; everything
else is pure: `compute_report` turns rows into a `Report`, and the renderers turn a
`Report` into a terminal table, CSV or one self-contained HTML file (inline SVG, no
JavaScript, no external resources).

Definitions (all for the appeals received in [start, end)):
- on-time acknowledgment % = appeals whose first `acknowledged` event has on_time true /
  appeals with an `acknowledged` event;
- on-time answer % = `answered` events with on_time true / `answered` events (every answer
  counts, so a reworked or refuted appeal's later answers count too);
- breaches = `sla_breached` events; breaches per level = `escalated` events by data.level;
- time to first reaction = received_at → acknowledged_at, time to answer = received_at →
  answered_at, both in working hours of the appeal municipality's calendar; the median is
  the usual one, p90 is the nearest-rank percentile (the ceil(0.9·n)-th smallest value);
- formal answers returned = `answer_returned` events, split by data.by ('automatic check'
  or a moderator), attributed to data.executor when given;
- refutations = `reopened` events, repeats = appeals with cycle > 1;
- commitments made = `white_spot_declared` events, kept = `answered` events with
  commitment_kept true, missed = `sla_breached` events with clock 'commitment';
- the weekly trend groups appeals by the ISO week of received_at in the region's zone; the
  heatmap counts `sla_breached` events by weekday × hour of occurred_at in the region's zone;
- open incidents: every incident whose status is 'open' now, with its linked appeal count.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from appeals.working_calendar import CalendarConfig, WorkingCalendar
from stack.text_table import text_table

REGION_ZONE = "Asia/Yekaterinburg"
AUTOMATIC_CHECK = "automatic check"
NONE_LABEL = "—"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EVENT_KINDS = (
    "acknowledged",
    "answered",
    "sla_breached",
    "escalated",
    "answer_returned",
    "reopened",
    "white_spot_declared",
)
MIN_LEVEL_COLUMNS = 3  # the CSV and the table always show escalation levels 1..3

# --- rows read from the database -------------------------------------------------------------


@dataclass(frozen=True)
class AppealRow:
    workflow_id: str
    executor: str | None
    municipality: str | None
    received_at: datetime
    acknowledged_at: datetime | None
    answered_at: datetime | None
    cycle: int


@dataclass(frozen=True)
class EventRow:
    workflow_id: str
    seq: int
    kind: str
    occurred_at: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class IncidentRow:
    incident_id: str
    title: str
    municipality: str | None
    opened_at: datetime
    linked: int


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """Working hours from received_at to a milestone, over the appeals that reached it."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass
class GroupRow:
    """One line of the compliance table: an executor, a municipality or the total."""

    name: str
    appeals: int = 0
    acknowledged: int = 0
    acknowledged_on_time: int = 0
    answers: int = 0
    answers_on_time: int = 0
    breaches: int = 0
    escalations_by_level: dict[int, int] = field(default_factory=dict)
    formal_returned: int = 0
    returned_by_check: int = 0
    returned_by_moderator: int = 0
    refutations: int = 0
    repeats: int = 0
    commitments_made: int = 0
    commitments_kept: int = 0
    commitments_missed: int = 0
    reaction: Durations = Durations(0, None, None)
    answer_time: Durations = Durations(0, None, None)

    @property
    def ack_on_time_pct(self) -> float | None:
        return _pct(self.acknowledged_on_time, self.acknowledged)

    @property
    def answer_on_time_pct(self) -> float | None:
        return _pct(self.answers_on_time, self.answers)


@dataclass(frozen=True)
class WeekPoint:
    week: str  # ISO week, e.g. "2026-W47"
    appeals: int
    answers: int
    answers_on_time: int

    @property
    def answer_on_time_pct(self) -> float | None:
        return _pct(self.answers_on_time, self.answers)


@dataclass
class Report:
    start: datetime
    end: datetime
    zone: str
    total: GroupRow
    by_executor: list[GroupRow]
    by_municipality: list[GroupRow]
    open_incidents: list[IncidentRow]
    weekly: list[WeekPoint]
    heatmap: list[list[int]]  # [weekday 0=Mon][hour 0..23] → sla_breached events

    @property
    def levels(self) -> list[int]:
        """Escalation levels to show: 1..max(3, the highest level seen)."""
        seen = [lvl for row in [self.total, *self.by_executor] for lvl in row.escalations_by_level]
        return list(range(1, max([MIN_LEVEL_COLUMNS, *seen]) + 1))


# --- pure computation ------------------------------------------------------------------------


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def percentile_nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the ceil(q·n)-th smallest value (q in (0, 1])."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def durations(hours: Sequence[float]) -> Durations:
    if not hours:
        return Durations(0, None, None)
    return Durations(len(hours), float(statistics.median(hours)), percentile_nearest_rank(hours, 0.9))


class _Calendars:
    """One WorkingCalendar per zone, chosen by the appeal's municipality."""

    def __init__(self, config: CalendarConfig) -> None:
        self.config = config
        self._by_zone: dict[str, WorkingCalendar] = {}

    def working_hours(self, municipality: str | None, a: datetime, b: datetime) -> float:
        zone = self.config.zone_for(municipality)
        calendar = self._by_zone.get(zone)
        if calendar is None:
            calendar = self._by_zone[zone] = WorkingCalendar(self.config, zone)
        return calendar.working_time_between(a, b) / timedelta(hours=1)


def _fill(
    row: GroupRow,
    appeals: Iterable[AppealRow],
    events: Mapping[str, list[EventRow]],
    returns: Iterable[EventRow],
    calendars: _Calendars,
) -> GroupRow:
    reaction: list[float] = []
    answer: list[float] = []
    for appeal in appeals:
        row.appeals += 1
        if appeal.cycle > 1:
            row.repeats += 1
        if appeal.acknowledged_at is not None:
            reaction.append(calendars.working_hours(appeal.municipality, appeal.received_at, appeal.acknowledged_at))
        if appeal.answered_at is not None:
            answer.append(calendars.working_hours(appeal.municipality, appeal.received_at, appeal.answered_at))
        first_ack = True
        for event in events.get(appeal.workflow_id, []):
            data = event.data
            if event.kind == "acknowledged" and first_ack:
                first_ack = False
                row.acknowledged += 1
                row.acknowledged_on_time += data.get("on_time") is True
            elif event.kind == "answered":
                row.answers += 1
                row.answers_on_time += data.get("on_time") is True
                row.commitments_kept += data.get("commitment_kept") is True
            elif event.kind == "sla_breached":
                row.breaches += 1
                row.commitments_missed += data.get("clock") == "commitment"
            elif event.kind == "escalated":
                level = int(data.get("level", 0))
                row.escalations_by_level[level] = row.escalations_by_level.get(level, 0) + 1
            elif event.kind == "reopened":
                row.refutations += 1
            elif event.kind == "white_spot_declared":
                row.commitments_made += 1
    for event in returns:
        row.formal_returned += 1
        if event.data.get("by") == AUTOMATIC_CHECK:
            row.returned_by_check += 1
        else:
            row.returned_by_moderator += 1
    row.escalations_by_level = dict(sorted(row.escalations_by_level.items()))
    row.reaction = durations(reaction)
    row.answer_time = durations(answer)
    return row


def compute_report(
    appeals: Sequence[AppealRow],
    events: Sequence[EventRow],
    incidents: Sequence[IncidentRow],
    start: datetime,
    end: datetime,
    calendar_config: CalendarConfig,
    *,
    zone: str = REGION_ZONE,
) -> Report:
    """The report from plain rows: no I/O."""
    tz = ZoneInfo(zone)
    calendars = _Calendars(calendar_config)
    by_id = {a.workflow_id: a for a in appeals}
    events_by_appeal: dict[str, list[EventRow]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e.workflow_id, e.seq)):
        if event.workflow_id in by_id:
            events_by_appeal[event.workflow_id].append(event)
    returns = [e for evs in events_by_appeal.values() for e in evs if e.kind == "answer_returned"]

    def executor_of(appeal: AppealRow) -> str:
        return appeal.executor or NONE_LABEL

    def return_executor(event: EventRow) -> str:
        named = event.data.get("executor")
        return str(named) if named else executor_of(by_id[event.workflow_id])

    def grouped(key: Any, return_key: Any) -> list[GroupRow]:
        appeal_groups: dict[str, list[AppealRow]] = defaultdict(list)
        return_groups: dict[str, list[EventRow]] = defaultdict(list)
        for appeal in appeals:
            appeal_groups[key(appeal)].append(appeal)
        for event in returns:
            return_groups[return_key(event)].append(event)
        names = sorted(set(appeal_groups) | set(return_groups))
        return [
            _fill(GroupRow(name), appeal_groups.get(name, []), events_by_appeal, return_groups.get(name, []), calendars)
            for name in names
        ]

    def municipality_of(appeal: AppealRow) -> str:
        return appeal.municipality or NONE_LABEL

    by_executor = grouped(executor_of, return_executor)
    by_municipality = grouped(municipality_of, lambda e: municipality_of(by_id[e.workflow_id]))
    total = _fill(GroupRow("Total"), appeals, events_by_appeal, returns, calendars)

    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for appeal in appeals:
        iso = appeal.received_at.astimezone(tz).isocalendar()
        point = weeks[f"{iso.year}-W{iso.week:02d}"]
        point[0] += 1
        for event in events_by_appeal.get(appeal.workflow_id, []):
            if event.kind == "answered":
                point[1] += 1
                point[2] += event.data.get("on_time") is True
    weekly = [WeekPoint(week, *counts) for week, counts in sorted(weeks.items())]

    heatmap = [[0] * 24 for _ in range(7)]
    for evs in events_by_appeal.values():
        for event in evs:
            if event.kind == "sla_breached":
                local = event.occurred_at.astimezone(tz)
                heatmap[local.weekday()][local.hour] += 1

    return Report(
        start=start,
        end=end,
        zone=zone,
        total=total,
        by_executor=by_executor,
        by_municipality=by_municipality,
        open_incidents=list(incidents),
        weekly=weekly,
        heatmap=heatmap,
    )


# --- reading PostgreSQL ----------------------------------------------------------------------

_APPEALS_SQL = """
SELECT workflow_id, executor, municipality, received_at, acknowledged_at, answered_at, cycle
FROM appeals
WHERE received_at >= $1 AND received_at < $2 AND ($3::text[] IS NULL OR executor = ANY($3::text[]))
ORDER BY received_at, workflow_id
"""

_EVENTS_SQL = """
SELECT e.workflow_id, e.seq, e.kind, e.occurred_at, e.data
FROM appeal_events e
JOIN appeals a USING (workflow_id)
WHERE a.received_at >= $1 AND a.received_at < $2 AND ($3::text[] IS NULL OR a.executor = ANY($3::text[]))
  AND e.kind = ANY($4::text[])
ORDER BY e.workflow_id, e.seq
"""

_INCIDENTS_SQL = """
SELECT incident_id, title, municipality, opened_at, linked
FROM incidents
WHERE status = 'open'
ORDER BY opened_at, incident_id
"""


def _json(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):  # a pool without the jsonb codec
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return value if isinstance(value, Mapping) else {}


async def build_report(
    pool: asyncpg.Pool,
    start: datetime,
    end: datetime,
    calendar_config: CalendarConfig,
    *,
    executors: Sequence[str] | None = None,
    zone: str = REGION_ZONE,
) -> Report:
    """The SLA report for the appeals received in [start, end) (aware datetimes).

    `executors` narrows the report to those executors' appeals (None: all appeals).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise ValueError(f"empty period: {start.isoformat()} .. {end.isoformat()}")
    wanted = list(executors) if executors is not None else None
    async with pool.acquire() as conn:
        appeal_rows = await conn.fetch(_APPEALS_SQL, start, end, wanted)
        event_rows = await conn.fetch(_EVENTS_SQL, start, end, wanted, list(EVENT_KINDS))
        incident_rows = await conn.fetch(_INCIDENTS_SQL)
    appeals = [
        AppealRow(
            workflow_id=r["workflow_id"],
            executor=r["executor"],
            municipality=r["municipality"],
            received_at=r["received_at"],
            acknowledged_at=r["acknowledged_at"],
            answered_at=r["answered_at"],
            cycle=r["cycle"],
        )
        for r in appeal_rows
    ]
    events = [EventRow(r["workflow_id"], r["seq"], r["kind"], r["occurred_at"], _json(r["data"])) for r in event_rows]
    incidents = [
        IncidentRow(r["incident_id"], r["title"], r["municipality"], r["opened_at"], r["linked"]) for r in incident_rows
    ]
    return compute_report(appeals, events, incidents, start, end, calendar_config, zone=zone)


# --- rendering -------------------------------------------------------------------------------


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def fmt_hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _row_cells(row: GroupRow, levels: Sequence[int]) -> list[str]:
    return [
        row.name,
        str(row.appeals),
        fmt_pct(row.ack_on_time_pct),
        fmt_pct(row.answer_on_time_pct),
        str(row.breaches),
        *(str(row.escalations_by_level.get(level, 0)) for level in levels),
        fmt_hours(row.reaction.median_hours),
        fmt_hours(row.reaction.p90_hours),
        fmt_hours(row.answer_time.median_hours),
        fmt_hours(row.answer_time.p90_hours),
        f"{row.formal_returned} ({row.returned_by_check}/{row.returned_by_moderator})",
        str(row.refutations),
        str(row.repeats),
        f"{row.commitments_made}/{row.commitments_kept}/{row.commitments_missed}",
    ]


def _row_headers(first: str, levels: Sequence[int]) -> list[str]:
    return [
        first,
        "Appeals",
        "Ack on time %",
        "Answer on time %",
        "Breaches",
        *(f"Esc L{level}" for level in levels),
        "Reaction med h",
        "Reaction p90 h",
        "Answer med h",
        "Answer p90 h",
        "Formal returned (auto/mod)",
        "Refutations",
        "Repeats",
        "Commitments made/kept/missed",
    ]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return text_table(headers, rows, numbers_right=True)


def _incident_rows(report: Report) -> list[list[str]]:
    tz = ZoneInfo(report.zone)
    return [
        [
            i.incident_id,
            i.title,
            i.municipality or NONE_LABEL,
            f"{i.opened_at.astimezone(tz):%Y-%m-%d %H:%M}",
            str(i.linked),
        ]
        for i in report.open_incidents
    ]


def _weekly_rows(report: Report) -> list[list[str]]:
    return [[w.week, str(w.appeals), str(w.answers), fmt_pct(w.answer_on_time_pct)] for w in report.weekly]


def _period(report: Report) -> str:
    tz = ZoneInfo(report.zone)
    return f"{report.start.astimezone(tz):%Y-%m-%d %H:%M} — {report.end.astimezone(tz):%Y-%m-%d %H:%M} ({report.zone})"


def render_table(report: Report) -> str:
    """Plain aligned text for a terminal."""
    levels = report.levels
    out = [f"SLA report, appeals received {_period(report)}", ""]
    for title, first, rows in (
        ("By executor", "Executor", report.by_executor),
        ("By municipality", "Municipality", report.by_municipality),
    ):
        out += [title, _table(_row_headers(first, levels), [_row_cells(r, levels) for r in [*rows, report.total]])]
        out.append("")
    out.append("Open incidents")
    if report.open_incidents:
        out.append(_table(["Incident", "Title", "Municipality", "Opened", "Linked"], _incident_rows(report)))
    else:
        out.append("none")
    out += ["", "Weekly trend"]
    out.append(_table(["Week", "Appeals", "Answers", "Answer on time %"], _weekly_rows(report)))
    out += ["", f"Breaches by weekday × hour ({report.zone}); only hours with breaches"]
    cells = [[WEEKDAYS[d], f"{h:02d}:00", str(n)] for d in range(7) for h, n in enumerate(report.heatmap[d]) if n]
    out.append(_table(["Weekday", "Hour", "Breaches"], cells) if cells else "none")
    return "\n".join(out) + "\n"


def csv_header(report: Report) -> list[str]:
    return [
        "group",
        "name",
        "appeals",
        "acknowledged",
        "acknowledged_on_time",
        "ack_on_time_pct",
        "answers",
        "answers_on_time",
        "answer_on_time_pct",
        "breaches",
        *(f"escalated_l{level}" for level in report.levels),
        "reaction_median_h",
        "reaction_p90_h",
        "answer_median_h",
        "answer_p90_h",
        "formal_returned",
        "returned_by_check",
        "returned_by_moderator",
        "refutations",
        "repeats",
        "commitments_made",
        "commitments_kept",
        "commitments_missed",
    ]


def _csv_num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet will not run: text starting with = + - @, a tab or CR gets a leading quote.

    Numbers stay numbers (a negative one is not a formula); only text can come from outside.
    A CR becomes a line feed, which the writer quotes (a bare CR it would not).
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def render_csv(report: Report) -> str:
    """The per-executor and per-municipality rows (and the total), with a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(report))
    groups = [("executor", r) for r in report.by_executor]
    groups += [("municipality", r) for r in report.by_municipality]
    groups.append(("total", report.total))
    for group, row in groups:
        cells = [
            group,
            row.name,
            row.appeals,
            row.acknowledged,
            row.acknowledged_on_time,
            _csv_num(row.ack_on_time_pct),
            row.answers,
            row.answers_on_time,
            _csv_num(row.answer_on_time_pct),
            row.breaches,
            *(row.escalations_by_level.get(level, 0) for level in report.levels),
            _csv_num(row.reaction.median_hours),
            _csv_num(row.reaction.p90_hours),
            _csv_num(row.answer_time.median_hours),
            _csv_num(row.answer_time.p90_hours),
            row.formal_returned,
            row.returned_by_check,
            row.returned_by_moderator,
            row.refutations,
            row.repeats,
            row.commitments_made,
            row.commitments_kept,
            row.commitments_missed,
        ]
        writer.writerow([csv_cell(cell) for cell in cells])
    return buffer.getvalue()


# --- HTML with inline SVG --------------------------------------------------------------------

ACK_COLOUR = "#2563eb"
ANSWER_COLOUR = "#16a34a"
TREND_COLOUR = "#9333ea"
HEAT_EMPTY = "#f1f5f9"
HEAT_LOW = (254, 215, 170)  # one breach
HEAT_HIGH = (185, 28, 28)  # the busiest cell

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:24px;color:#0f172a;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
p.meta{color:#475569;margin:0 0 16px}
div.wide{overflow-x:auto}table{border-collapse:collapse;font-size:12px;margin:4px 0 12px}
th,td{border:1px solid #cbd5e1;padding:4px 8px;text-align:right}
th{background:#f1f5f9}td:first-child,th:first-child{text-align:left}
tr.total td{font-weight:600;background:#f8fafc}
svg{display:block;margin:6px 0 12px;font-family:inherit}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _short(name: str, limit: int = 48) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _svg_compliance(report: Report) -> str:
    rows = report.by_executor
    names = [_short(row.name) for row in rows]
    label_w = min(380, max(120, 7 * max([len(n) for n in names] or [0]) + 16))
    bar_w, bar_h, gap = 480, 14, 12
    height = 40 + max(1, len(rows)) * (2 * bar_h + gap)
    width = label_w + bar_w + 70
    parts = [
        f'<svg id="chart-compliance" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="SLA compliance by executor">'
    ]
    for pct in (0, 25, 50, 75, 100):
        x = label_w + bar_w * pct / 100
        parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 6}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{x:.1f}" y="14" font-size="11" text-anchor="middle" fill="#64748b">{pct}%</text>')
    if not rows:
        parts.append(f'<text x="{label_w}" y="40" font-size="13" fill="#64748b">no appeals in the period</text>')
    y = 26
    for row, name in zip(rows, names, strict=True):
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h + 4}" font-size="12" text-anchor="end">{_e(name)}'
            f"<title>{_e(row.name)}</title></text>"
        )
        for value, colour, what in (
            (row.ack_on_time_pct, ACK_COLOUR, "acknowledged on time"),
            (row.answer_on_time_pct, ANSWER_COLOUR, "answered on time"),
        ):
            w = bar_w * (value or 0.0) / 100
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                f"<title>{_e(row.name)}: {fmt_pct(value)}% {what}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}" font-size="11" fill="#334155">'
                f"{fmt_pct(value)}%</text>"
            )
            y += bar_h
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def _svg_trend(report: Report) -> str:
    weeks = report.weekly
    left, top, plot_w, plot_h = 50, 20, 640, 200
    width, height = left + plot_w + 30, top + plot_h + 50
    parts = [
        f'<svg id="chart-trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Weekly trend of on-time answers">'
    ]
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#64748b">{pct}%</text>'
        )
    pad = 40  # keep the first and last points off the axes
    step = (plot_w - 2 * pad) / (len(weeks) - 1) if len(weeks) > 1 else 0.0
    max_appeals = max([w.appeals for w in weeks] or [1])
    points: list[tuple[float, float, WeekPoint]] = []
    for i, week in enumerate(weeks):
        x = left + (pad + i * step if len(weeks) > 1 else plot_w / 2)
        bar = plot_h * 0.35 * week.appeals / max_appeals
        parts.append(
            f'<rect x="{x - 9:.1f}" y="{top + plot_h - bar:.1f}" width="18" height="{bar:.1f}" fill="#cbd5e1">'
            f"<title>{_e(week.week)}: {week.appeals} appeals</title></rect>"
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">{_e(week.week)}</text>'
        )
        if week.answer_on_time_pct is not None:
            points.append((x, top + plot_h * (1 - week.answer_on_time_pct / 100), week))
    if points:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{TREND_COLOUR}" stroke-width="3"/>')
        for x, y, week in points:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{TREND_COLOUR}">'
                f"<title>{_e(week.week)}: {fmt_pct(week.answer_on_time_pct)}% answered on time</title></circle>"
            )
            parts.append(
                f'<text x="{x + 8:.1f}" y="{y - 8:.1f}" font-size="11" fill="{TREND_COLOUR}">'
                f"{fmt_pct(week.answer_on_time_pct)}%</text>"
            )
    else:
        parts.append(f'<text x="{left + 10}" y="{top + 30}" font-size="13" fill="#64748b">no answers yet</text>')
    parts.append(
        f'<text x="{left}" y="{height - 8}" font-size="11" fill="#64748b">line: on-time answer %; '
        "grey bars: appeals received</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def heat_colour(count: int, busiest: int) -> str:
    if count <= 0 or busiest <= 0:
        return HEAT_EMPTY
    t = 0.0 if busiest == 1 else (count - 1) / (busiest - 1)
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(HEAT_LOW, HEAT_HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _svg_heatmap(report: Report) -> str:
    left, top, cell = 44, 22, 26
    width, height = left + 24 * cell + 10, top + 7 * cell + 10
    busiest = max(max(day) for day in report.heatmap)
    parts = [
        f'<svg id="chart-heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="SLA breaches by weekday and hour">'
    ]
    for hour in range(24):
        parts.append(
            f'<text x="{left + hour * cell + cell / 2:.1f}" y="{top - 6}" font-size="10" text-anchor="middle" '
            f'fill="#64748b">{hour:02d}</text>'
        )
    for day in range(7):
        y = top + day * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" font-size="11" text-anchor="end">{WEEKDAYS[day]}</text>'
        )
        for hour in range(24):
            count = report.heatmap[day][hour]
            parts.append(
                f'<rect class="heat" x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{heat_colour(count, busiest)}"><title>{WEEKDAYS[day]} {hour:02d}:00 — {count} '
                f"breach{'es' if count != 1 else ''}</title></rect>"
            )
            if count:
                parts.append(
                    f'<text x="{left + hour * cell + (cell - 2) / 2:.1f}" y="{y + cell / 2 + 3:.1f}" font-size="11" '
                    f'text-anchor="middle" fill="{"#fff" if 2 * count > busiest else "#7c2d12"}">{count}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], total_last: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="total"' if total_last and i == len(rows) - 1 else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def render_html(report: Report) -> str:
    """One self-contained HTML file: inline CSS and SVG, no scripts, no external resources."""
    levels = report.levels
    sections = [
        "<h2>Compliance by executor</h2>",
        f'<p class="legend"><span style="background:{ACK_COLOUR}"></span>acknowledged on time'
        f'<span style="background:{ANSWER_COLOUR}"></span>answered on time</p>',
        _svg_compliance(report),
        "<h2>Weekly trend</h2>",
        _svg_trend(report),
        f"<h2>Breaches by weekday and hour ({_e(report.zone)})</h2>",
        _svg_heatmap(report),
    ]
    for title, first, rows in (
        ("By executor", "Executor", report.by_executor),
        ("By municipality", "Municipality", report.by_municipality),
    ):
        sections.append(f"<h2>{title}</h2>")
        sections.append(
            _html_table(
                _row_headers(first, levels), [_row_cells(r, levels) for r in [*rows, report.total]], total_last=True
            )
        )
    sections.append("<h2>Open incidents</h2>")
    if report.open_incidents:
        sections.append(
            _html_table(["Incident", "Title", "Municipality", "Opened", "Linked appeals"], _incident_rows(report))
        )
    else:
        sections.append("<p>none</p>")
    sections.append("<h2>Weekly figures</h2>")
    sections.append(_html_table(["Week", "Appeals", "Answers", "Answer on time %"], _weekly_rows(report)))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        "<title>SLA report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>SLA report</h1>"
        f'<p class="meta">Appeals received {_e(_period(report))}. Appeals: {report.total.appeals}; '
        f"on-time acknowledgment {fmt_pct(report.total.ack_on_time_pct)}%; "
        f"on-time answer {fmt_pct(report.total.answer_on_time_pct)}%; breaches {report.total.breaches}.</p>"
        + "".join(sections)
        + "</body></html>\n"
    )
