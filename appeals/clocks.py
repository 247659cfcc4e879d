"""SLA clocks: pure arithmetic on a working calendar.

A clock has a start, an allowance (working time or wall-clock time), the time it
spent paused, and so a deadline. Thresholds warn at a share of the allowance, in
working hours only. Every instant is derived from those few numbers, so a pause,
an extension or a re-pinned policy moves every pending instant consistently.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import Field

from appeals.durations import Duration, Kind
from appeals.models import Model
from appeals.sla import Role, Threshold


class Calendar(Protocol):
    zone_name: str
    zone: ZoneInfo

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime: ...
    def working_time_between(self, a: datetime, b: datetime) -> timedelta: ...
    def next_working_moment(self, t: datetime) -> datetime: ...
    def add_calendar_time(self, start: datetime, duration: timedelta) -> datetime: ...
    def is_working_day(self, d: date) -> bool: ...
    def working_intervals(self, d: date) -> list[tuple[datetime, datetime]]: ...
    def local_date(self, t: datetime) -> date: ...


class Pause(Model):
    started_at: datetime
    ended_at: datetime | None = None
    counted: timedelta = timedelta(0)  # the working (or wall) time the deadline moved by
    reason: str = ""


class Mark(Model):
    """A warning point on a clock: a threshold, or the reminder before a commitment."""

    percent: int | None = None  # None: the commitment reminder
    notify: list[Role]
    at: datetime  # when it goes out (already moved into working hours)
    sent_at: datetime | None = None


class Clock(Model):
    name: str
    number: int = Field(0, description="Position in the appeal's list of clocks: its identity")
    cycle: int = 1
    kind: Kind
    started_at: datetime
    allowed: timedelta = Field(description="Working time for working clocks, wall time otherwise")
    fixed_due: datetime | None = Field(None, description="A committed date instead of an allowance")
    paused: timedelta = timedelta(0)
    paused_since: datetime | None = None
    pauses: list[Pause] = Field(default_factory=list)
    due_at: datetime
    marks: list[Mark] = Field(default_factory=list)
    breached_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def ticking(self) -> bool:
        return self.stopped_at is None and self.paused_since is None


# --- Durations on the calendar ---------------------------------------------------------


def allowance(cal: Calendar, start: datetime, duration: Duration) -> tuple[Kind, timedelta]:
    """How much time a duration allows from `start`, in the clock's own kind of time."""
    days = duration.whole_working_days
    if days is not None:
        return Kind.working, cal.working_time_between(start, add_working_days(cal, start, days))
    return duration.kind, duration.length


