"""The calendar settings (config/calendar.toml): working hours, zones, municipalities and their regions.

Pure data: nothing here reads a file. A municipality is looked up by its name, forgiving case,
«ё», extra spaces and a leading «г.»; a name the table does not list is never silently taken for
Perm: `CalendarConfig.place` says what was assumed, and the plan carries that note.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from appeals.models import Model

DEFAULT_ZONE = "Asia/Yekaterinburg"
CALENDAR_FILE_NAME = "config/calendar.toml"
REGION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_CITY_PREFIX = re.compile(r"^(г\.|город\s)\s*")


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


WEEKDAYS = list(Weekday)


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
    return {day: _standard_day() for day in WEEKDAYS[:5]}


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


def check_region_id(value: str) -> str:
    if not REGION_ID.match(value):
        raise ValueError(f"region {value!r}: use the file name of config/regions/<name>.toml, e.g. 'tatarstan'")
    return value


def normalize(municipality: str) -> str:
    """The lookup key of a municipality: case, «ё», spacing and a leading «г.» do not matter."""
    key = " ".join(municipality.split()).casefold().replace("ё", "е")
    return _CITY_PREFIX.sub("", key)


class Municipality(Model):
    """Where a municipality is: its IANA zone and, if it has days off of its own, its region."""

    zone: str
    region: str | None = Field(None, description="config/regions/<region>.toml; none: the federal calendar")

    @field_validator("zone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("region")
    @classmethod
    def _region_id(cls, value: str | None) -> str | None:
        return None if value is None else check_region_id(value)


class Placement(Model):
    """A municipality as the calendar sees it, and what was assumed when the table did not list it."""

    municipality: str | None
    zone: str
    region: str | None = None
    known: bool = True
    assumed: str | None = None


class CalendarConfig(Model):
    """The working calendar settings (config/calendar.toml)."""

    default_zone: str = Field(DEFAULT_ZONE, description="IANA zone for municipalities not listed")
    municipalities: dict[str, Municipality] = Field(
        default_factory=dict, description="municipality → its zone and region"
    )
    municipality_zones: dict[str, str] = Field(
        default_factory=dict, description="municipality → IANA zone (the short form: the federal calendar)"
    )
    hours: dict[Weekday, DayHours] = Field(
        default_factory=_default_week,
        description="Working hours per weekday; a weekday not listed is a day off",
    )
    pre_holiday_shortening: timedelta = Field(
        timedelta(hours=1), description="Taken off the end of the day before a holiday (art. 95)"
    )
    extra_working_days: list[date] = Field(default_factory=list, description="Working days everywhere (override)")
    extra_days_off: list[date] = Field(default_factory=list, description="Days off everywhere (override)")
    years: list[int] = Field(default_factory=list, description="Years to preload; others load lazily")

    @field_validator("default_zone")
    @classmethod
    def _default_zone_exists(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("municipality_zones")
    @classmethod
    def _zones_exist(cls, value: dict[str, str]) -> dict[str, str]:
        for municipality, zone in value.items():
            try:
                check_zone(zone)
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
        seen: dict[str, str] = {}
        for name in [*self.municipalities, *self.municipality_zones]:
            key = normalize(name)
            if not key:
                raise ValueError("a municipality needs a name")
            if key in seen:
                raise ValueError(f"municipality {name!r} is listed twice (as {seen[key]!r} too)")
            seen[key] = name
        return self

    def _lookup(self, municipality: str) -> Municipality | None:
        key = normalize(municipality)
        for name, zone in self.municipality_zones.items():
            if normalize(name) == key:
                return Municipality(zone=zone)
        return next((m for name, m in self.municipalities.items() if normalize(name) == key), None)

    def regions(self) -> set[str]:
        """The regions the municipalities name: each must have its file in config/regions/."""
        return {m.region for m in self.municipalities.values() if m.region is not None}

    def place(self, municipality: str | None) -> Placement:
        """The zone and region of a municipality; for one not listed, the default, said out loud."""
        found = None if municipality is None else self._lookup(municipality)
        if found is not None:
            return Placement(municipality=municipality, zone=found.zone, region=found.region)
        if municipality is None or not municipality.strip():
            why = "no municipality given"
        else:
            why = f"municipality {municipality.strip()!r} is not in {CALENDAR_FILE_NAME}"
        return Placement(
            municipality=municipality,
            zone=self.default_zone,
            known=False,
            assumed=f"{why}: the default zone {self.default_zone} and the federal calendar are assumed",
        )

    def zone_for(self, municipality: str | None) -> str:
        """The IANA zone of a municipality; the default zone when it is not listed."""
        return self.place(municipality).zone
