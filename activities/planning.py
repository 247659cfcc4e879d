"""Planning: read the operator-edited policy and routing files and decide, once,
who handles an appeal and when each clock is due.

It runs as a local activity, so its result is recorded in the workflow history:
a replay reuses the recorded plan whatever the files say by then.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import activity

from appeals.calendar.config import REGION_ID as REGION_NAME
from appeals.records import AppealPlan, PlanRequest
from appeals.routing import RoutingTable, route
from appeals.sla import PolicySet
from appeals.working_calendar import CalendarConfig, Calendars, RegionCalendar

SLA_FILE = "sla.toml"
ROUTING_FILE = "routing.toml"
CALENDAR_FILE = "calendar.toml"
REGIONS_DIR = "regions"  # config/regions/<region>.toml: a republic's own days off
# Years of the production calendar each appeal pins: enough for a 59-ФЗ appeal with its
# extension and an honest deadline a year ahead.
PINNED_YEARS = 2  # the year the clocks start in and the next: deadlines never reach back

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """An operator-edited file is missing or invalid; the message says where."""


@lru_cache(maxsize=64)
def _parse(model: type[M], raw: bytes) -> M:
    """Parsing and validating is the costly part; the same bytes always give the same model."""
    return model.model_validate(tomllib.loads(raw.decode("utf-8")))


def load(path: Path, model: type[M]) -> tuple[M, str]:
    """Parse and validate a TOML file; returns the model and a short content hash.

    The file is read every time, so an operator's edit counts at once; only unchanged
    content skips the parsing (every appeal's plan reads the files).
    """
    try:
        raw = path.read_bytes()
        parsed = _parse(model, raw)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (set APPEALS_CONFIG_DIR?)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"{path}: {problems}") from None
    return parsed, hashlib.sha256(raw).hexdigest()[:12]


def load_calendars(config_dir: Path) -> tuple[Calendars, str, str]:
    """calendar.toml and every region file: the calendars, and the versions of both.

    Every file in config/regions/ is validated, used or not, so a broken one fails the worker's
    check; a region a municipality names must have its file. The second version is "-" when
    there are no region files.
    """
    config, calendar_version = load(config_dir / CALENDAR_FILE, CalendarConfig)
    folder = config_dir / REGIONS_DIR
    names = {path.stem for path in folder.glob("*.toml")} | config.regions()
    regions: dict[str, RegionCalendar] = {}
    digest = hashlib.sha256()
    for name in sorted(names):
        path = folder / f"{name}.toml"
        if not REGION_NAME.match(name):
            raise ConfigError(f"{path}: name a region file like tatarstan.toml (a-z, 0-9, _ and -)")
        if not path.is_file():
            users = [m for m, where in config.municipalities.items() if where.region == name]
            raise ConfigError(f"{path}: file not found; {config_dir / CALENDAR_FILE} puts {', '.join(users)} there")
        regions[name], version = load(path, RegionCalendar)
        digest.update(f"{name}:{version};".encode())
    return Calendars(config, regions), calendar_version, digest.hexdigest()[:12] if regions else "-"


class PlanningActivities:
    def __init__(self, config_dir: Path) -> None:
        self._config_dir = config_dir

    def check(self) -> str:
        """Validate every file now, so a worker never starts on a broken config."""
        return self.load_all()[3]

    def load_all(self) -> tuple[PolicySet, RoutingTable, Calendars, str]:
        policies, sla_version = load(self._config_dir / SLA_FILE, PolicySet)
        table, routing_version = load(self._config_dir / ROUTING_FILE, RoutingTable)
        calendars, calendar_version, regions_version = load_calendars(self._config_dir)
        version = f"sla:{sla_version} routing:{routing_version} calendar:{calendar_version} regions:{regions_version}"
        return policies, table, calendars, version

    @activity.defn
    async def plan_appeal(self, request: PlanRequest) -> AppealPlan:
        policies, table, calendars, version = self.load_all()
        appeal = request.appeal
        calendar = calendars.for_municipality(appeal.municipality)
        now = request.now or appeal.received_at
        first, last = min(appeal.received_at, now).year, max(appeal.received_at, now).year + PINNED_YEARS - 1
        return AppealPlan(
            route=route(table, appeal),
            policy=policies.select(appeal),
            policy_version=version,
            calendar=calendar.snapshot(list(range(first, last + 1))),
        )
