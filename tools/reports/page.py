"""The report as one self-contained HTML file: inline CSS and SVG, no scripts, no external resources."""

from __future__ import annotations

from collections.abc import Sequence

from stack.texts import texts
from tools.reports.cells import compliance_sections, fmt_pct, incident_rows, period, weekly_headers, weekly_rows
from tools.reports.charts import ACK_COLOUR, ANSWER_COLOUR, e, svg_compliance, svg_heatmap, svg_trend
from tools.reports.model import Report

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


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], total_last: bool = False) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="total"' if total_last and i == len(rows) - 1 else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def render_html(report: Report, language: str | None = None) -> str:
    """One self-contained HTML file; `language` "ru" or "en", None: APPEALS_LANGUAGE."""
    t = texts(language)
    sections = [
        f"<h2>{e(t['chart_compliance'])}</h2>",
        f'<p class="legend"><span style="background:{ACK_COLOUR}"></span>{e(t["legend_ack"])}'
        f'<span style="background:{ANSWER_COLOUR}"></span>{e(t["legend_answer"])}</p>',
        svg_compliance(t, report),
        f"<h2>{e(t['weekly_trend'])}</h2>",
        svg_trend(t, report),
        f"<h2>{e(t['chart_heatmap'].format(zone=report.zone))}</h2>",
        svg_heatmap(t, report),
    ]
    for title, headers, rows in compliance_sections(t, report):
        sections.append(f"<h2>{e(title)}</h2>")
        sections.append(_html_table(headers, rows, total_last=True))
    sections.append(f"<h2>{e(t['open_incidents'])}</h2>")
    if report.open_incidents:
        headers = [t["col_incident"], t["col_title"], t["municipality"], t["col_opened"], t["col_linked_appeals"]]
        sections.append(_html_table(headers, incident_rows(report)))
    else:
        sections.append(f"<p>{e(t['none'])}</p>")
    sections.append(f"<h2>{e(t['weekly_figures'])}</h2>")
    sections.append(_html_table(weekly_headers(t), weekly_rows(report)))
    total = report.total
    meta = t["html_meta"].format(
        period=period(report),
        appeals=total.appeals,
        ack=fmt_pct(total.ack_on_time_pct),
        answer=fmt_pct(total.answer_on_time_pct),
        breaches=total.breaches,
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{e(t["html_lang"])}"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{e(t['report_title'])}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{e(t['report_title'])}</h1>"
        f'<p class="meta">{e(meta)}</p>' + "".join(sections) + "</body></html>\n"
    )
