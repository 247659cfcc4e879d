"""SLA reports from PostgreSQL: compliance, reaction times, quality, commitments, incidents.

`build_report` (queries.py) reads the appeals received in a period and their audit events;
everything else is pure: `compute_report` (figures.py) turns rows into a `Report` (model.py),
and the renderers turn a `Report` into a terminal table or CSV (tables.py) or one
self-contained HTML file (page.py, with the inline SVG charts of charts.py; no JavaScript,
no external resources). Headers and labels are in the reader's language: `language` "ru" or
"en", by default the setting APPEALS_LANGUAGE (stack/texts/).

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

from tools.reports.cells import fmt_hours, fmt_pct
from tools.reports.charts import (
    ACK_COLOUR,
    ANSWER_COLOUR,
    HEAT_EMPTY,
    HEAT_HIGH,
    HEAT_LOW,
    TREND_COLOUR,
    heat_colour,
)
from tools.reports.figures import compute_report, durations, percentile_nearest_rank
from tools.reports.model import (
    AUTOMATIC_CHECK,
    EVENT_KINDS,
    MIN_LEVEL_COLUMNS,
    NONE_LABEL,
    REGION_ZONE,
    TOTAL,
    AppealRow,
    Durations,
    EventRow,
    GroupRow,
    IncidentRow,
    Report,
    WeekPoint,
)
from tools.reports.page import render_html
from tools.reports.queries import build_report
from tools.reports.tables import csv_cell, csv_columns, csv_header, render_csv, render_table

__all__ = [
    "ACK_COLOUR",
    "ANSWER_COLOUR",
    "AUTOMATIC_CHECK",
    "EVENT_KINDS",
    "HEAT_EMPTY",
    "HEAT_HIGH",
    "HEAT_LOW",
    "MIN_LEVEL_COLUMNS",
    "NONE_LABEL",
    "REGION_ZONE",
    "TOTAL",
    "TREND_COLOUR",
    "AppealRow",
    "Durations",
    "EventRow",
    "GroupRow",
    "IncidentRow",
    "Report",
    "WeekPoint",
    "build_report",
    "compute_report",
    "csv_cell",
    "csv_columns",
    "csv_header",
    "durations",
    "fmt_hours",
    "fmt_pct",
    "heat_colour",
    "percentile_nearest_rank",
    "render_csv",
    "render_html",
    "render_table",
]
