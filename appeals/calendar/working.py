"""Working time in one zone: the federal calendar, the municipality's region, and the overrides.

Rules implemented:
- a day is non-working if it is in `extra_days_off`, or is a regional holiday or regional day off
  (unless a regional transfer or `extra_working_days` makes it working), or is a holiday /
  transferred day off / observed holiday in the federal calendar (unless listed in
  `extra_working_days`), or has no hours in the weekly schedule (unless a transfer makes it working);
- a working day that immediately precedes a non-working holiday, federal (art. 112) or regional,
  is shorter by `pre_holiday_shortening`, taken off the end of the day (art. 95). A working
  weekend day produced by a federal transfer is shortened when the day it was swapped with
  precedes such a holiday (Saturday 2025-11-01 → Monday 2025-11-03 before 4 November;
  Saturday 2027-02-20 → Monday 2027-02-22 before 23 February). The day before a transferred
  day off (2026-12-30, before 2026-12-31) is not shortened;
- a working weekend day uses the hours of the weekday it was swapped with, or else the first
  weekday of the schedule.

All arithmetic runs on UTC instants, so DST zones work; results are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appeals.calendar.config import WEEKDAYS, CalendarConfig, DayHours, Placement, check_zone
from appeals.calendar.notes import DayKind, DayNote
from appeals.calendar.production import RuYear, ru_year, statutory_year
from appeals.calendar.regions import RegionCalendar, RegionYear
from appeals.models import Model

# No schedule has a year without a single working day; stop looking after this many days.
_MAX_SEARCH_DAYS = 3 * 366
_ONE_DAY = timedelta(days=1)


class CalendarSnapshot(Model):
    """A calendar frozen as data: the config, the zone, the production calendar years, the region.

    The fields after `years` came with regional calendars; a snapshot recorded before has none of
    them and is the federal calendar it always was.
    """

    config: CalendarConfig
    zone: str
    years: dict[int, RuYear]
    municipality: str | None = None
    region: RegionCalendar | None = None
    assumed: str | None = None

    @property
    def municipality_known(self) -> bool:
        return self.assumed is None


@dataclass(frozen=True)
class _Day:
    note: DayNote
    intervals: tuple[tuple[datetime, datetime], ...]  # UTC, ascending, non-overlapping


class WorkingCalendar:
    """Working time in one IANA zone under a CalendarConfig, with a region's own days if any."""

    def __init__(
        self,
        config: CalendarConfig,
        zone: str | None = None,
        *,
        pinned: dict[int, RuYear] | None = None,
        region: RegionCalendar | None = None,
        municipality: str | None = None,
        assumed: str | None = None,
    ) -> None:
        self.config = config
        self.zone_name = check_zone(zone) if zone is not None else config.default_zone
        self.zone = ZoneInfo(self.zone_name)
        self.region = region
        self.municipality = municipality
        self.assumed = assumed
        self._extra_working = frozenset(config.extra_working_days)
        self._extra_off = frozenset(config.extra_days_off)
        self._days: dict[date, _Day] = {}
        self._regional: dict[int, RegionYear] = {}
        self._pinned: dict[int, RuYear] = dict(pinned or {})
        self._frozen = pinned is not None
        if not self._frozen:
            for year in config.years:
                self._year(year)

    @classmethod
    def for_municipality(
        cls,
        config: CalendarConfig,
        municipality: str | None,
        regions: Mapping[str, RegionCalendar] | None = None,
    ) -> WorkingCalendar:
        """The calendar of a municipality: its zone and its region; an unknown one says what it assumed."""
        return Calendars(config, dict(regions or {})).for_municipality(municipality)

    def _year(self, year: int) -> RuYear:
        pinned = self._pinned.get(year)
        if pinned is not None:
            return pinned
        if self._frozen:
            # Never ask `holidays` inside a workflow: what it says depends on the package and the
            # process's cache. A year the appeal did not pin follows the Labour Code alone.
            return statutory_year(year)
        return ru_year(year)

    def _region_year(self, year: int) -> RegionYear:
        cached = self._regional.get(year)
        if cached is None:
            cached = RegionYear() if self.region is None else self.region.year(year, self._federal_rest)
            self._regional[year] = cached
        return cached

    def _federal_rest(self, d: date) -> bool:
        ru = self._year(d.year)
        return d in ru.off or (d.weekday() >= 5 and d not in ru.working_weekend)

    def covers(self, day: date) -> bool:
        """True if `day` lies in a year of the production calendar this calendar pinned."""
        return not self._frozen or day.year in self._pinned

    def snapshot(self, years: list[int]) -> CalendarSnapshot:
        """Everything this calendar needs for `years`, as data that can be pinned."""
        # The zone is resolved already: the municipality table stays out of every appeal's history.
        config = self.config.model_copy(update={"municipalities": {}, "municipality_zones": {}})
        return CalendarSnapshot(
            config=config,
            zone=self.zone_name,
            years={y: self._year(y) for y in years},
            municipality=self.municipality,
            region=None if self.region is None else self.region.for_years(years),
            assumed=self.assumed,
        )

    @classmethod
    def from_snapshot(cls, snapshot: CalendarSnapshot) -> WorkingCalendar:
        return cls(
            snapshot.config,
            snapshot.zone,
            pinned=snapshot.years,
            region=snapshot.region,
            municipality=snapshot.municipality,
            assumed=snapshot.assumed,
        )

    def local_date(self, t: datetime) -> date:
        return self._local_date(t)

    # --- days -------------------------------------------------------------------------------

    def _regional_off(self, d: date) -> str | None:
        return self._region_year(d.year).days_off.get(d) or self._region_year(d.year - 1).days_off.get(d)

    def _made_working(self, d: date) -> bool:
        return d in self._extra_working or d in self._region_year(d.year).working

    def _holiday_name(self, d: date) -> str | None:
        """The name of a non-working holiday proper (federal or regional) on `d`, if `d` is one."""
        if self._made_working(d):
            return None
        regional = self._region_year(d.year).holidays.get(d)
        if regional is not None:
            return self._regional_name(regional)
        ru = self._year(d.year)
        return ru.off.get(d, "праздник") if d in ru.proper else None

    def _regional_name(self, name: str) -> str:
        assert self.region is not None
        return f"{name} ({self.region.name})"

    def _classify(self, d: date) -> DayNote:
        ru = self._year(d.year)
        region = self._region_year(d.year)
        if d in self._extra_off:
            return DayNote(day=d, kind=DayKind.regional_day_off, detail="regional day off (override)")
        if d in self._extra_working:
            return DayNote(day=d, kind=DayKind.working, detail="working day (override)")
        if d in region.working:
            return DayNote(day=d, kind=DayKind.working, detail="working day (regional transfer)")
        if d in region.holidays:
            return DayNote(day=d, kind=DayKind.regional_holiday, detail=self._regional_name(region.holidays[d]))
        moved = self._regional_off(d)
        if moved is not None:
            detail = f"regional day off: {self._regional_name(moved)}"
            return DayNote(day=d, kind=DayKind.regional_day_off, detail=detail)
        if d in ru.off:
            # Not art. 112 itself: a decree's transfer or a weekend holiday observed on this day.
            kind = DayKind.holiday if d in ru.proper else DayKind.transferred_day_off
            return DayNote(day=d, kind=kind, detail=ru.off[d])
        if d in ru.working_weekend:
            return DayNote(day=d, kind=DayKind.working, detail=f"working day (swapped with {ru.working_weekend[d]})")
        if WEEKDAYS[d.weekday()] in self.config.hours:
            return DayNote(day=d, kind=DayKind.working)
        return DayNote(day=d, kind=DayKind.weekend)

    def _hours_for(self, d: date) -> DayHours:
        hours = self.config.hours
        own = hours.get(WEEKDAYS[d.weekday()])
        if own is not None:
            return own
        swapped = self._year(d.year).working_weekend.get(d) or self._region_year(d.year).working.get(d)
        if swapped is not None and WEEKDAYS[swapped.weekday()] in hours:
            return hours[WEEKDAYS[swapped.weekday()]]
        return next(hours[w] for w in WEEKDAYS if w in hours)

    def _eve_of(self, d: date) -> str | None:
        """The holiday `d` is the eve of (art. 95), or None."""
        name = self._holiday_name(d + _ONE_DAY)
        if name is not None:
            return name
        swapped = self._year(d.year).working_weekend.get(d)
        if swapped is not None and d not in self._extra_working:
            return self._holiday_name(swapped + _ONE_DAY)
        return None

    def _day(self, d: date) -> _Day:
        cached = self._days.get(d)
        if cached is not None:
            return cached
        note = self._classify(d)
        intervals: list[tuple[datetime, datetime]] = []
        if note.kind is DayKind.working:
            local = self._hours_for(d).local_intervals()
            eve = self._eve_of(d) if self.config.pre_holiday_shortening else None
            if eve is not None:
                note = note.model_copy(update={"shortened": True, "eve_of": eve})
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
        d = self._local_date(t) - _ONE_DAY
        idle = 0
        while True:
            intervals = self._day(d).intervals
            idle = 0 if intervals else idle + 1
            if idle > _MAX_SEARCH_DAYS:
                raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days before {d}")
            yield from intervals
            d += _ONE_DAY

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
        d = self._local_date(a) - _ONE_DAY
        last = self._local_date(b) + _ONE_DAY
        while d <= last:
            for s, e in self._day(d).intervals:
                lo, hi = max(s, a), min(e, b)
                if lo < hi:
                    total += hi - lo
            d += _ONE_DAY
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
            d += _ONE_DAY
            day = self._day(d)
            if day.intervals:
                return day
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {d}")


@dataclass(frozen=True)
class Calendars:
    """The calendar settings and the regions' files: every municipality's working calendar."""

    config: CalendarConfig
    regions: dict[str, RegionCalendar] = field(default_factory=dict)

    def place(self, municipality: str | None) -> Placement:
        return self.config.place(municipality)

    def for_municipality(self, municipality: str | None) -> WorkingCalendar:
        placement = self.place(municipality)
        region = None
        if placement.region is not None:
            region = self.regions.get(placement.region)
            if region is None:
                raise ValueError(
                    f"municipality {municipality!r} is in region {placement.region!r}, "
                    f"whose file config/regions/{placement.region}.toml was not loaded"
                )
        return WorkingCalendar(
            self.config, placement.zone, region=region, municipality=municipality, assumed=placement.assumed
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
