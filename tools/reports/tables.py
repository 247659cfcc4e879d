"""The report as a terminal table and as CSV, in the reader's language (stack/texts/)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from stack.text_table import text_table
from stack.texts import Texts, texts
from tools.reports.cells import compliance_sections, incident_rows, period, weekly_headers, weekly_rows
from tools.reports.model import GroupRow, Report


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return text_table(headers, rows, numbers_right=True)


def render_table(report: Report, language: str | None = None) -> str:
    """Plain aligned text for a terminal; `language` "ru" or "en", None: APPEALS_LANGUAGE."""
    t = texts(language)
    out = [t["report_table_title"].format(period=period(report)), ""]
    for title, headers, rows in compliance_sections(t, report):
        out += [title, _table(headers, rows), ""]
    out.append(t["open_incidents"])
    if report.open_incidents:
        headers = [t["col_incident"], t["col_title"], t["municipality"], t["col_opened"], t["col_linked"]]
        out.append(_table(headers, incident_rows(report)))
    else:
        out.append(t["none"])
    out += ["", t["weekly_trend"]]
    out.append(_table(weekly_headers(t), weekly_rows(report)))
    out += ["", t["heatmap_table_title"].format(zone=report.zone)]
    days = t["weekdays"]
    cells = [[days[d], f"{h:02d}:00", str(n)] for d in range(7) for h, n in enumerate(report.heatmap[d]) if n]
    out.append(_table([t["col_weekday"], t["col_hour"], t["col_breaches"]], cells) if cells else t["none"])
    return "\n".join(out) + "\n"


# --- CSV ---------------------------------------------------------------------------------------

_BEFORE_LEVELS = (
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
)
_AFTER_LEVELS = (
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
)


def csv_columns(report: Report) -> list[str]:
    """The columns' ids, the same in every language (the English headers are these ids)."""
    return [*_BEFORE_LEVELS, *(f"escalated_l{level}" for level in report.levels), *_AFTER_LEVELS]


def csv_header(report: Report, language: str | None = None) -> list[str]:
    return _csv_header(texts(language), report)


def _csv_header(t: Texts, report: Report) -> list[str]:
    names = t["csv_columns"]
    return [
        *(names[c] for c in _BEFORE_LEVELS),
        *(t["csv_escalated"].format(level=level) for level in report.levels),
        *(names[c] for c in _AFTER_LEVELS),
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


def render_csv(report: Report, language: str | None = None) -> str:
    """The per-executor and per-municipality rows (and the total), with a header in the reader's language."""
    t = texts(language)
    groups = t["csv_groups"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_csv_header(t, report))
    lines: list[tuple[str, str, GroupRow]] = [(groups["executor"], r.name, r) for r in report.by_executor]
    lines += [(groups["municipality"], r.name, r) for r in report.by_municipality]
    lines.append((groups["total"], t["total"], report.total))
    for group, name, row in lines:
        cells = [
            group,
            name,
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
