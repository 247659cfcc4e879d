"""The demo's generator and configuration (the live run is `python3 dev.py up --demo`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from activities.planning import PlanningActivities, load
from appeals.sla import PolicySet
from appeals.working_calendar import CalendarConfig, WorkingCalendar
from devstack.demo import generate, prepare_config


def test_the_generator_follows_perms_proportions():
    now = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    appeals = generate(1000, seed=3, now=now)
    channels = Counter(a.channel.value for a in appeals)
    assert set(channels) == {"incident_management", "governor_account"}
    assert 0.25 < channels["incident_management"] / 1000 < 0.35  # Perm: about 9,000 of 31,000
    assert len({a.workflow_id for a in appeals}) == 1000
    assert len({a.category for a in appeals}) >= 5 and all("Адрес:" in a.text for a in appeals)
    assert generate(5, seed=3, now=now) == appeals[:5]  # reproducible: a load source for benchmarks


def test_the_demo_config_makes_every_day_a_working_day(tmp_path):
    config_dir = prepare_config(tmp_path / "config", [2026, 2027])
    PlanningActivities(config_dir).check()
    calendar = WorkingCalendar(load(config_dir / "calendar.toml", CalendarConfig)[0])
    for day in (date(2027, 1, 1), date(2026, 11, 4), date(2026, 11, 29)):  # holidays and a Sunday
        assert calendar.is_working_day(day)
    policies, _ = load(config_dir / "sla.toml", PolicySet)
    assert str(policies.named("demo-social").acknowledge) == "1 calendar minute"
