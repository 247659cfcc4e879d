"""Routing rules, planning and the operator-edited config files (pure, tmp files only)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from activities.planning import (
    CALENDAR_FILE,
    ROUTING_FILE,
    SLA_FILE,
    ConfigError,
    PlanningActivities,
    load,
)
from appeals.models import AppealInput
from appeals.records import PlanRequest
from appeals.routing import RoutingRule, RoutingTable, route
from appeals.sla import PolicySet
from appeals.working_calendar import CalendarConfig, WorkingCalendar

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
CONFIG_FILES = (SLA_FILE, ROUTING_FILE, CALENDAR_FILE)
RECEIVED = datetime(2026, 11, 29, 9, 0, tzinfo=timezone(timedelta(hours=5)))


def appeal(**overrides: Any) -> AppealInput:
    fields: dict[str, Any] = {
        "channel": "vk",
        "external_id": "post-1",
        "text": "Яма на дороге у школы № 5.",
        "author": {"handle": "id1"},
        "received_at": RECEIVED,
    }
    fields.update(overrides)
    return AppealInput.model_validate(fields)


def rule(executor: str, **match: Any) -> RoutingRule:
    return RoutingRule.model_validate(
        {
            "executor": {"role": "executor", "address": executor},
            "ladder": [{"role": "head", "address": f"head-of-{executor}"}],
            **match,
        }
    )


def copy_config(target: Path) -> Path:
    for name in CONFIG_FILES:
        (target / name).write_bytes((CONFIG_DIR / name).read_bytes())
    shutil.copytree(CONFIG_DIR / "regions", target / "regions")
    return target


# --- routing ---------------------------------------------------------------------------------


TABLE = RoutingTable(
    rules=[
        rule("perm-roads", categories=["roads"], municipalities=["Пермь"]),
        rule("roads-anywhere", categories=["roads"]),
        rule("vk-desk", channels=["vk"]),
    ],
    fallback=rule("triage"),
)


def test_the_first_matching_rule_wins() -> None:
    chosen = route(TABLE, appeal(category="roads", municipality="Пермь"))

    # Rules 2 and 3 match too; the first one wins.
    assert chosen.executor.address == "perm-roads"
    assert chosen.rule == "rule 1"
    assert chosen.ladder[0].address == "head-of-perm-roads"


def test_every_given_field_of_a_rule_must_match() -> None:
    chosen = route(TABLE, appeal(category="roads", municipality="Кунгур", channel="telegram"))

    assert (chosen.executor.address, chosen.rule) == ("roads-anywhere", "rule 2")


def test_a_rule_without_a_field_matches_any_value_of_it() -> None:
    chosen = route(TABLE, appeal(category="parks", municipality="Кунгур", channel="vk"))

    assert (chosen.executor.address, chosen.rule) == ("vk-desk", "rule 3")


def test_an_appeal_without_category_does_not_match_a_category_rule() -> None:
    chosen = route(TABLE, appeal(channel="telegram"))

    assert chosen.rule == "fallback"


def test_no_matching_rule_falls_back_to_triage() -> None:
    chosen = route(TABLE, appeal(channel="pos", category="parks"))

    assert chosen.executor.address == "triage"
    assert chosen.rule == "fallback"
    assert chosen.ladder[0].address == "head-of-triage"


def test_an_empty_table_sends_everything_to_the_fallback() -> None:
    chosen = route(RoutingTable(fallback=rule("triage")), appeal(category="roads"))

    assert chosen.executor.address == "triage"


def test_a_rule_needs_at_least_one_supervisor() -> None:
    with pytest.raises(ValidationError, match="ladder"):
        RoutingRule.model_validate({"executor": {"role": "executor", "address": "x"}, "ladder": []})


@pytest.mark.parametrize("field", ["channels", "categories", "municipalities"])
def test_an_empty_match_list_in_a_rule_is_refused(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        rule("nobody", **{field: []})


# --- the shipped routing.toml ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_table() -> RoutingTable:
    table, _ = load(CONFIG_DIR / ROUTING_FILE, RoutingTable)
    return table


def test_shipped_routing_sends_perm_roads_from_vk_to_the_city_roads_department(
    shipped_table: RoutingTable,
) -> None:
    chosen = route(shipped_table, appeal(channel="vk", category="roads", municipality="Пермь"))

    assert chosen.executor.address == "perm-roads@gorodperm.ru"
    assert [r.role for r in chosen.ladder] == ["head_of_department", "head_of_municipality", "tsur"]


def test_shipped_routing_sends_roads_outside_perm_elsewhere(shipped_table: RoutingTable) -> None:
    chosen = route(shipped_table, appeal(category="roads", municipality="Кунгур"))

    assert chosen.executor.address != "perm-roads@gorodperm.ru"
    assert chosen.rule == "fallback"


@pytest.mark.parametrize(
    ("channel", "municipality"), [("vk", "Пермь"), ("pos", "Кунгур"), ("written", None), ("phone", "Лысьва")]
)
def test_shipped_routing_sends_heating_anywhere_to_the_housing_inspection(
    shipped_table: RoutingTable, channel: str, municipality: str | None
) -> None:
    chosen = route(shipped_table, appeal(channel=channel, category="heating", municipality=municipality))

    assert chosen.executor.address == "housing-inspection@permkrai.ru"
    assert chosen.rule == "rule 2"


@pytest.mark.parametrize("category", ["stray_dogs", None])
def test_shipped_routing_sends_unknown_categories_to_tsur_triage(
    shipped_table: RoutingTable, category: str | None
) -> None:
    chosen = route(shipped_table, appeal(category=category, municipality="Пермь"))

    assert chosen.rule == "fallback"
    assert chosen.executor.address == "tsur-triage@permkrai.ru"
    assert chosen.ladder[-1].address == "tsur-duty@permkrai.ru"


# --- planning --------------------------------------------------------------------------------


async def test_plan_appeal_pins_route_policy_version_and_calendar() -> None:
    planning = PlanningActivities(CONFIG_DIR)

    plan = await planning.plan_appeal(
        PlanRequest(appeal=appeal(channel="pos", category="heating", municipality="Пермь"))
    )

    assert plan.route.executor.address == "housing-inspection@permkrai.ru"
    assert plan.route.ladder[0].address == "head-housing@permkrai.ru"
    assert plan.policy.name == "59-fz"
    assert plan.policy_version == planning.check()
    assert plan.policy_version.startswith("sla:")
    assert " routing:" in plan.policy_version and " calendar:" in plan.policy_version
    assert plan.calendar.zone == "Asia/Yekaterinburg"
    assert RECEIVED.year in plan.calendar.years
    # The snapshot is a working calendar on its own, with the holidays of the year pinned.
    pinned = WorkingCalendar.from_snapshot(plan.calendar)
    assert pinned.zone_name == "Asia/Yekaterinburg"
    assert not pinned.is_working_day(date(2026, 11, 4))  # Unity Day
    assert pinned.is_working_day(date(2026, 11, 30))


async def test_plan_appeal_pins_the_zone_of_the_municipality() -> None:
    plan = await PlanningActivities(CONFIG_DIR).plan_appeal(
        PlanRequest(appeal=appeal(channel="written", municipality="Якутск"))
    )

    assert plan.calendar.zone == "Asia/Yakutsk"
    assert plan.route.rule == "fallback"


async def test_plan_appeal_covers_now_when_re_pinning_a_year_later() -> None:
    now = RECEIVED + timedelta(days=400)

    plan = await PlanningActivities(CONFIG_DIR).plan_appeal(PlanRequest(appeal=appeal(), now=now))

    assert {RECEIVED.year, now.year} <= set(plan.calendar.years)


# --- config files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "model"), [(SLA_FILE, PolicySet), (ROUTING_FILE, RoutingTable), (CALENDAR_FILE, CalendarConfig)]
)
def test_shipped_config_loads_with_a_stable_short_version(name: str, model: type[Any]) -> None:
    _, first = load(CONFIG_DIR / name, model)
    _, again = load(CONFIG_DIR / name, model)

    assert first == again
    assert len(first) == 12 and int(first, 16) >= 0


def test_load_reports_invalid_toml_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "sla.toml"
    broken.write_text('[[policies]]\nname = "x\n', encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load(broken, PolicySet)

    assert str(error.value).startswith(f"{broken}: not valid TOML")
    assert "line 2" in str(error.value)


DEFAULTS = (
    "[defaults]\n"
    'rework = "3 working days"\n'
    'feedback_window = "2 calendar days"\n'
    'escalation_interval = "1 working hour"\n'
    'breach_notify = ["head", "tsur"]\n'
    'thresholds = [{ percent = 50, notify = ["executor"] }]\n'
    "\n"
)
CATCH_ALL = '[[policies]]\nname = "default"\nacknowledge = "3 calendar days"\nanswer = "30 calendar days"\n'


def test_load_reports_a_validation_error_with_the_field_path(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(
        DEFAULTS + "[[policies]]\n"
        'name = "social"\n'
        'match = { channels = ["myspace"] }\n'
        'acknowledge = "an hour"\n'
        'answer = "8 working hours"\n'
        "\n" + CATCH_ALL,
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        load(bad, PolicySet)

    message = str(error.value)
    assert message.startswith(f"{bad}: ")
    assert "policies.0.match.channels.0: " in message
    assert "policies.0.acknowledge: " in message and "'an hour' is not a duration" in message
    assert "policies.1" not in message


def test_load_reports_a_whole_file_rule_as_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(
        DEFAULTS + '[[policies]]\nname = "vk"\nmatch = { channels = ["vk"] }\n'
        'acknowledge = "1 working hour"\nanswer = "8 working hours"\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match=r"\(file\): .*catch-all"):
        load(bad, PolicySet)


def test_load_reports_a_policy_rule_with_the_policy_index(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(
        DEFAULTS + CATCH_ALL + "thresholds = [\n"
        '  { percent = 75, notify = ["executor"] },\n'
        '  { percent = 50, notify = ["executor"] },\n'
        "]\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match=r"policies\.0: .*thresholds must be in increasing order"):
        load(bad, PolicySet)


def test_load_reports_a_field_missing_from_policy_and_defaults(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(DEFAULTS.replace('rework = "3 working days"\n', "") + CATCH_ALL, encoding="utf-8")

    with pytest.raises(ConfigError, match=r"policies\.0\.rework: Field required"):
        load(bad, PolicySet)


def test_load_reports_a_bad_default_under_defaults(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(DEFAULTS.replace('"3 working days"', '"soon"') + CATCH_ALL, encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load(bad, PolicySet)

    assert "defaults.rework: " in str(error.value)


def test_load_reports_a_routing_error_with_the_field_path(tmp_path: Path) -> None:
    bad = tmp_path / "routing.toml"
    bad.write_text(
        '[[rules]]\ncategories = ["roads"]\nexecutor = { role = "executor" }\nladder = []\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        load(bad, RoutingTable)

    message = str(error.value)
    assert message.startswith(f"{bad}: ")
    assert "rules.0.executor.address: Field required" in message
    assert "rules.0.ladder: " in message
    assert "fallback: Field required" in message


def test_load_reports_a_calendar_error_with_the_field_path(tmp_path: Path) -> None:
    bad = tmp_path / "calendar.toml"
    bad.write_text(
        '[municipality_zones]\n"Пермь" = "Asia/Perm"\n\n[hours.mon]\nstart = "18:00"\nend = "09:00"\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        load(bad, CalendarConfig)

    message = str(error.value)
    assert message.startswith(f"{bad}: ")
    assert "municipality_zones: " in message and "'Asia/Perm'" in message
    assert "hours.mon: " in message


def test_load_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "nope.toml", PolicySet)


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        (SLA_FILE, 'answer = "4 working hours"', 'answer = "3 working hours"'),
        (ROUTING_FILE, "head-roads@gorodperm.ru", "head-roads-2@gorodperm.ru"),
        (CALENDAR_FILE, "extra_days_off = []", "extra_days_off = [2027-06-21]"),
    ],
)
def test_the_version_changes_when_a_file_changes(tmp_path: Path, name: str, old: str, new: str) -> None:
    planning = PlanningActivities(copy_config(tmp_path))
    before = planning.check()
    edited = tmp_path / name
    text = edited.read_text(encoding="utf-8")
    assert old in text
    edited.write_text(text.replace(old, new), encoding="utf-8")

    after = planning.check()

    assert after != before
    changed = [part for part, was in zip(after.split(), before.split(), strict=True) if part != was]
    assert [part.split(":")[0] for part in changed] == [name.removesuffix(".toml")]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (ROUTING_FILE, "rules = 3\n"),
        (SLA_FILE, "[[policies]]\n"),
        (CALENDAR_FILE, 'default_zone = "Mars/Olympus"\n'),
        (CALENDAR_FILE, "[hours\n"),
    ],
)
def test_a_broken_config_fails_the_worker_check(tmp_path: Path, name: str, content: str) -> None:
    copy_config(tmp_path)
    (tmp_path / name).write_text(content, encoding="utf-8")

    with pytest.raises(ConfigError, match=name):
        PlanningActivities(tmp_path).check()


def test_a_missing_calendar_file_fails_the_worker_check(tmp_path: Path) -> None:
    copy_config(tmp_path)
    (tmp_path / CALENDAR_FILE).unlink()

    with pytest.raises(ConfigError, match=f"{CALENDAR_FILE}: file not found"):
        PlanningActivities(tmp_path).check()


async def test_a_broken_calendar_fails_planning_too(tmp_path: Path) -> None:
    copy_config(tmp_path)
    (tmp_path / CALENDAR_FILE).write_text('default_zone = "Mars/Olympus"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match=r"default_zone: .*Mars/Olympus"):
        await PlanningActivities(tmp_path).plan_appeal(PlanRequest(appeal=appeal()))
