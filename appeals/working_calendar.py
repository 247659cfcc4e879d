"""The Russian working-day calendar: working hours, holidays, transfers, shortened days.

Pure code: it receives a parsed `CalendarConfig` and reads no files. The federal
non-working holidays (Labour Code art. 112) and the government's yearly transfers of
days off come from the `holidays` package (RU). The package also exposes the weekend
days that a transfer turns into working days (`weekend_workdays`, e.g. Saturday
2027-02-20); they are honoured here. Regional decrees go into the override lists.

Rules implemented:
- a day is non-working if it is in `extra_days_off`, or is a holiday / transferred day
  off / observed holiday in the package (unless listed in `extra_working_days`), or has
  no hours in the weekly schedule (unless the package or the override makes it working);
- a working day that immediately precedes a non-working holiday of art. 112 is shorter
  by `pre_holiday_shortening`, taken off the end of the day (art. 95). A working
  weekend day produced by a transfer is shortened when the day it was swapped with
  precedes such a holiday (Saturday 2025-11-01 → Monday 2025-11-03 before 4 November;
  Saturday 2027-02-20 → Monday 2027-02-22 before 23 February). The day before a
  transferred day off (2026-12-30, before 2026-12-31) is not shortened;
- a working weekend day uses the hours of the weekday it was swapped with, or else
  the first weekday of the schedule.

All arithmetic runs on UTC instants, so DST zones work; results are aware UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import AwareDatetime, Field, field_validator, model_validator

from appeals.models import Model

DEFAULT_ZONE = "Asia/Yekaterinburg"
_TRANSFER_RE = re.compile(r"перенесено с (\d{2})\.(\d{2})\.(\d{4})")
# No schedule has a year without a single working day; stop looking after this many days.
_MAX_SEARCH_DAYS = 3 * 366


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


_WEEKDAYS = list(Weekday)


class DayHours(Model):
    """Working hours of one weekday in local time, with an optional lunch break."""

    start: time
    end: time
    lunch_start: time | None = None
    lunch_end: time | None = None

    @model_validator(mode="after")
    def _check(self) -> DayHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValueError("give both lunch_start and lunch_end, or neither")
        if self.lunch_start is not None and self.lunch_end is not None:
            if not self.start < self.lunch_start < self.lunch_end < self.end:
                raise ValueError(f"lunch {self.lunch_start}–{self.lunch_end} must lie inside {self.start}–{self.end}")
        return self

    def local_intervals(self) -> list[tuple[time, time]]:
        if self.lunch_start is None or self.lunch_end is None:
            return [(self.start, self.end)]
        return [(self.start, self.lunch_start), (self.lunch_end, self.end)]


def _standard_day() -> DayHours:
    return DayHours(start=time(9), end=time(18), lunch_start=time(13), lunch_end=time(14))


def _default_week() -> dict[Weekday, DayHours]:
    # Default: a 40-hour five-day week, Mon–Fri 09:00–18:00 with lunch 13:00–14:00 (8 h a day).
    return {day: _standard_day() for day in _WEEKDAYS[:5]}


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


class CalendarConfig(Model):
    """The working calendar settings (config/calendar.toml)."""

    default_zone: str = Field(DEFAULT_ZONE, description="IANA zone for municipalities not listed")
    municipality_zones: dict[str, str] = Field(default_factory=dict, description="municipality → IANA zone")
    hours: dict[Weekday, DayHours] = Field(
        default_factory=_default_week,
        description="Working hours per weekday; a weekday not listed is a day off",
    )
    pre_holiday_shortening: timedelta = Field(
        timedelta(hours=1), description="Taken off the end of the day before a holiday (art. 95)"
    )
    extra_working_days: list[date] = Field(default_factory=list, description="Regional working days")
    extra_days_off: list[date] = Field(default_factory=list, description="Regional days off")
    years: list[int] = Field(default_factory=list, description="Years to preload; others load lazily")

    @field_validator("default_zone")
    @classmethod
    def _default_zone_exists(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("municipality_zones")
    @classmethod
    def _zones_exist(cls, value: dict[str, str]) -> dict[str, str]:
        for municipality, zone in value.items():
            try:
                _check_zone(zone)
            except ValueError as exc:
                raise ValueError(f"municipality {municipality!r}: {exc}") from None
        return value

    @field_validator("pre_holiday_shortening")
    @classmethod
    def _shortening_sane(cls, value: timedelta) -> timedelta:
        if value < timedelta(0) or value > timedelta(hours=8):
            raise ValueError("must be between 0 and 8 hours")
        return value

    @field_validator("years")
    @classmethod
    def _years_sane(cls, value: list[int]) -> list[int]:
        for year in value:
            if not 1991 <= year <= 2200:
                raise ValueError(f"year {year} is outside 1991–2200")
        return value

    @model_validator(mode="after")
    def _check(self) -> CalendarConfig:
        if not self.hours:
            raise ValueError("hours: at least one weekday must have working hours")
        both = sorted(set(self.extra_working_days) & set(self.extra_days_off))
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"extra_working_days and extra_days_off both list {listed}")
        return self

    def zone_for(self, municipality: str | None) -> str:
        """The IANA zone of a municipality; the default zone when it is not listed."""
        if municipality is None:
            return self.default_zone
        return self.municipality_zones.get(municipality.strip(), self.default_zone)


class DayKind(StrEnum):
    working = "working"
    weekend = "weekend"
    holiday = "holiday"
    transferred_day_off = "transferred_day_off"
    regional_day_off = "regional_day_off"


class DayNote(Model):
    day: date
    kind: DayKind
    detail: str = ""
    shortened: bool = False


class Explanation(Model):
    """Why a deadline is where it is."""

    zone: str
    start: AwareDatetime
    duration: timedelta
    working: bool
    deadline: AwareDatetime = Field(description="UTC")
    deadline_local: AwareDatetime
    days: list[DayNote] = Field(default_factory=list, description="Non-working and shortened days met")
    reasons: list[str] = Field(default_factory=list)


class RuYear(Model):
    """One year of the Russian production calendar, as the `holidays` package gives it.

    Pinned inside each appeal's workflow (see CalendarSnapshot), so a later release of the
    package or a new decree never changes the deadlines of an appeal in flight.
    """

    off: dict[date, str]  # every non-working day the package lists, with its Russian name
    proper: frozenset[date]  # art. 112 holidays themselves (not transfers, not observed)
    transferred: frozenset[date]  # days off moved onto a working day by decree
    working_weekend: dict[date, date]  # weekend day made working → the day it was swapped with


@lru_cache(maxsize=64)
def _ru_year(year: int) -> RuYear:
    observed = holidays.country_holidays("RU", years=year, language="ru")
    plain = holidays.country_holidays("RU", years=year, language="ru", observed=False)
    proper: set[date] = set()
    transferred: set[date] = set()
    swapped_with: dict[date, date] = {}
    for day, name in plain.items():
        is_proper = False
        for part in name.split("; "):
            match = _TRANSFER_RE.search(part)
            if match:
                transferred.add(day)
                dd, mm, yyyy = (int(g) for g in match.groups())
                swapped_with[date(yyyy, mm, dd)] = day
            else:
                is_proper = True
        if is_proper:
            proper.add(day)
    working_weekend = {d: swapped_with.get(d, d) for d in observed.weekend_workdays if d.year == year}
    return RuYear(
        off=dict(observed.items()),
        proper=frozenset(proper),
        transferred=frozenset(transferred - proper),
        working_weekend=working_weekend,
    )


# Art. 112 of the Labour Code: the non-working holidays, without any year's decree of transfers.
_STATUTORY = {
    (1, 1): "Новогодние каникулы",
    (1, 2): "Новогодние каникулы",
    (1, 3): "Новогодние каникулы",
    (1, 4): "Новогодние каникулы",
    (1, 5): "Новогодние каникулы",
    (1, 6): "Новогодние каникулы",
    (1, 7): "Рождество Христово",
    (1, 8): "Новогодние каникулы",
    (2, 23): "День защитника Отечества",
    (3, 8): "Международный женский день",
    (5, 1): "Праздник Весны и Труда",
    (5, 9): "День Победы",
    (6, 12): "День России",
    (11, 4): "День народного единства",
}


@lru_cache(maxsize=64)
def _statutory_year(year: int) -> RuYear:
    """A year no decree is known for, from the law alone: pure, the same in every process."""
    days = {date(year, m, d): name for (m, d), name in _STATUTORY.items()}
    return RuYear(off=days, proper=frozenset(days), transferred=frozenset(), working_weekend={})


class CalendarSnapshot(Model):
    """A calendar frozen as data: the config, the zone and the production calendar years."""

    config: CalendarConfig
    zone: str
    years: dict[int, RuYear]


@dataclass(frozen=True)
class _Day:
    note: DayNote
    intervals: tuple[tuple[datetime, datetime], ...]  # UTC, ascending, non-overlapping


class WorkingCalendar:
    """Working time in one IANA zone under a CalendarConfig."""

    def __init__(
        self,
        config: CalendarConfig,
        zone: str | None = None,
        *,
        pinned: dict[int, RuYear] | None = None,
    ) -> None:
        self.config = config
        self.zone_name = _check_zone(zone) if zone is not None else config.default_zone
        self.zone = ZoneInfo(self.zone_name)
        self._extra_working = frozenset(config.extra_working_days)
        self._extra_off = frozenset(config.extra_days_off)
        self._days: dict[date, _Day] = {}
        self._pinned: dict[int, RuYear] = dict(pinned or {})
        self._frozen = pinned is not None
        if not self._frozen:
            for year in config.years:
                self._year(year)

    def _year(self, year: int) -> RuYear:
        pinned = self._pinned.get(year)
        if pinned is not None:
            return pinned
        if self._frozen:
            # Never ask `holidays` inside a workflow: what it says depends on the package and the
            # process's cache. A year the appeal did not pin follows the Labour Code alone.
            return _statutory_year(year)
        return _ru_year(year)

    def covers(self, day: date) -> bool:
        """True if `day` lies in a year of the production calendar this calendar pinned."""
        return not self._frozen or day.year in self._pinned

    def snapshot(self, years: list[int]) -> CalendarSnapshot:
        """Everything this calendar needs for `years`, as data that can be pinned."""
        return CalendarSnapshot(config=self.config, zone=self.zone_name, years={y: self._year(y) for y in years})

    @classmethod
    def from_snapshot(cls, snapshot: CalendarSnapshot) -> WorkingCalendar:
        return cls(snapshot.config, snapshot.zone, pinned=snapshot.years)

    def local_date(self, t: datetime) -> date:
        return self._local_date(t)

    @classmethod
    def for_municipality(cls, config: CalendarConfig, municipality: str | None) -> WorkingCalendar:
        return cls(config, config.zone_for(municipality))

    # --- days -------------------------------------------------------------------------------

    def _is_holiday_proper(self, d: date) -> bool:
        return d in self._year(d.year).proper and d not in self._extra_working

    def _classify(self, d: date) -> DayNote:
        ru = self._year(d.year)
        if d in self._extra_off:
            return DayNote(day=d, kind=DayKind.regional_day_off, detail="regional day off (override)")
        if d in self._extra_working:
            return DayNote(day=d, kind=DayKind.working, detail="working day (override)")
        if d in ru.off:
            # Not art. 112 itself: a decree's transfer or a weekend holiday observed on this day.
            kind = DayKind.holiday if d in ru.proper else DayKind.transferred_day_off
            return DayNote(day=d, kind=kind, detail=ru.off[d])
        if d in ru.working_weekend:
            return DayNote(day=d, kind=DayKind.working, detail=f"working day (swapped with {ru.working_weekend[d]})")
        if _WEEKDAYS[d.weekday()] in self.config.hours:
            return DayNote(day=d, kind=DayKind.working)
        return DayNote(day=d, kind=DayKind.weekend)

    def _hours_for(self, d: date) -> DayHours:
        hours = self.config.hours
        own = hours.get(_WEEKDAYS[d.weekday()])
        if own is not None:
            return own
        swapped = self._year(d.year).working_weekend.get(d)
        if swapped is not None and _WEEKDAYS[swapped.weekday()] in hours:
            return hours[_WEEKDAYS[swapped.weekday()]]
        return next(hours[w] for w in _WEEKDAYS if w in hours)

    def _is_shortened(self, d: date) -> bool:
        if self._is_holiday_proper(d + timedelta(days=1)):
            return True
        swapped = self._year(d.year).working_weekend.get(d)
        return (
            swapped is not None
            and d not in self._extra_working
            and self._is_holiday_proper(swapped + timedelta(days=1))
        )

    def _day(self, d: date) -> _Day:
        cached = self._days.get(d)
        if cached is not None:
            return cached
        note = self._classify(d)
        intervals: list[tuple[datetime, datetime]] = []
        if note.kind is DayKind.working:
            local = self._hours_for(d).local_intervals()
            if self.config.pre_holiday_shortening and self._is_shortened(d):
                note = note.model_copy(update={"shortened": True})
                local = _cut_end(d, local, self.config.pre_holiday_shortening)
            for start, end in local:
                s = datetime.combine(d, start, tzinfo=self.zone).astimezone(UTC)
                e = datetime.combine(d, end, tzinfo=self.zone).astimezone(UTC)
                if intervals:  # a DST gap can map a later local time to an earlier instant
                    s = max(s, intervals[-1][1])
                if s < e:
                    intervals.append((s, e))
        day = _Day(note=note, intervals=tuple(intervals))
        self._days[d] = day
        return day

    def day_note(self, d: date) -> DayNote:
        return self._day(d).note

    def is_working_day(self, d: date) -> bool:
        return bool(self._day(d).intervals)

    def working_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of a local date, as aware datetimes in the calendar's zone."""
        return [(s.astimezone(self.zone), e.astimezone(self.zone)) for s, e in self._day(d).intervals]

    # --- instants ---------------------------------------------------------------------------

    def _local_date(self, t: datetime) -> date:
        return t.astimezone(self.zone).date()

    def _intervals_from(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC) from the local day before `t` on, day by day, without end."""
        d = self._local_date(t) - timedelta(days=1)
        idle = 0
        while True:
            intervals = self._day(d).intervals
            idle = 0 if intervals else idle + 1
            if idle > _MAX_SEARCH_DAYS:
                raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days before {d}")
            yield from intervals
            d += timedelta(days=1)

    def next_working_moment(self, t: datetime) -> datetime:
        """`t` itself if it is working time, else the start of the next working interval (UTC)."""
        t = _utc(t)
        for s, e in self._intervals_from(t):
            if e > t:
                return max(s, t)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant after `duration` of working time counted from `start` (UTC).

        A start in non-working time counts from the next working moment. A result that
        falls exactly on the end of an interval stays there.
        """
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        t = _utc(start)
        remaining = duration
        for s, e in self._intervals_from(t):
            if e < t or (e == t and remaining):
                continue
            begin = max(s, t)
            available = e - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in [a, b]; negative when b is before a."""
        a, b = _utc(a), _utc(b)
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta(0)
        d = self._local_date(a) - timedelta(days=1)
        last = self._local_date(b) + timedelta(days=1)
        while d <= last:
            for s, e in self._day(d).intervals:
                lo, hi = max(s, a), min(e, b)
                if lo < hi:
                    total += hi - lo
            d += timedelta(days=1)
        return total

    def add_calendar_time(self, start: datetime, duration: timedelta) -> datetime:
        """Wall-clock addition; a result on a non-working day moves to the next working day's start.

        This is 59-ФЗ's "a deadline that falls on a non-working day moves to the next
        working day". Days are added in local wall-clock time, so 30 days from 10:00 end at
        10:00 local even across a DST switch. A result on a working day stays as it is.
        """
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        local = _utc(start).astimezone(self.zone).replace(tzinfo=None) + duration
        result = local.replace(tzinfo=self.zone).astimezone(UTC)
        d = local.date()
        if self.is_working_day(d):
            return result
        return self._first_working_day_after(d).intervals[0][0]

    def _first_working_day_after(self, d: date) -> _Day:
        for _ in range(_MAX_SEARCH_DAYS):
            d += timedelta(days=1)
            day = self._day(d)
            if day.intervals:
                return day
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {d}")

    # --- explanation ------------------------------------------------------------------------

    def explain(self, start: datetime, duration: timedelta, working: bool) -> Explanation:
        """The deadline and the days that moved it: skipped days and shortened days."""
        begin = _utc(start)
        deadline = self.add_working_time(begin, duration) if working else self.add_calendar_time(begin, duration)
        notes: list[DayNote] = []
        reasons: list[str] = []
        d, last = self._local_date(begin), self._local_date(deadline)
        plain = (begin.astimezone(self.zone).replace(tzinfo=None) + duration).date()
        if not working:
            d = plain  # wall-clock time runs through weekends; only the landing day can move it
        while d <= last:
            note = self._day(d).note
            if note.kind is not DayKind.working:
                notes.append(note)
                reasons.append(_describe(note))
            elif note.shortened and working:
                notes.append(note)
                hours = self.config.pre_holiday_shortening
                reasons.append(f"{d.isoformat()} shortened pre-holiday day (-{_fmt_td(hours)})")
            d += timedelta(days=1)
        if not working:
            if plain != last:
                reasons.append(
                    f"calendar deadline {plain.isoformat()} is a non-working day: "
                    f"moved to the next working day {last.isoformat()}"
                )
        mode = "working time" if working else "calendar time"
        local = deadline.astimezone(self.zone)
        reasons.append(f"deadline {local.isoformat()} ({self.zone_name}) after {_fmt_td(duration)} of {mode}")
        return Explanation(
            zone=self.zone_name,
            start=begin,
            duration=duration,
            working=working,
            deadline=deadline,
            deadline_local=local,
            days=notes,
            reasons=reasons,
        )


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {t.isoformat()}")
    return t.astimezone(UTC)


def _cut_end(d: date, local: list[tuple[time, time]], cut: timedelta) -> list[tuple[time, time]]:
    """Take `cut` off the end of a day's intervals, across lunch if it must."""
    result: list[tuple[time, time]] = []
    for start, end in reversed(local):
        s, e = datetime.combine(d, start), datetime.combine(d, end)
        if cut >= e - s:
            cut -= e - s
            continue
        result.append((start, (e - cut).time()))
        cut = timedelta(0)
    return list(reversed(result))


def _fmt_td(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes // 60}h{minutes % 60:02d}m"


def _describe(note: DayNote) -> str:
    day = note.day.isoformat()
    if note.kind is DayKind.weekend:
        return f"{day} weekend"
    if note.kind is DayKind.holiday:
        return f"{day} holiday: {note.detail}"
    if note.kind is DayKind.transferred_day_off:
        return f"{day} day off: {note.detail}"
    return f"{day} {note.detail}"
