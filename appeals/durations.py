"""SLA durations as operators write them: "8 working hours", "7 working days",
"30 calendar days", "90 minutes".

Working time is counted on the working calendar; calendar time is wall-clock time
(and a calendar deadline that lands on a non-working day moves to the next
working day, as the law says).
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import model_serializer, model_validator

from appeals.models import Model

_PATTERN = re.compile(
    r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<kind>working|calendar)?\s*"
    r"(?P<scale>minutes?|hours?|days?)\s*$"
)
_SCALES = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


class Kind(StrEnum):
    working = "working"
    calendar = "calendar"


class Duration(Model):
    """`amount` `scale`s of `kind` time; written and read as one string."""

    amount: float
    kind: Kind
    scale: str  # minute | hour | day

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        found = _PATTERN.match(value)
        forms = "write e.g. '8 working hours', '7 working days', '30 calendar days' or '90 minutes'"
        if not found:
            raise ValueError(f"{value!r} is not a duration: {forms}")
        amount = float(found["amount"])
        if amount <= 0:
            raise ValueError(f"{value!r}: a duration must be positive; {forms}")
        if found["kind"] == "working" and found["scale"].startswith("day") and not amount.is_integer():
            raise ValueError(f"{value!r}: working days are whole days; use working hours for parts")
        return {
            "amount": amount,
            # Minutes and hours without a kind are wall-clock; days too.
            "kind": found["kind"] or Kind.calendar,
            "scale": found["scale"].rstrip("s"),
        }

    @model_serializer
    def _text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount.is_integer() else self.amount
        plural = "" if amount == 1 else "s"
        return f"{amount} {self.kind} {self.scale}{plural}"

    @property
    def is_working(self) -> bool:
        return self.kind == Kind.working

    @property
    def whole_working_days(self) -> int | None:
        """N for "N working days", counted as days on the calendar, not as 24-hour blocks."""
        if self.is_working and self.scale == "day":
            return int(self.amount)
        return None

    @property
    def length(self) -> timedelta:
        """The amount as time: working time for working hours/minutes, wall time otherwise."""
        return self.amount * _SCALES[self.scale]
