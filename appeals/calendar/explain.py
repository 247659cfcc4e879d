"""Why a deadline is where it is: the days that moved it, in the words of the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from appeals.calendar.notes import DayKind, DayNote, Explanation, describe, fmt_td

if TYPE_CHECKING:
    from appeals.calendar.working import WorkingCalendar


def explain(calendar: WorkingCalendar, start: datetime, duration: timedelta, working: bool) -> Explanation:
    """The deadline and the days that moved it: skipped days and shortened days.

    An assumption (an unknown municipality) is the first reason; a regional holiday names its region.
    """
    deadline = calendar.add_working_time(start, duration) if working else calendar.add_calendar_time(start, duration)
    begin = start.astimezone(calendar.zone)
    notes: list[DayNote] = []
    reasons: list[str] = [calendar.assumed] if calendar.assumed else []
    d, last = begin.date(), calendar.local_date(deadline)
    plain = (begin.replace(tzinfo=None) + duration).date()
    if not working:
        d = plain  # wall-clock time runs through weekends; only the landing day can move it
    shortening = calendar.config.pre_holiday_shortening
    while d <= last:
        note = calendar.day_note(d)
        if note.kind is not DayKind.working or (note.shortened and working):
            notes.append(note)
            reasons.append(describe(note, shortening))
        d += timedelta(days=1)
    if not working and plain != last:
        reasons.append(
            f"calendar deadline {plain.isoformat()} is a non-working day: "
            f"moved to the next working day {last.isoformat()}"
        )
    mode = "working time" if working else "calendar time"
    local = deadline.astimezone(calendar.zone)
    reasons.append(f"deadline {local.isoformat()} ({calendar.zone_name}) after {fmt_td(duration)} of {mode}")
    return Explanation(
        zone=calendar.zone_name,
        start=start.astimezone(UTC),
        duration=duration,
        working=working,
        deadline=deadline,
        deadline_local=local,
        days=notes,
        reasons=reasons,
        municipality=calendar.municipality,
        region=calendar.region.name if calendar.region is not None else None,
        assumed=calendar.assumed,
    )
