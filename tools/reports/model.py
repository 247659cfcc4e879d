"""The report's data: the rows read from PostgreSQL, and the figures computed from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appeals.vocabulary import EventKind

REGION_ZONE = "Asia/Yekaterinburg"
AUTOMATIC_CHECK = "automatic check"  # `answer_returned` data.by when the answer check, not a moderator, sent it back
NONE_LABEL = "—"
TOTAL = "Total"  # the total row's name in the data; the renderers show it in the reader's language
EVENT_KINDS = (
    EventKind.acknowledged,
    EventKind.answered,
    EventKind.sla_breached,
    EventKind.escalated,
    EventKind.answer_returned,
    EventKind.reopened,
    EventKind.white_spot_declared,
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


def pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


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
        return pct(self.acknowledged_on_time, self.acknowledged)

    @property
    def answer_on_time_pct(self) -> float | None:
        return pct(self.answers_on_time, self.answers)


@dataclass(frozen=True)
class WeekPoint:
    week: str  # ISO week, e.g. "2026-W47"
    appeals: int
    answers: int
    answers_on_time: int

    @property
    def answer_on_time_pct(self) -> float | None:
        return pct(self.answers_on_time, self.answers)


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
