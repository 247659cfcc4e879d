"""The keys every language defines: what an official reads in the SLA report and the operator CLI.

Each language is one dictionary typed by `Texts` (ru.py, en.py), so mypy refuses a language that
misses a key or adds one. Values with `{...}` are `str.format` templates; the names in braces are
the same in every language. The nested dictionaries (`csv_columns`, `csv_groups`, `filters`) are
checked key by key in tests/test_reports.py.
"""

from __future__ import annotations

from typing import TypedDict

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


class Texts(TypedDict):
    # --- the SLA report: terminal table and HTML -----------------------------------------------
    report_title: str
    report_table_title: str  # {period}
    by_executor: str
    by_municipality: str
    executor: str
    municipality: str
    total: str  # the total row's name
    col_appeals: str
    col_ack_on_time: str
    col_answer_on_time: str
    col_breaches: str
    col_escalated: str  # {level}
    col_reaction_median: str
    col_reaction_p90: str
    col_answer_median: str
    col_answer_p90: str
    col_formal_returned: str
    col_refutations: str
    col_repeats: str
    col_commitments: str
    open_incidents: str
    col_incident: str
    col_title: str
    col_opened: str
    col_linked: str
    col_linked_appeals: str
    none: str
    weekly_trend: str
    col_week: str
    col_answers: str
    heatmap_table_title: str  # {zone}
    col_weekday: str
    col_hour: str
    weekdays: tuple[str, str, str, str, str, str, str]  # Monday first
    # --- the SLA report: CSV ---------------------------------------------------------------------
    csv_columns: dict[str, str]  # column id → header
    csv_escalated: str  # {level}
    csv_groups: dict[str, str]  # executor, municipality, total
    # --- the SLA report: HTML and its SVG charts -------------------------------------------------
    html_lang: str
    html_meta: str  # {period} {appeals} {ack} {answer} {breaches}
    chart_compliance: str
    legend_ack: str
    legend_answer: str
    chart_heatmap: str  # {zone}
    weekly_figures: str
    svg_compliance_label: str
    svg_no_appeals: str
    svg_bar_title: str  # {name} {pct} {what}
    svg_trend_label: str
    svg_week_appeals: str  # {week} {count}
    svg_week_on_time: str  # {week} {pct}
    svg_no_answers: str
    svg_trend_caption: str
    svg_heatmap_label: str
    heat_cell_one: str  # {day} {hour} {count}
    heat_cell_other: str  # {day} {hour} {count}
    # --- appealctl.py ----------------------------------------------------------------------------
    cli_show_head: str  # {workflow_id} {status} {cycle}
    cli_executor: str
    cli_escalation: str  # {level}
    cli_breached: str
    cli_policy: str
    cli_appeal: str
    cli_incident: str
    cli_clocks_title: str
    cli_clock_columns: tuple[str, str, str, str, str, str, str, str, str]
    cli_reminder: str
    cli_events_title: str
    cli_event_columns: tuple[str, str, str, str]  # the second has {zone}
    cli_act_accepted: str  # {action} {at} {status}
    cli_overdue_columns: tuple[str, str, str, str, str]
    cli_incident_linked: str  # {incident_id} {count}
    cli_incident_show: str  # {incident_id} {status} {title} {count} {linked}
    cli_municipality_columns: tuple[str, str, str, str]
    cli_unknown_columns: tuple[str, str, str, str, str]
    cli_unknown_count: str  # {count}
    cli_start: str
    cli_duration: str
    cli_zone: str
    cli_calendar: str
    cli_deadline: str
    cli_why: str
    cli_calendar_assumed: str
    cli_calendar_regional: str  # {region}
    cli_calendar_federal: str
    filters: dict[str, str]  # stack/filters.py's question (a stable key) → its heading
