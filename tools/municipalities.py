"""Which municipalities the calendar knows, and which appeals were planned on an assumption.

`appealctl.py municipalities` lists calendar.toml's table (zone, region, the region's file);
`--unknown` lists, from PostgreSQL, the appeals whose latest routing carries a `calendar_note`
(AppealPlan.calendar_note: the municipality was not in the table, so the default zone and the
federal calendar were assumed). Fix the table, then re-pin or reclassify those appeals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from appeals.working_calendar import Calendars


@dataclass(frozen=True)
class KnownMunicipality:
    municipality: str
    zone: str
    region: str | None  # the region's display name, e.g. «Татарстан»; None: the federal calendar
    region_file: str | None


def known(calendars: Calendars) -> list[KnownMunicipality]:
    config = calendars.config
    rows = [KnownMunicipality(name, zone, None, None) for name, zone in config.municipality_zones.items()]
    for name, where in config.municipalities.items():
        region = calendars.regions.get(where.region) if where.region is not None else None
        rows.append(
            KnownMunicipality(
                name,
                where.zone,
                region.name if region is not None else None,
                f"regions/{where.region}.toml" if where.region is not None else None,
            )
        )
    return rows


@dataclass(frozen=True)
class AssumedAppeal:
    workflow_id: str
    municipality: str | None
    status: str
    routed_at: datetime
    note: str


# The latest routing of each appeal decides: an appeal re-routed after its municipality was fixed
# (or re-pinned after calendar.toml learnt it) is no longer listed.
_UNKNOWN = """
SELECT workflow_id, municipality, status, routed_at, note FROM (
    SELECT DISTINCT ON (e.workflow_id)
           e.workflow_id, a.municipality, a.status, a.closed_at, e.occurred_at AS routed_at,
           e.data ->> 'calendar_note' AS note
    FROM appeal_events e JOIN appeals a USING (workflow_id)
    WHERE e.kind = 'routed'
    ORDER BY e.workflow_id, e.seq DESC
) latest
WHERE note IS NOT NULL AND ($1 OR closed_at IS NULL)
ORDER BY routed_at DESC, workflow_id
"""


async def assumed(pool: asyncpg.Pool, *, include_closed: bool = True) -> list[AssumedAppeal]:
    """Appeals whose latest routing assumed the default zone and calendar (newest first)."""
    rows = await pool.fetch(_UNKNOWN, include_closed)
    return [AssumedAppeal(r["workflow_id"], r["municipality"], r["status"], r["routed_at"], r["note"]) for r in rows]
