""" "When is this due?" — the operator's question, answered with the reasoning.

Uses the same files, calendar and clock arithmetic as the workflow, so the answer
is the deadline an appeal started at that instant would get.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from activities.planning import SLA_FILE, load, load_calendars
from appeals import clocks
from appeals.calendar.explain import explain as explain_deadline
from appeals.durations import Duration
from appeals.sla import PolicySet
from appeals.working_calendar import Explanation, WorkingCalendar

CLOCKS = ("acknowledge", "answer", "final_after_interim", "redirect", "rework", "feedback_window")
LONGEST = timedelta(days=3660)  # ten years: no SLA clock is longer, and the calendar stays fast
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def check_duration(duration: Duration) -> Duration:
    """Refuse a duration no clock can have (a typo such as 99999999 days), before any arithmetic."""
    if duration.amount * _SECONDS.get(duration.scale, 86400) > LONGEST.total_seconds():
        raise ValueError(f"{duration} is too long: at most {LONGEST.days} days")
    return duration


def duration_of(config_dir: Path, policy: str, clock: str) -> Duration:
    policies, _ = load(config_dir / SLA_FILE, PolicySet)
    chosen = policies.named(policy)
    if clock not in CLOCKS:
        raise KeyError(f"unknown clock {clock!r}; choose one of {', '.join(CLOCKS)}")
    duration = getattr(chosen, clock)
    if duration is None:
        raise KeyError(f"policy {policy} has no {clock} clock")
    return duration  # type: ignore[no-any-return]


def calendar_for(config_dir: Path, municipality: str | None) -> WorkingCalendar:
    """The municipality's calendar (zone and region), as a new appeal would pin it."""
    calendars, _, _ = load_calendars(config_dir)
    return calendars.for_municipality(municipality)


def explain(config_dir: Path, start: datetime, duration: Duration, municipality: str | None) -> Explanation:
    calendar = calendar_for(config_dir, municipality)
    check_duration(duration)
    try:
        kind, amount = clocks.allowance(calendar, start, duration)
        explanation = explain_deadline(calendar, start, amount, working=kind == "working")
    except OverflowError:
        raise ValueError(f"{duration} from {start.isoformat()} ends beyond the dates a calendar can hold") from None
    if duration.whole_working_days is not None:
        explanation.reasons.insert(
            1 if explanation.assumed else 0,  # what was assumed stays the first thing said
            f"{duration}: to the end of the {duration.whole_working_days}th working day after "
            f"{calendar.local_date(start).isoformat()}: {amount.total_seconds() / 3600:g} working hours",
        )
    return explanation
