"""The pure part of the report: plain rows in, a `Report` out, no I/O."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from appeals.vocabulary import ClockName, EventKind
from appeals.working_calendar import CalendarConfig, WorkingCalendar
from tools.reports.model import (
    AUTOMATIC_CHECK,
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


def percentile_nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the ceil(q·n)-th smallest value (q in (0, 1])."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def durations(hours: Sequence[float]) -> Durations:
    if not hours:
        return Durations(0, None, None)
    return Durations(len(hours), float(statistics.median(hours)), percentile_nearest_rank(hours, 0.9))


class _Calendars:
    """One WorkingCalendar per zone, chosen by the appeal's municipality."""

    def __init__(self, config: CalendarConfig) -> None:
        self.config = config
        self._by_zone: dict[str, WorkingCalendar] = {}

    def working_hours(self, municipality: str | None, a: datetime, b: datetime) -> float:
        zone = self.config.zone_for(municipality)
        calendar = self._by_zone.get(zone)
        if calendar is None:
            calendar = self._by_zone[zone] = WorkingCalendar(self.config, zone)
        return calendar.working_time_between(a, b) / timedelta(hours=1)


def _fill(
    row: GroupRow,
    appeals: Iterable[AppealRow],
    events: Mapping[str, list[EventRow]],
    returns: Iterable[EventRow],
    calendars: _Calendars,
) -> GroupRow:
    reaction: list[float] = []
    answer: list[float] = []
    for appeal in appeals:
        row.appeals += 1
        if appeal.cycle > 1:
            row.repeats += 1
        if appeal.acknowledged_at is not None:
            reaction.append(calendars.working_hours(appeal.municipality, appeal.received_at, appeal.acknowledged_at))
        if appeal.answered_at is not None:
            answer.append(calendars.working_hours(appeal.municipality, appeal.received_at, appeal.answered_at))
        first_ack = True
        for event in events.get(appeal.workflow_id, []):
            data = event.data
            if event.kind == EventKind.acknowledged and first_ack:
                first_ack = False
                row.acknowledged += 1
                row.acknowledged_on_time += data.get("on_time") is True
            elif event.kind == EventKind.answered:
                row.answers += 1
                row.answers_on_time += data.get("on_time") is True
                row.commitments_kept += data.get("commitment_kept") is True
            elif event.kind == EventKind.sla_breached:
                row.breaches += 1
                row.commitments_missed += data.get("clock") == ClockName.commitment
            elif event.kind == EventKind.escalated:
                level = int(data.get("level", 0))
                row.escalations_by_level[level] = row.escalations_by_level.get(level, 0) + 1
            elif event.kind == EventKind.reopened:
                row.refutations += 1
            elif event.kind == EventKind.white_spot_declared:
                row.commitments_made += 1
    for event in returns:
        row.formal_returned += 1
        if event.data.get("by") == AUTOMATIC_CHECK:
            row.returned_by_check += 1
        else:
            row.returned_by_moderator += 1
    row.escalations_by_level = dict(sorted(row.escalations_by_level.items()))
    row.reaction = durations(reaction)
    row.answer_time = durations(answer)
    return row


def compute_report(
    appeals: Sequence[AppealRow],
    events: Sequence[EventRow],
    incidents: Sequence[IncidentRow],
    start: datetime,
    end: datetime,
    calendar_config: CalendarConfig,
    *,
    zone: str = REGION_ZONE,
) -> Report:
    """The report from plain rows: no I/O."""
    tz = ZoneInfo(zone)
    calendars = _Calendars(calendar_config)
    by_id = {a.workflow_id: a for a in appeals}
    events_by_appeal: dict[str, list[EventRow]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e.workflow_id, e.seq)):
        if event.workflow_id in by_id:
            events_by_appeal[event.workflow_id].append(event)
    returns = [e for evs in events_by_appeal.values() for e in evs if e.kind == EventKind.answer_returned]

    def executor_of(appeal: AppealRow) -> str:
        return appeal.executor or NONE_LABEL

    def return_executor(event: EventRow) -> str:
        named = event.data.get("executor")
        return str(named) if named else executor_of(by_id[event.workflow_id])

    def grouped(key: Callable[[AppealRow], str], return_key: Callable[[EventRow], str]) -> list[GroupRow]:
        appeal_groups: dict[str, list[AppealRow]] = defaultdict(list)
        return_groups: dict[str, list[EventRow]] = defaultdict(list)
        for appeal in appeals:
            appeal_groups[key(appeal)].append(appeal)
        for event in returns:
            return_groups[return_key(event)].append(event)
        names = sorted(set(appeal_groups) | set(return_groups))
        return [
            _fill(GroupRow(name), appeal_groups.get(name, []), events_by_appeal, return_groups.get(name, []), calendars)
            for name in names
        ]

    def municipality_of(appeal: AppealRow) -> str:
        return appeal.municipality or NONE_LABEL

    by_executor = grouped(executor_of, return_executor)
    by_municipality = grouped(municipality_of, lambda e: municipality_of(by_id[e.workflow_id]))
    total = _fill(GroupRow(TOTAL), appeals, events_by_appeal, returns, calendars)

    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for appeal in appeals:
        iso = appeal.received_at.astimezone(tz).isocalendar()
        point = weeks[f"{iso.year}-W{iso.week:02d}"]
        point[0] += 1
        for event in events_by_appeal.get(appeal.workflow_id, []):
            if event.kind == EventKind.answered:
                point[1] += 1
                point[2] += event.data.get("on_time") is True
    weekly = [WeekPoint(week, *counts) for week, counts in sorted(weeks.items())]

    heatmap = [[0] * 24 for _ in range(7)]
    for evs in events_by_appeal.values():
        for event in evs:
            if event.kind == EventKind.sla_breached:
                local = event.occurred_at.astimezone(tz)
                heatmap[local.weekday()][local.hour] += 1

    return Report(
        start=start,
        end=end,
        zone=zone,
        total=total,
        by_executor=by_executor,
        by_municipality=by_municipality,
        open_incidents=list(incidents),
        weekly=weekly,
        heatmap=heatmap,
    )
