"""A region's own days off: its holidays, its transfers, and what its law does with a weekend holiday.

Republics set non-working holidays of their own (Labour Code art. 6 and 112), and their eves are
shortened like any other (art. 95). The `holidays` package knows none of them, so each region is a
file the project keeps, config/regions/<region>.toml, validated by `RegionCalendar`:

- `annual`: holidays on the same day every year, by the republic's law (День Республики);
- `holidays`: one year's holiday fixed by a decree (Ураза-байрам, Курбан-байрам);
- `days_off` / `working_days`: one year's transfers by decree (no shortened eve for those);
- `weekend_holidays_move`: whether the law moves a holiday that falls on a weekend to the next
  working day (Bashkortostan: yes; Tatarstan since 2016: no).

Every entry names its source. An appeal pins its region with the years it pins (`for_years`): a
decree added later applies to new appeals and to re-pinned ones, never to an appeal in flight.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import Field, field_validator, model_validator

from appeals.models import Model

_ONE_DAY = dt.timedelta(days=1)
# No run of rest days is this long: a move that finds no working day within it is a broken file.
_MAX_MOVE_DAYS = 40


class RegionalDay(Model):
    """One dated day of one year, with the decree or law it comes from."""

    date: dt.date
    name: str = Field(min_length=1)
    source: str = Field(min_length=1, description="the decree or law, e.g. «Указ Раиса РТ от … № …»")


class RegionalWorkingDay(RegionalDay):
    """A weekend day a regional transfer makes working; it works the hours of `instead_of`'s weekday."""

    instead_of: dt.date | None = None


class AnnualHoliday(Model):
    """A holiday on the same day of every year, set by the republic's law."""

    day: str = Field(description='"MM-DD", e.g. "08-30"')
    name: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @field_validator("day")
    @classmethod
    def _real_day(cls, value: str) -> str:
        try:
            month, day = (int(part) for part in value.split("-"))
            dt.date(2001, month, day)  # not a leap year: 02-29 is refused, it is not "every year"
        except ValueError:
            raise ValueError(f'{value!r} is not a day of every year, like "08-30"') from None
        return f"{month:02d}-{day:02d}"

    def on(self, year: int) -> dt.date:
        month, day = (int(part) for part in self.day.split("-"))
        return dt.date(year, month, day)


class RegionCalendar(Model):
    """A region's days off (config/regions/<region>.toml)."""

    name: str = Field(min_length=1, description="shown in explanations, e.g. «Татарстан»")
    weekend_holidays_move: bool = Field(
        False, description="a holiday on a weekend moves the day off to the next working day"
    )
    annual: list[AnnualHoliday] = Field(default_factory=list)
    holidays: list[RegionalDay] = Field(default_factory=list)
    days_off: list[RegionalDay] = Field(default_factory=list)
    working_days: list[RegionalWorkingDay] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> RegionCalendar:
        annual = [a.day for a in self.annual]
        twice = sorted({d for d in annual if annual.count(d) > 1})
        if twice:
            raise ValueError(f"annual lists {', '.join(twice)} more than once")
        seen: dict[dt.date, str] = {}
        for kind, days in (("holidays", self.holidays), ("days_off", self.days_off)):
            for entry in days:
                self._once(seen, entry.date, kind)
        for entry in self.working_days:
            self._once(seen, entry.date, "working_days")
            if entry.date.strftime("%m-%d") in annual:
                raise ValueError(f"working_days: {entry.date} is an annual holiday")
        for entry in self.holidays:
            if entry.date.strftime("%m-%d") in annual:
                raise ValueError(f"holidays: {entry.date} is already an annual holiday")
        return self

    @staticmethod
    def _once(seen: dict[dt.date, str], day: dt.date, kind: str) -> None:
        if day in seen:
            raise ValueError(f"{day} is listed twice ({seen[day]} and {kind})")
        seen[day] = kind

    def for_years(self, years: Iterable[int]) -> RegionCalendar:
        """What an appeal pins: the law's annual days and the decrees of `years` only."""
        keep = set(years)
        return self.model_copy(
            update={
                "holidays": [d for d in self.holidays if d.date.year in keep],
                "days_off": [d for d in self.days_off if d.date.year in keep],
                "working_days": [d for d in self.working_days if d.date.year in keep],
            }
        )

    def holidays_in(self, year: int) -> dict[dt.date, str]:
        """The region's non-working holidays in `year` (their eves are shortened)."""
        found = {a.on(year): a.name for a in self.annual}
        found.update({d.date: d.name for d in self.holidays if d.date.year == year})
        return found

    def year(self, year: int, federal_rest: Callable[[dt.date], bool]) -> RegionYear:
        """The region's days in `year`, given which days are rest days by the federal calendar.

        A moved day off of a holiday late in `year` may land in the next year; it is listed here.
        """
        holidays = self.holidays_in(year)
        taken = set(holidays) | set(self.holidays_in(year + 1))
        working = {d.date: d.instead_of for d in self.working_days if d.date.year in (year, year + 1)}
        listed = {d.date: d.name for d in self.days_off if d.date.year in (year, year + 1)}

        def rest(day: dt.date) -> bool:
            return day not in working and (day in listed or federal_rest(day))

        moved: dict[dt.date, str] = {}
        if self.weekend_holidays_move:
            for day, name in sorted(holidays.items()):
                if day.weekday() < 5 or day in working:
                    continue
                target = day + _ONE_DAY
                while rest(target) or target in taken or target in moved:
                    target += _ONE_DAY
                    if target - day > dt.timedelta(days=_MAX_MOVE_DAYS):
                        raise ValueError(f"{self.name}: no working day to move {day} ({name}) to")
                moved[target] = f"{name} (перенесено с {day:%d.%m.%Y})"
        days_off = {d: n for d, n in listed.items() if d.year == year}
        days_off.update(moved)
        return RegionYear(
            holidays=holidays,
            days_off=days_off,
            working={d: i for d, i in working.items() if d.year == year},
        )


@dataclass(frozen=True)
class RegionYear:
    """One year of a region, as the working calendar consults it."""

    holidays: dict[dt.date, str] = field(default_factory=dict)  # art. 95: their eves are shortened
    days_off: dict[dt.date, str] = field(default_factory=dict)  # transfers and moved weekend holidays
    working: dict[dt.date, dt.date | None] = field(default_factory=dict)  # made working → instead_of
