"""Incident storage and the suggestion rule: same category and address within a window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import asyncpg
from pydantic import Field
from temporalio import activity

from activities.planning import load
from appeals.models import Model
from appeals.records import IncidentLookup, IncidentRecord

INCIDENTS_FILE = "incidents.toml"


class IncidentRules(Model):
    link_window_days: int = Field(7, ge=0, le=365)


_SAVE = """
INSERT INTO incidents (incident_id, title, category, municipality, address, status, opened_at,
                       committed_date, linked)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (incident_id) DO UPDATE SET
    status = EXCLUDED.status, committed_date = EXCLUDED.committed_date,
    linked = EXCLUDED.linked, updated_at = now()
"""

_OPEN_INCIDENT = """
SELECT incident_id FROM incidents
WHERE status = 'open' AND lower(category) = lower($1) AND lower(trim(address)) = lower(trim($2))
  AND opened_at BETWEEN $3::timestamptz - $4::interval AND $3::timestamptz + $4::interval
ORDER BY opened_at LIMIT 1
"""

_OPEN_APPEALS = """
SELECT workflow_id FROM appeals
WHERE closed_at IS NULL AND incident_id IS NULL AND status NOT LIKE 'closed%'
  AND lower(category) = lower($1) AND lower(trim(address)) = lower(trim($2))
  AND received_at BETWEEN $3::timestamptz - $4::interval AND $3::timestamptz + $4::interval
ORDER BY received_at
"""


class IncidentActivities:
    def __init__(self, pool: asyncpg.Pool, config_dir: Path) -> None:
        self._pool = pool
        self._config_dir = config_dir

    def _window(self) -> timedelta:
        rules, _ = load(self._config_dir / INCIDENTS_FILE, IncidentRules)
        return timedelta(days=rules.link_window_days)

    @activity.defn
    async def save_incident(self, incident: IncidentRecord) -> None:
        await self._pool.execute(
            _SAVE,
            incident.incident_id,
            incident.title,
            incident.category,
            incident.municipality,
            incident.address,
            incident.status,
            incident.opened_at,
            incident.committed_date,
            incident.linked,
        )

    @activity.defn
    async def find_open_incident(self, lookup: IncidentLookup) -> str | None:
        """The open incident this new appeal belongs to, if any."""
        found = await self._pool.fetchval(
            _OPEN_INCIDENT, lookup.category, lookup.address, lookup.received_at, self._window()
        )
        return str(found) if found else None

    @activity.defn
    async def find_matching_appeals(self, lookup: IncidentLookup) -> list[str]:
        """Open appeals that report the incident's problem, for linking when it opens."""
        rows = await self._pool.fetch(
            _OPEN_APPEALS, lookup.category, lookup.address, lookup.received_at, self._window()
        )
        return [row["workflow_id"] for row in rows]
