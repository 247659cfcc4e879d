"""Every region's calendar: a republic's own holidays, their shortened eves, moved weekend holidays,
the unknown municipality said out loud, and the region pinned with each appeal.

Hand-checked against:
- Tatarstan 2026: Закон РТ от 19.02.1992 № 1448-XII (30 August, 6 November; since 2016 a holiday
  on a weekend moves nothing), the Раис's decree of January 2026 (Ураза-байрам 20 March,
  Курбан-байрам 27 May), and Минтруд РТ's production calendar for 2026: 244 working days, shortened
  19.03, 30.04, 08.05, 26.05, 11.06, 03.11 and 05.11;
- Bashkortostan 2026: Закон РБ от 27.02.1992 № ВС-10/21 (11 October; a weekend holiday moves the day
  off to the next working day) and the Government's resolution for 2026 (20 March, 27 May); the
  republic's production calendar: 244 working days, 10–12 October off, 24 December (День
  Конституции РБ, a commemorative day) working.
Default hours: Mon–Fri 09:00–18:00, lunch 13:00–14:00. Kazan is on UTC+3, Perm and Ufa on UTC+5.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from pydantic import ValidationError
from temporalio.testing import ActivityEnvironment

from activities.planning import ConfigError, PlanningActivities, load_calendars
from activities.storage import StorageActivities
from appeals.calendar.explain import explain as explain_deadline
from appeals.durations import Duration
from appeals.models import AppealInput, AppealStatus
from appeals.records import AppealEvent, AppealPlan, PlanRequest, Projection
from appeals.working_calendar import (
    CalendarConfig,
    CalendarSnapshot,
    DayKind,
    RegionCalendar,
    WorkingCalendar,
)
from tools import deadlines

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
MSK = ZoneInfo("Europe/Moscow")
YEKT = ZoneInfo("Asia/Yekaterinburg")
CALENDARS, _, _ = load_calendars(CONFIG_DIR)
KAZAN = CALENDARS.for_municipality("Казань")
UFA = CALENDARS.for_municipality("Уфа")
PERM = CALENDARS.for_municipality("Пермь")
EIGHT_HOURS = timedelta(hours=8)


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def appeal(municipality: str | None, **overrides: Any) -> AppealInput:
    fields: dict[str, Any] = {
        "channel": "vk",
        "external_id": f"post-{uuid.uuid4().hex[:10]}",
        "text": "Яма на дороге у школы № 5.",
        "author": {"handle": "id1"},
        "received_at": datetime(2026, 3, 19, 14, tzinfo=MSK),
        "municipality": municipality,
    }
    fields.update(overrides)
    return AppealInput.model_validate(fields)


def appealctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "appealctl.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )


# --- Kazan across Ураза-байрам, and the same instant in Perm ---------------------------------


def test_a_kazan_deadline_skips_uraza_bayram_and_its_shortened_eve():
    start = datetime(2026, 3, 19, 11, tzinfo=UTC)  # Thursday: 14:00 in Kazan, 16:00 in Perm
    # Kazan: the eve ends at 17:00 (3 h), 20 March is Ураза-байрам, then the weekend; Monday 09:00–13:00
    # gives 4 h and 14:00–15:00 the last one.
    assert KAZAN.add_working_time(start, EIGHT_HOURS) == datetime(2026, 3, 23, 15, tzinfo=MSK)
    assert KAZAN.working_intervals(date(2026, 3, 19))[-1][1] == datetime(2026, 3, 19, 17, tzinfo=MSK)
    assert not KAZAN.is_working_day(date(2026, 3, 20))
    # Perm: a plain Thursday until 18:00 (2 h) and a plain Friday (6 h).
    assert PERM.add_working_time(start, EIGHT_HOURS) == datetime(2026, 3, 20, 16, tzinfo=YEKT)
    assert PERM.working_intervals(date(2026, 3, 19))[-1][1] == datetime(2026, 3, 19, 18, tzinfo=YEKT)
    # The 59-ФЗ count: 30 calendar days landing on 20 March move to Monday in Kazan only.
    month_before = datetime(2026, 2, 18, 7, tzinfo=UTC)
    assert KAZAN.add_calendar_time(month_before, timedelta(days=30)) == datetime(2026, 3, 23, 9, tzinfo=MSK)
    assert PERM.add_calendar_time(month_before, timedelta(days=30)) == datetime(2026, 3, 20, 12, tzinfo=YEKT)


def test_the_kazan_explanation_names_the_regional_holiday_and_the_eve():
    explanation = explain_deadline(KAZAN, datetime(2026, 3, 19, 11, tzinfo=UTC), EIGHT_HOURS, working=True)
    assert explanation.region == "Татарстан" and explanation.assumed is None
    assert explanation.reasons == [
        "2026-03-19 shortened pre-holiday day (-1h): eve of Ураза-байрам (Татарстан)",
        "2026-03-20 regional holiday: Ураза-байрам (Татарстан)",
        "2026-03-21 weekend",
        "2026-03-22 weekend",
        "deadline 2026-03-23T15:00:00+03:00 (Europe/Moscow) after 8h of working time",
    ]
    assert [d.kind for d in explanation.days][:2] == [DayKind.working, DayKind.regional_holiday]


def test_tatarstan_2026_matches_the_republics_production_calendar():
    year = days_of(2026)
    assert sum(KAZAN.is_working_day(d) for d in year) == 244
    assert sum(PERM.is_working_day(d) for d in year) == 247
    shortened = [d for d in year if KAZAN.day_note(d).shortened]
    assert shortened == [
        date(2026, 3, 19),
        date(2026, 4, 30),
        date(2026, 5, 8),
        date(2026, 5, 26),
        date(2026, 6, 11),
        date(2026, 11, 3),
        date(2026, 11, 5),
    ]
    assert KAZAN.day_note(date(2026, 11, 5)).eve_of == "День Конституции Республики Татарстан (Татарстан)"
    # День Республики on Sunday 30 August gives no extra day, and Friday 28 August is a full day.
    assert KAZAN.day_note(date(2026, 8, 30)).kind is DayKind.regional_holiday
    assert KAZAN.is_working_day(date(2026, 8, 31))
    assert not KAZAN.day_note(date(2026, 8, 28)).shortened


# --- Bashkortostan ------------------------------------------------------------------------------


def test_bashkortostan_moves_its_sunday_holiday_to_monday():
    friday = datetime(2026, 10, 9, 17, tzinfo=YEKT)  # not shortened: Saturday is no holiday
    explanation = explain_deadline(UFA, friday, timedelta(hours=2), working=True)
    # 1 h on Friday; 11 October is a Sunday, so Monday 12 October is off; 1 h on Tuesday.
    assert explanation.deadline == datetime(2026, 10, 13, 10, tzinfo=YEKT)
    assert "2026-10-11 regional holiday: День Республики Башкортостан (Башкортостан)" in explanation.reasons
    assert (
        "2026-10-12 regional day off: День Республики Башкортостан (перенесено с 11.10.2026) (Башкортостан)"
        in explanation.reasons
    )
    assert PERM.add_working_time(friday, timedelta(hours=2)) == datetime(2026, 10, 12, 10, tzinfo=YEKT)


def test_bashkortostan_2026_matches_the_republics_production_calendar():
    year = days_of(2026)
    assert sum(UFA.is_working_day(d) for d in year) == 244
    assert [d for d in year if UFA.day_note(d).shortened] == [
        date(2026, 3, 19),
        date(2026, 4, 30),
        date(2026, 5, 8),
        date(2026, 5, 26),
        date(2026, 6, 11),
        date(2026, 11, 3),
    ]
    assert UFA.day_note(date(2026, 5, 27)).detail == "Курбан-байрам (Башкортостан)"
    # День Конституции РБ is a commemorative day, not a day off: 23 and 24 December are full days.
    assert UFA.is_working_day(date(2026, 12, 24)) and not UFA.day_note(date(2026, 12, 23)).shortened


def test_a_regional_holiday_on_a_weekend_moves_only_where_the_law_says_so():
    data = {"name": "Тест", "annual": [{"day": "10-10", "name": "День", "source": "закон"}]}
    moving = WorkingCalendar(
        CalendarConfig(), region=RegionCalendar.model_validate(data | {"weekend_holidays_move": True})
    )
    staying = WorkingCalendar(CalendarConfig(), region=RegionCalendar.model_validate(data))
    # 10 October 2026 is a Saturday: the day off moves to Monday 12 October, or nowhere.
    assert not moving.is_working_day(date(2026, 10, 12)) and moving.is_working_day(date(2026, 10, 13))
    assert staying.is_working_day(date(2026, 10, 12))


# --- municipalities -----------------------------------------------------------------------------


def test_municipality_names_forgive_case_yo_spaces_and_the_city_prefix():
    for name in ("г. Казань", "казань", "  КАЗАНЬ ", "город Казань"):
        assert CALENDARS.place(name).region == "tatarstan", name
    assert CALENDARS.place("Набережные   Челны").zone == "Europe/Moscow"
    with pytest.raises(ValidationError, match="listed twice"):
        CalendarConfig.model_validate(
            {"municipalities": {"Казань": {"zone": "Europe/Moscow"}, "казань ": {"zone": "UTC"}}}
        )


async def test_an_unknown_municipality_is_an_explicit_default_in_the_plan():
    planning = PlanningActivities(CONFIG_DIR)
    unknown = await planning.plan_appeal(PlanRequest(appeal=appeal("Чердынь")))
    assert unknown.calendar_note == (
        "municipality 'Чердынь' is not in config/calendar.toml: "
        "the default zone Asia/Yekaterinburg and the federal calendar are assumed"
    )
    assert not unknown.calendar.municipality_known and unknown.calendar.region is None
    assert unknown.calendar.zone == "Asia/Yekaterinburg"
    # The note travels with the plan through the history (JSON) and into the pinned calendar.
    again = AppealPlan.model_validate_json(unknown.model_dump_json())
    assert again.calendar_note == unknown.calendar_note
    assert WorkingCalendar.from_snapshot(again.calendar).assumed == unknown.calendar_note

    kazan = await planning.plan_appeal(PlanRequest(appeal=appeal("Казань")))
    assert kazan.calendar_note is None and kazan.calendar.municipality_known
    assert kazan.calendar.zone == "Europe/Moscow" and kazan.calendar.region is not None
    assert kazan.calendar.region.name == "Татарстан"
    assert " regions:" in kazan.policy_version


def test_the_deadline_explanation_states_the_assumption_first():
    start = datetime(2026, 3, 19, 14, tzinfo=MSK)
    explanation = deadlines.explain(CONFIG_DIR, start, Duration.model_validate("2 working days"), "Чердынь")
    assert explanation.assumed is not None and explanation.reasons[0] == explanation.assumed
    assert explanation.reasons[1].startswith("2 working days: to the end of the 2th working day")
    assert explanation.zone == "Asia/Yekaterinburg" and explanation.region is None


# --- pinning ------------------------------------------------------------------------------------


async def test_a_pinned_snapshot_ignores_a_later_decree_in_the_region_file(tmp_path: Path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    planning = PlanningActivities(config)
    request = PlanRequest(appeal=appeal("Казань"))
    before = await planning.plan_appeal(request)
    region_file = config / "regions" / "tatarstan.toml"
    decree = '\n[[holidays]]\ndate = {day}\nname = "Новый праздник"\nsource = "Указ Раиса РТ (тест)"\n'
    region_file.write_text(
        region_file.read_text("utf-8") + decree.format(day="2026-04-15") + decree.format(day="2031-04-15"), "utf-8"
    )

    after = await planning.plan_appeal(request)

    assert after.policy_version != before.policy_version
    new, pinned = WorkingCalendar.from_snapshot(after.calendar), WorkingCalendar.from_snapshot(before.calendar)
    assert not new.is_working_day(date(2026, 4, 15)) and new.day_note(date(2026, 4, 14)).shortened
    assert pinned.is_working_day(date(2026, 4, 15)) and not pinned.day_note(date(2026, 4, 14)).shortened
    # Through the history's JSON too.
    decoded = WorkingCalendar.from_snapshot(CalendarSnapshot.model_validate_json(before.calendar.model_dump_json()))
    assert decoded.is_working_day(date(2026, 4, 15)) and not decoded.is_working_day(date(2026, 3, 20))
    # An appeal pins the decrees of its years only; a year it did not pin follows the law alone.
    assert after.calendar.region is not None
    assert {d.date.year for d in after.calendar.region.holidays} == {2026}
    assert new.is_working_day(date(2031, 4, 15))  # the 2031 decree is not in the 2025–2028 snapshot
    assert not new.is_working_day(date(2030, 8, 30))  # День Республики is the law's, every year


def test_a_snapshot_recorded_before_regions_decodes_as_the_federal_calendar():
    recorded = PERM.snapshot([2026]).model_dump(mode="json", exclude={"municipality", "region", "assumed"})
    assert set(recorded) == {"config", "zone", "years"}
    recorded["config"].pop("municipalities")  # an old calendar.toml had municipality_zones only
    snapshot = CalendarSnapshot.model_validate(recorded)
    assert snapshot.region is None and snapshot.assumed is None and snapshot.municipality_known
    calendar = WorkingCalendar.from_snapshot(snapshot)
    assert calendar.is_working_day(date(2026, 3, 20)) and not calendar.is_working_day(date(2026, 11, 4))


# --- region files -------------------------------------------------------------------------------


def test_the_shipped_region_files_name_a_source_for_every_entry():
    for region in CALENDARS.regions.values():
        entries = [*region.annual, *region.holidays, *region.days_off, *region.working_days]
        assert entries and all(e.source.strip() for e in entries), region.name
    assert set(CALENDARS.regions) == {"tatarstan", "bashkortostan"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "annual": [{"day": "02-29", "name": "a", "source": "s"}]}, "not a day of every year"),
        ({"name": "X", "annual": [{"day": "13-01", "name": "a", "source": "s"}]}, "not a day of every year"),
        ({"name": "X", "holidays": [{"date": "2026-03-20", "name": "a"}]}, "source"),
        (
            {
                "name": "X",
                "holidays": [{"date": "2026-03-20", "name": "a", "source": "s"}],
                "days_off": [{"date": "2026-03-20", "name": "b", "source": "s"}],
            },
            "listed twice",
        ),
        (
            {
                "name": "X",
                "annual": [{"day": "08-30", "name": "a", "source": "s"}],
                "holidays": [{"date": "2026-08-30", "name": "b", "source": "s"}],
            },
            "already an annual holiday",
        ),
    ],
)
def test_a_bad_region_file_is_a_clear_error(data: dict[str, Any], message: str):
    with pytest.raises(ValidationError, match=message):
        RegionCalendar.model_validate(data)


def test_a_missing_or_broken_region_file_fails_the_worker_check(tmp_path: Path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    (config / "regions" / "tatarstan.toml").unlink()
    with pytest.raises(ConfigError, match=r"tatarstan.toml: file not found; .* puts Казань, "):
        PlanningActivities(config).check()
    (config / "regions" / "tatarstan.toml").write_text('name = "Татарстан"\n[[holidays]]\ndate = 2026-02-28\n')
    with pytest.raises(
        ConfigError, match=r"tatarstan\.toml: holidays\.0\.name: Field required; holidays\.0\.source: Field required"
    ):
        PlanningActivities(config).check()
    with pytest.raises(ValidationError, match="region 'Tatarstan'"):
        CalendarConfig.model_validate({"municipalities": {"Казань": {"zone": "Europe/Moscow", "region": "Tatarstan"}}})


# --- the operator's commands --------------------------------------------------------------------


def test_appealctl_deadline_explains_a_tatarstan_holiday():
    done = appealctl(
        "deadline", "--start", "2026-03-19T14:00+03:00", "--duration", "8 working hours", "--municipality", "Казань"
    )
    assert done.returncode == 0, done.stderr
    assert "часовой пояс Europe/Moscow" in done.stdout
    assert "календарь    федеральный + Татарстан" in done.stdout
    assert "срок         2026-03-23T15:00:00+03:00" in done.stdout
    assert "  - 2026-03-19 shortened pre-holiday day (-1h): eve of Ураза-байрам (Татарстан)" in done.stdout
    assert "  - 2026-03-20 regional holiday: Ураза-байрам (Татарстан)" in done.stdout
    unknown = appealctl("deadline", "--start", "2026-03-19T14:00+03:00", "--duration", "1 hour", "--municipality", "X")
    assert unknown.returncode == 0, unknown.stderr
    assert "  - municipality 'X' is not in config/calendar.toml: the default zone" in unknown.stdout
    assert "календарь    федеральный, принят для неизвестного муниципалитета" in unknown.stdout


def test_appealctl_lists_the_configured_municipalities():
    done = appealctl("municipalities", "--json")
    assert done.returncode == 0, done.stderr
    ufa = {"municipality": "Уфа", "zone": "Asia/Yekaterinburg", "region": "Башкортостан"}
    assert ufa | {"region_file": "regions/bashkortostan.toml"} in json.loads(done.stdout)


async def test_appealctl_lists_the_appeals_whose_municipality_was_unknown(pool: asyncpg.Pool, database_url: str):
    planning, storage, env = PlanningActivities(CONFIG_DIR), StorageActivities(pool), ActivityEnvironment()

    async def routed(municipality: str | None, *, fixed_later: bool = False) -> str:
        item = appeal(municipality)
        plan = await planning.plan_appeal(PlanRequest(appeal=item))
        at = item.received_at

        def event(seq: int, kind: str, data: dict[str, Any], first: bool = False) -> AppealEvent:
            status = AppealStatus.registered if first else AppealStatus.awaiting_acknowledgment
            return AppealEvent(
                workflow_id=item.workflow_id,
                seq=seq,
                kind=kind,
                at=at + timedelta(minutes=seq),
                summary=kind,
                data=data,
                projection=Projection(status=status, municipality=municipality),
                appeal=item if first else None,
            )

        note = {"calendar_note": plan.calendar_note} if plan.calendar_note else {}
        await env.run(storage.record_event, event(1, "registered", {}, first=True))
        await env.run(storage.record_event, event(2, "routed", {"zone": plan.calendar.zone, **note}))
        if fixed_later:  # the operator fixed the municipality: routed again, with no note
            await env.run(storage.record_event, event(3, "routed", {"zone": "Europe/Moscow"}))
        return item.workflow_id

    unknown, kazan, fixed = await routed("Чердынь"), await routed("Казань"), await routed("Кзань", fixed_later=True)

    done = appealctl("municipalities", "--unknown", env=os.environ | {"APPEALS_DATABASE_URL": database_url})

    assert done.returncode == 0, done.stderr
    assert unknown in done.stdout and "municipality 'Чердынь' is not in config/calendar.toml" in done.stdout
    assert kazan not in done.stdout and fixed not in done.stdout
    assert "обращений, запланированных по предполагаемым часовому поясу и календарю:" in done.stdout


def test_appealctl_municipalities_unknown_needs_the_database():
    env = {k: v for k, v in os.environ.items() if k != "APPEALS_DATABASE_URL"}
    done = appealctl("municipalities", "--unknown", env=env)
    assert done.returncode == 2 and "needs APPEALS_DATABASE_URL" in done.stderr
