"""The HTML report's charts as inline SVG: compliance bars per executor, the weekly trend of
on-time answers, and the breach heatmap by weekday × hour. No scripts, no external resources."""

from __future__ import annotations

import html

from stack.texts import Texts
from tools.reports.cells import fmt_pct
from tools.reports.model import Report, WeekPoint

ACK_COLOUR = "#2563eb"
ANSWER_COLOUR = "#16a34a"
TREND_COLOUR = "#9333ea"
HEAT_EMPTY = "#f1f5f9"
HEAT_LOW = (254, 215, 170)  # one breach
HEAT_HIGH = (185, 28, 28)  # the busiest cell


def e(value: object) -> str:
    """Escaped for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _short(name: str, limit: int = 48) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def svg_compliance(t: Texts, report: Report) -> str:
    rows = report.by_executor
    names = [_short(row.name) for row in rows]
    label_w = min(380, max(120, 7 * max([len(n) for n in names] or [0]) + 16))
    bar_w, bar_h, gap = 480, 14, 12
    height = 40 + max(1, len(rows)) * (2 * bar_h + gap)
    width = label_w + bar_w + 70
    parts = [
        f'<svg id="chart-compliance" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(t["svg_compliance_label"])}">'
    ]
    for pct in (0, 25, 50, 75, 100):
        x = label_w + bar_w * pct / 100
        parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 6}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{x:.1f}" y="14" font-size="11" text-anchor="middle" fill="#64748b">{pct}%</text>')
    if not rows:
        parts.append(f'<text x="{label_w}" y="40" font-size="13" fill="#64748b">{e(t["svg_no_appeals"])}</text>')
    y = 26
    for row, name in zip(rows, names, strict=True):
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h + 4}" font-size="12" text-anchor="end">{e(name)}'
            f"<title>{e(row.name)}</title></text>"
        )
        for value, colour, what in (
            (row.ack_on_time_pct, ACK_COLOUR, t["legend_ack"]),
            (row.answer_on_time_pct, ANSWER_COLOUR, t["legend_answer"]),
        ):
            w = bar_w * (value or 0.0) / 100
            title = t["svg_bar_title"].format(name=row.name, pct=fmt_pct(value), what=what)
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                f"<title>{e(title)}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}" font-size="11" fill="#334155">'
                f"{fmt_pct(value)}%</text>"
            )
            y += bar_h
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def svg_trend(t: Texts, report: Report) -> str:
    weeks = report.weekly
    left, top, plot_w, plot_h = 50, 20, 640, 200
    width, height = left + plot_w + 30, top + plot_h + 50
    parts = [
        f'<svg id="chart-trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(t["svg_trend_label"])}">'
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
            f"<title>{e(t['svg_week_appeals'].format(week=week.week, count=week.appeals))}</title></rect>"
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">{e(week.week)}</text>'
        )
        if week.answer_on_time_pct is not None:
            points.append((x, top + plot_h * (1 - week.answer_on_time_pct / 100), week))
    if points:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{TREND_COLOUR}" stroke-width="3"/>')
        for x, y, week in points:
            title = t["svg_week_on_time"].format(week=week.week, pct=fmt_pct(week.answer_on_time_pct))
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{TREND_COLOUR}"><title>{e(title)}</title></circle>'
            )
            parts.append(
                f'<text x="{x + 8:.1f}" y="{y - 8:.1f}" font-size="11" fill="{TREND_COLOUR}">'
                f"{fmt_pct(week.answer_on_time_pct)}%</text>"
            )
    else:
        parts.append(
            f'<text x="{left + 10}" y="{top + 30}" font-size="13" fill="#64748b">{e(t["svg_no_answers"])}</text>'
        )
    parts.append(f'<text x="{left}" y="{height - 8}" font-size="11" fill="#64748b">{e(t["svg_trend_caption"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heat_colour(count: int, busiest: int) -> str:
    if count <= 0 or busiest <= 0:
        return HEAT_EMPTY
    t = 0.0 if busiest == 1 else (count - 1) / (busiest - 1)
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(HEAT_LOW, HEAT_HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def svg_heatmap(t: Texts, report: Report) -> str:
    left, top, cell = 44, 22, 26
    width, height = left + 24 * cell + 10, top + 7 * cell + 10
    busiest = max(max(day) for day in report.heatmap)
    days = t["weekdays"]
    parts = [
        f'<svg id="chart-heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(t["svg_heatmap_label"])}">'
    ]
    for hour in range(24):
        parts.append(
            f'<text x="{left + hour * cell + cell / 2:.1f}" y="{top - 6}" font-size="10" text-anchor="middle" '
            f'fill="#64748b">{hour:02d}</text>'
        )
    for day in range(7):
        y = top + day * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" font-size="11" text-anchor="end">{e(days[day])}</text>'
        )
        for hour in range(24):
            count = report.heatmap[day][hour]
            title = t["heat_cell_one" if count == 1 else "heat_cell_other"].format(
                day=days[day], hour=hour, count=count
            )
            parts.append(
                f'<rect class="heat" x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{heat_colour(count, busiest)}"><title>{e(title)}</title></rect>'
            )
            if count:
                parts.append(
                    f'<text x="{left + hour * cell + (cell - 2) / 2:.1f}" y="{y + cell / 2 + 3:.1f}" font-size="11" '
                    f'text-anchor="middle" fill="{"#fff" if 2 * count > busiest else "#7c2d12"}">{count}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)