def add_working_days(cal: Calendar, start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after the day of `start` (the start day not counted)."""
    day = cal.local_date(start)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
    return cal.working_intervals(day)[-1][1]


def working_days_before(cal: Calendar, day: date, days: int) -> datetime:
    """The first working moment `days` working days before `day`."""
    counted = 0
    while counted < days:
        day -= timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
    return cal.working_intervals(day)[0][0]


def after(cal: Calendar, start: datetime, duration: Duration) -> datetime:
    """The instant `duration` after `start`, for intervals (escalations, feedback windows).

    Unlike a deadline, "1 working day" here means the same time on the next working day.
    """
    days = duration.whole_working_days
    if days is not None:
        day = cal.local_date(start)
        for _ in range(days):
            day += timedelta(days=1)
            while not cal.is_working_day(day):
                day += timedelta(days=1)
        same_time = start.astimezone(cal.zone).timetz()
        return cal.next_working_moment(datetime.combine(day, same_time))
    kind, amount = allowance(cal, start, duration)
    if kind == Kind.working:
        return cal.add_working_time(start, amount)
    return start + amount


# --- Clock lifecycle --------------------------------------------------------------------


def start_clock(
    cal: Calendar,
    name: str,
    start: datetime,
    duration: Duration,
    thresholds: list[Threshold],
    *,
    cycle: int = 1,
) -> Clock:
    kind, allowed = allowance(cal, start, duration)
    clock = Clock(name=name, cycle=cycle, kind=kind, started_at=start, allowed=allowed, due_at=start)
    clock.marks = [Mark(percent=t.percent, notify=list(t.notify), at=start) for t in thresholds]
    return reschedule(cal, clock)


def start_commitment(cal: Calendar, start: datetime, due: datetime, remind_at: datetime, *, cycle: int) -> Clock:
    clock = Clock(
        name="commitment",
        cycle=cycle,
        kind=Kind.calendar,
        started_at=start,
        allowed=due - start,
        fixed_due=due,
        due_at=due,
        marks=[Mark(notify=[Role.executor, Role.head], at=max(start, remind_at))],
    )
    return clock


def reschedule(cal: Calendar, clock: Clock) -> Clock:
    """Recompute the deadline and the pending warnings from start, allowance and pauses."""
    if clock.fixed_due is not None:
        clock.due_at = clock.fixed_due
        return clock
    clock.due_at = _point(cal, clock, clock.allowed)
    for mark in clock.marks:
        if mark.sent_at is None and mark.percent is not None:
            share = clock.allowed * mark.percent / 100
            mark.at = cal.next_working_moment(_point(cal, clock, share, shift_off_days=False))
    return clock


def _point(cal: Calendar, clock: Clock, elapsed: timedelta, *, shift_off_days: bool = True) -> datetime:
    if clock.kind == Kind.working:
        return cal.add_working_time(clock.started_at, elapsed + clock.paused)
    raw = clock.started_at + elapsed + clock.paused
    return cal.add_calendar_time(clock.started_at, elapsed + clock.paused) if shift_off_days else raw


def pause(clock: Clock, at: datetime, reason: str) -> None:
    clock.paused_since = at
    clock.pauses.append(Pause(started_at=at, reason=reason))


def resume(cal: Calendar, clock: Clock, at: datetime) -> timedelta:
    """End the pause; the deadline moves by exactly the paused (working) time."""
    assert clock.paused_since is not None
    if clock.kind == Kind.working:
        counted = cal.working_time_between(clock.paused_since, at)
    else:
        counted = at - clock.paused_since
    clock.paused += counted
    clock.paused_since = None
    clock.pauses[-1].ended_at = at
    clock.pauses[-1].counted = counted
    reschedule(cal, clock)
    return counted


def stop(clock: Clock, at: datetime) -> None:
    if clock.paused_since is not None:
        clock.pauses[-1].ended_at = at
        clock.paused_since = None
    clock.stopped_at = at


def remaining(cal: Calendar, clock: Clock, now: datetime) -> timedelta:
    """Time left (negative when overdue), in the clock's own kind of time."""
    end = clock.stopped_at or clock.paused_since or now  # a paused clock's time left is frozen
    if clock.kind == Kind.working and clock.fixed_due is None:
        if end <= clock.due_at:
            return cal.working_time_between(end, clock.due_at)
        return -cal.working_time_between(clock.due_at, end)
    return clock.due_at - end


# --- What happens next ------------------------------------------------------------------


class Alarm(Model):
    at: datetime
    clock: str
    number: int  # which clock: names repeat (a second rework clock in the same cycle)
    cycle: int
    kind: str  # "warning" | "breach"
    mark: int | None = None  # index into clock.marks for warnings


def next_alarm(clock: Clock) -> Alarm | None:
    """The clock's next warning or its breach; nothing while stopped or paused."""
    if not clock.ticking:
        return None
    for index, mark in enumerate(clock.marks):
        if mark.sent_at is None and mark.at < clock.due_at:
            return Alarm(
                at=mark.at, clock=clock.name, number=clock.number, cycle=clock.cycle, kind="warning", mark=index
            )
    if clock.breached_at is None:
        return Alarm(at=clock.due_at, clock=clock.name, number=clock.number, cycle=clock.cycle, kind="breach")
    return None
