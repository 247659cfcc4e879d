"""The federal production calendar: art. 112 holidays and the government's transfers of days off.

They come from the `holidays` package (RU), which also lists the weekend days a transfer turns
into working days (`weekend_workdays`, e.g. Saturday 2027-02-20). Inside a workflow the package
is never asked: an appeal pins the years it needs (see CalendarSnapshot), and a year it did not
pin follows the Labour Code alone (`statutory_year`).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import holidays

from appeals.models import Model

_TRANSFER_RE = re.compile(r"перенесено с (\d{2})\.(\d{2})\.(\d{4})")


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
def ru_year(year: int) -> RuYear:
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
def statutory_year(year: int) -> RuYear:
    """A year no decree is known for, from the law alone: pure, the same in every process."""
    days = {date(year, m, d): name for (m, d), name in _STATUTORY.items()}
    return RuYear(off=days, proper=frozenset(days), transferred=frozenset(), working_weekend={})
