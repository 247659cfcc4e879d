"""Ready-made list filters for the questions ЦУР operators ask most, for the Temporal UI and
`temporal workflow list --query`. Visibility queries cannot say "now", so the ones about
time are rendered with concrete instants (`appealctl.py filters` prints them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appeals.working_calendar import WorkingCalendar

OPEN = 'ExecutionStatus = "Running"'


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _literal(value: str, name: str) -> str:
    """`value` as a visibility-query string literal; quotes and control characters would break out of it."""
    if any(c in '"\\' or not c.isprintable() for c in value):
        raise ValueError(f"{name}: quotes, backslashes and control characters cannot go into a list filter")
    return value


def filters(now: datetime, calendar: WorkingCalendar, executor: str = "perm-roads@gorodperm.ru") -> dict[str, str]:
    executor = _literal(executor, "--executor")
    next_working_hour = calendar.add_working_time(now, timedelta(hours=1))
    return {
        "overdue now": f'{OPEN} AND (AckDeadline < "{_instant(now)}" AND AppealStatus = "awaiting_acknowledgment" '
        f'OR AnswerDeadline < "{_instant(now)}" AND AppealStatus IN ("in_progress", "rework"))',
        "breached at any time, still open": f"{OPEN} AND SlaBreached = true",
        "due within the next working hour": f'{OPEN} AND AnswerDeadline >= "{_instant(now)}" '
        f'AND AnswerDeadline < "{_instant(next_working_hour)}" AND AppealStatus IN ("in_progress", "rework")',
        "escalated to level 2 or higher": f"{OPEN} AND EscalationLevel >= 2",
        "waiting for the citizen": f'{OPEN} AND AppealStatus = "waiting_for_citizen"',
        "by executor": f'{OPEN} AND Executor = "{executor}"',
    }
