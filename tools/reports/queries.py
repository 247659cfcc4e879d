"""Reading the report's rows from PostgreSQL: the appeals received in a period, their audit
events of the kinds the report counts, and the incidents open now."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from appeals.working_calendar import CalendarConfig
from tools.reports.figures import compute_report
from tools.reports.model import EVENT_KINDS, REGION_ZONE, AppealRow, EventRow, IncidentRow, Report

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
    kinds = [kind.value for kind in EVENT_KINDS]
    async with pool.acquire() as conn:
        appeal_rows = await conn.fetch(_APPEALS_SQL, start, end, wanted)
        event_rows = await conn.fetch(_EVENTS_SQL, start, end, wanted, kinds)
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
