"""Routing rules, SLA policies and the operator-edited config files (pure, tmp files only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from activities.planning import ROUTING_FILE, SLA_FILE, ConfigError, PlanningActivities, load
from appeals.models import AppealInput
from appeals.records import PlanRequest
from appeals.routing import RoutingRule, RoutingTable, route
from appeals.sla import PolicyMatch, PolicySet, SlaPolicy, deadlines, select_policy

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
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


def policy(name: str, ack: str = "PT1H", answer: str = "PT8H", **match: Any) -> SlaPolicy:
    return SlaPolicy.model_validate(
        {"name": name, "match": match, "acknowledge": ack, "answer": answer, "escalation_interval": "PT1H"}
    )


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


def test_an_empty_table_sends_everything_to_the_fallback() -> None:
    chosen = route(RoutingTable(fallback=rule("triage")), appeal(category="roads"))

    assert chosen.executor.address == "triage"


def test_a_rule_needs_at_least_one_supervisor() -> None:
    with pytest.raises(ValidationError, match="ladder"):
        RoutingRule.model_validate({"executor": {"role": "executor", "address": "x"}, "ladder": []})


@pytest.fixture(scope="module")
def shipped_table() -> RoutingTable:
    table, _ = load(CONFIG_DIR / ROUTING_FILE, RoutingTable)
    return table


@pytest.fixture(scope="module")
def shipped_policies() -> PolicySet:
    policies, _ = load(CONFIG_DIR / SLA_FILE, PolicySet)
    return policies


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


@pytest.mark.parametrize("category", ["stray_dogs", None])
def test_shipped_routing_sends_unknown_categories_to_tsur_triage(
    shipped_table: RoutingTable, category: str | None
) -> None:
    chosen = route(shipped_table, appeal(category=category, municipality="Пермь"))

    assert chosen.rule == "fallback"
    assert chosen.executor.address == "tsur-triage@permkrai.ru"
    assert chosen.ladder[-1].address == "tsur-duty@permkrai.ru"


def test_shipped_policy_for_high_priority_vk_is_social_high(shipped_policies: PolicySet) -> None:
    chosen = select_policy(shipped_policies, appeal(channel="vk", priority="high"))

    assert chosen.name == "social-high"
    assert chosen.acknowledge == timedelta(hours=1)
    assert chosen.answer == timedelta(hours=4)


def test_shipped_policy_for_normal_vk_is_social(shipped_policies: PolicySet) -> None:
    chosen = select_policy(shipped_policies, appeal(channel="vk"))

    assert (chosen.name, chosen.answer) == ("social", timedelta(hours=8))


@pytest.mark.parametrize("channel", ["pos", "written", "email", "phone"])
def test_shipped_policy_for_written_channels_is_59_fz(shipped_policies: PolicySet, channel: str) -> None:
    chosen = select_policy(shipped_policies, appeal(channel=channel, priority="high"))

    assert chosen.name == "59-fz"
    assert chosen.acknowledge == timedelta(days=3)
    assert chosen.answer == timedelta(days=30)


def test_shipped_policy_for_the_website(shipped_policies: PolicySet) -> None:
    chosen = select_policy(shipped_policies, appeal(channel="website"))

    assert (chosen.name, chosen.acknowledge, chosen.answer) == (
        "website",
        timedelta(days=1),
        timedelta(days=8),
    )


async def test_plan_appeal_combines_route_policy_and_deadlines() -> None:
    planning = PlanningActivities(CONFIG_DIR)

    plan = await planning.plan_appeal(
        PlanRequest(appeal=appeal(channel="pos", category="heating", municipality="Пермь"))
    )

    assert plan.route.executor.address == "housing-inspection@permkrai.ru"
    assert plan.policy.name == "59-fz"
    assert plan.deadlines.answer == RECEIVED + timedelta(days=30)
    assert plan.policy_version == planning.check()
    assert plan.policy_version.startswith("sla:") and " routing:" in plan.policy_version


def test_the_version_changes_when_a_file_changes(tmp_path: Path) -> None:
    for name in (SLA_FILE, ROUTING_FILE):
        (tmp_path / name).write_bytes((CONFIG_DIR / name).read_bytes())
    planning = PlanningActivities(tmp_path)
    before = planning.check()

    sla = tmp_path / SLA_FILE
    sla.write_text(sla.read_text(encoding="utf-8").replace('answer = "PT4H"', 'answer = "PT3H"'), "utf-8")

    assert planning.check() != before


# --- deadlines -------------------------------------------------------------------------------


def test_deadlines_are_counted_from_receipt() -> None:
    chosen = policy("p", ack="PT1H", answer="P30D")

    due = deadlines(chosen, RECEIVED)

    assert due.acknowledge == datetime(2026, 11, 29, 10, 0, tzinfo=timezone(timedelta(hours=5)))
    assert due.answer == datetime(2026, 12, 29, 9, 0, tzinfo=timezone(timedelta(hours=5)))


def test_deadlines_stay_timezone_aware_and_are_the_same_instant_in_any_zone() -> None:
    chosen = policy("p", ack="PT90M", answer="P3DT4H")

    local = deadlines(chosen, RECEIVED)
    utc = deadlines(chosen, RECEIVED.astimezone(UTC))

    assert local.acknowledge.tzinfo is not None and local.answer.tzinfo is not None
    assert local.acknowledge == utc.acknowledge == datetime(2026, 11, 29, 5, 30, tzinfo=UTC)
    assert local.answer == utc.answer == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_acknowledge_and_answer_may_be_due_together() -> None:
    chosen = policy("p", ack="PT4H", answer="PT4H")

    due = deadlines(chosen, RECEIVED)

    assert due.acknowledge == due.answer


# --- policy validation -----------------------------------------------------------------------


def test_the_first_matching_policy_wins() -> None:
    policies = PolicySet(
        policies=[
            policy("vk-high", answer="PT2H", channels=["vk"], priorities=["high"]),
            policy("vk", answer="PT8H", channels=["vk"]),
            policy("default", answer="P30D"),
        ]
    )

    assert select_policy(policies, appeal(channel="vk", priority="high")).name == "vk-high"
    assert select_policy(policies, appeal(channel="vk")).name == "vk"
    assert select_policy(policies, appeal(channel="ok", priority="high")).name == "default"


def test_a_policy_set_must_end_with_a_catch_all() -> None:
    with pytest.raises(ValidationError, match="catch-all"):
        PolicySet(policies=[policy("default"), policy("vk", channels=["vk"])])


def test_a_policy_set_must_not_be_empty() -> None:
    with pytest.raises(ValidationError):
        PolicySet(policies=[])


def test_an_empty_match_list_is_not_a_catch_all() -> None:
    try:
        policies = PolicySet(policies=[policy("nothing", channels=[])])
    except ValidationError:
        return  # refused at load time: fine
    assert select_policy(policies, appeal()).name == "nothing"


@pytest.mark.parametrize("field", ["acknowledge", "answer", "escalation_interval"])
@pytest.mark.parametrize("value", ["PT0S", "-PT1H"])
def test_a_policy_refuses_non_positive_durations(field: str, value: str) -> None:
    data = {"name": "p", "acknowledge": "PT1H", "answer": "PT8H", "escalation_interval": "PT1H"}
    data[field] = value

    with pytest.raises(ValidationError, match=f"{field} must be a positive duration"):
        SlaPolicy.model_validate(data)


def test_a_policy_refuses_an_answer_due_before_the_acknowledgment() -> None:
    with pytest.raises(ValidationError, match="answer must not be due before acknowledge"):
        policy("p", ack="P3D", answer="P1D")


def test_a_policy_refuses_unknown_match_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        PolicyMatch.model_validate({"channel": ["vk"]})


# --- config files ----------------------------------------------------------------------------


def test_shipped_config_loads_with_a_stable_short_version() -> None:
    _, first = load(CONFIG_DIR / SLA_FILE, PolicySet)
    _, again = load(CONFIG_DIR / SLA_FILE, PolicySet)

    assert first == again
    assert len(first) == 12 and int(first, 16) >= 0


def test_load_reports_invalid_toml_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "sla.toml"
    broken.write_text('[[policies]]\nname = "x\n', encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load(broken, PolicySet)

    assert str(error.value).startswith(f"{broken}: not valid TOML")
    assert "line 2" in str(error.value)


def test_load_reports_a_validation_error_with_the_field_path(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(
        "[[policies]]\n"
        'name = "social"\n'
        'match = { channels = ["myspace"] }\n'
        'acknowledge = "an hour"\n'
        'answer = "PT8H"\n'
        'escalation_interval = "PT1H"\n'
        "\n"
        "[[policies]]\n"
        'name = "default"\n'
        'acknowledge = "P3D"\n'
        'answer = "P30D"\n'
        'escalation_interval = "P1D"\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        load(bad, PolicySet)

    message = str(error.value)
    assert message.startswith(f"{bad}: ")
    assert "policies.0.match.channels.0: " in message
    assert "policies.0.acknowledge: " in message


def test_load_reports_a_whole_file_rule_as_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(
        '[[policies]]\nname = "vk"\nmatch = { channels = ["vk"] }\n'
        'acknowledge = "PT1H"\nanswer = "PT8H"\nescalation_interval = "PT1H"\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match=r"\(file\): .*catch-all"):
        load(bad, PolicySet)


def test_load_reports_a_policy_rule_with_the_policy_index(tmp_path: Path) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text(
        '[[policies]]\nname = "default"\nacknowledge = "P3D"\nanswer = "P1D"\nescalation_interval = "P1D"\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match=r"policies\.0: .*answer must not be due before acknowledge"):
        load(bad, PolicySet)


def test_load_reports_a_routing_error_with_the_field_path(tmp_path: Path) -> None:
    bad = tmp_path / "routing.toml"
    bad.write_text(
        '[[rules]]\ncategories = ["roads"]\nexecutor = { role = "executor" }\nladder = []\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        load(bad, RoutingTable)

    message = str(error.value)
    assert "rules.0.executor.address: Field required" in message
    assert "rules.0.ladder: " in message
    assert "fallback: Field required" in message


def test_load_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "nope.toml", PolicySet)


def test_a_broken_config_fails_the_worker_check(tmp_path: Path) -> None:
    (tmp_path / SLA_FILE).write_bytes((CONFIG_DIR / SLA_FILE).read_bytes())
    (tmp_path / ROUTING_FILE).write_text("rules = 3\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=ROUTING_FILE):
        PlanningActivities(tmp_path).check()
