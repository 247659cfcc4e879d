"""The cells and headers the terminal table and the HTML page share, in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from stack.texts import Texts
from tools.reports.model import NONE_LABEL, GroupRow, Report


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def fmt_hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def row_cells(row: GroupRow, levels: Sequence[int], name: str | None = None) -> list[str]:
    """One compliance line; `name` replaces the row's own (the total row's, in the reader's language)."""
    return [
        row.name if name is None else name,
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


def row_headers(t: Texts, first: str, levels: Sequence[int]) -> list[str]:
    return [
        first,
        t["col_appeals"],
        t["col_ack_on_time"],
        t["col_answer_on_time"],
        t["col_breaches"],
        *(t["col_escalated"].format(level=level) for level in levels),
        t["col_reaction_median"],
        t["col_reaction_p90"],
        t["col_answer_median"],
        t["col_answer_p90"],
        t["col_formal_returned"],
        t["col_refutations"],
        t["col_repeats"],
        t["col_commitments"],
    ]


def compliance_sections(t: Texts, report: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) per executor and per municipality, each ending with the total."""
    levels = report.levels
    total = row_cells(report.total, levels, t["total"])
    return [
        (title, row_headers(t, first, levels), [*(row_cells(r, levels) for r in rows), total])
        for title, first, rows in (
            (t["by_executor"], t["executor"], report.by_executor),
            (t["by_municipality"], t["municipality"], report.by_municipality),
        )
    ]


def incident_rows(report: Report) -> list[list[str]]:
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


def weekly_headers(t: Texts) -> list[str]:
    return [t["col_week"], t["col_appeals"], t["col_answers"], t["col_answer_on_time"]]


def weekly_rows(report: Report) -> list[list[str]]:
    return [[w.week, str(w.appeals), str(w.answers), fmt_pct(w.answer_on_time_pct)] for w in report.weekly]


def period(report: Report) -> str:
    tz = ZoneInfo(report.zone)
    return f"{report.start.astimezone(tz):%Y-%m-%d %H:%M} — {report.end.astimezone(tz):%Y-%m-%d %H:%M} ({report.zone})"
