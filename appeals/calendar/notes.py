"""What the calendar says about a day, and why a deadline is where it is."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, Field

from appeals.models import Model


class DayKind(StrEnum):
    working = "working"
    weekend = "weekend"
    holiday = "holiday"
    transferred_day_off = "transferred_day_off"
    regional_day_off = "regional_day_off"
    regional_holiday = "regional_holiday"


class DayNote(Model):
    day: date
    kind: DayKind
    detail: str = ""
    shortened: bool = False
    eve_of: str = Field("", description="A shortened day: the holiday it is the eve of")


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
    municipality: str | None = None
    region: str | None = Field(None, description="The region whose own days off count; none: federal only")
    assumed: str | None = Field(None, description="Set when the municipality is unknown: what was assumed")


def fmt_td(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes // 60}h{minutes % 60:02d}m"


def describe(note: DayNote, shortening: timedelta) -> str:
    day = note.day.isoformat()
    if note.kind is DayKind.working:
        eve = f": eve of {note.eve_of}" if note.eve_of else ""
        return f"{day} shortened pre-holiday day (-{fmt_td(shortening)}){eve}"
    if note.kind is DayKind.weekend:
        return f"{day} weekend"
    if note.kind is DayKind.holiday:
        return f"{day} holiday: {note.detail}"
    if note.kind is DayKind.regional_holiday:
        return f"{day} regional holiday: {note.detail}"
    if note.kind is DayKind.transferred_day_off:
        return f"{day} day off: {note.detail}"
    return f"{day} {note.detail}"
