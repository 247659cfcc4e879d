"""The working-day calendar: the public names of `appeals.calendar`, where the code lives.

Many modules import from here; keep every name they use.
"""

from __future__ import annotations

from appeals.calendar.config import (
    DEFAULT_ZONE,
    CalendarConfig,
    DayHours,
    Municipality,
    Placement,
    Weekday,
    normalize,
)
from appeals.calendar.notes import DayKind, DayNote, Explanation
from appeals.calendar.production import RuYear, ru_year, statutory_year
from appeals.calendar.regions import AnnualHoliday, RegionalDay, RegionalWorkingDay, RegionCalendar, RegionYear
from appeals.calendar.working import Calendars, CalendarSnapshot, WorkingCalendar

__all__ = [
    "DEFAULT_ZONE",
    "AnnualHoliday",
    "CalendarConfig",
    "CalendarSnapshot",
    "Calendars",
    "DayHours",
    "DayKind",
    "DayNote",
    "Explanation",
    "Municipality",
    "Placement",
    "RegionCalendar",
    "RegionYear",
    "RegionalDay",
    "RegionalWorkingDay",
    "RuYear",
    "Weekday",
    "WorkingCalendar",
    "normalize",
    "ru_year",
    "statutory_year",
]
