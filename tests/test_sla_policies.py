"""SLA policies as data, durations, and the clock arithmetic on the real Perm calendar (pure).

Hand-checked instants use config/calendar.toml for Perm: Asia/Yekaterinburg (UTC+5, no DST),
Mon–Fri 09:00–18:00 with lunch 13:00–14:00 (8 working hours a day). Late November and early
December 2026 hold no holiday and no shortened day; 31 Dec 2026 is a transferred day off,
1–8 Jan 2027 are holidays and 9–10 Jan a weekend, so the first working day of 2027 is 11 Jan.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities.planning import CALENDAR_FILE, SLA_FILE, load
from appeals import clocks
from appeals.durations import Duration, Kind
from appeals.models import AppealInput
from appeals.sla import PolicyMatch, PolicySet, Role, SlaPolicy, Threshold
from appeals.working_calendar import CalendarConfig, DayKind, WorkingCalendar

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
PERM = ZoneInfo("Asia/Yekaterinburg")
CALENDAR_CONFIG, _ = load(CONFIG_DIR / CALENDAR_FILE, CalendarConfig)
CAL = WorkingCalendar.for_municipality(CALENDAR_CONFIG, "Пермь")
THRESHOLDS = [
    Threshold(percent=50, notify=[Role.executor]),
    Threshold(percent=75, notify=[Role.executor, Role.head]),
]
ACCEPTED_FORMS = "write e.g. '8 working hours', '7 working days', '30 calendar days' or '90 minutes'"


def perm(*args: int) -> datetime:
    return datetime(*args, tzinfo=PERM)  # type: ignore[misc]


def duration(text: str) -> Duration:
    return Duration.model_validate(text)


def appeal(**overrides: Any) -> AppealInput:
    fields: dict[str, Any] = {
        "channel": "vk",
        "external_id": "post-1",
        "text": "Не вывозят снег во дворе.",
        "author": {"handle": "id1"},
        "received_at": perm(2026, 11, 30, 9),
    }
    fields.update(overrides)
    return AppealInput.model_validate(fields)


def start(text: str, at: datetime, name: str = "answer") -> clocks.Clock:
    return clocks.start_clock(CAL, name, at, duration(text), THRESHOLDS)


def local(instants: list[datetime]) -> list[datetime]:
    return [t.astimezone(PERM) for t in instants]


# --- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "kind", "scale", "written"),
    [
        ("8 working hours", 8, Kind.working, "hour", "8 working hours"),
        ("1 working hour", 1, Kind.working, "hour", "1 working hour"),
        ("7 working days", 7, Kind.working, "day", "7 working days"),
        ("30 calendar days", 30, Kind.calendar, "day", "30 calendar days"),
        ("90 minutes", 90, Kind.calendar, "minute", "90 calendar minutes"),
        ("  2.5   working   hours ", 2.5, Kind.working, "hour", "2.5 working hours"),
    ],
)
def test_durations_are_parsed_from_words(text: str, amount: float, kind: Kind, scale: str, written: str):
    parsed = duration(text)

    assert (parsed.amount, parsed.kind, parsed.scale) == (amount, kind, scale)
    assert str(parsed) == written
    assert parsed.is_working is (kind is Kind.working)


@pytest.mark.parametrize("text", ["8 working hours", "7 working days", "30 calendar days", "90 minutes"])
def test_durations_round_trip_through_model_dump(text: str):
    parsed = duration(text)

    assert parsed.model_dump() == str(parsed)
    assert Duration.model_validate(parsed.model_dump()) == parsed
    assert Duration.model_validate_json(parsed.model_dump_json()) == parsed


def test_a_policy_round_trips_with_its_durations_as_words():
    policy = SlaPolicy.model_validate(policy_data("p", final_after_interim="7 working days"))

    dumped = policy.model_dump(mode="json")

    assert dumped["answer"] == "8 working hours"
    assert dumped["final_after_interim"] == "7 working days"
    assert dumped["commitment"]["remind_before"] == "1 working day"
    assert SlaPolicy.model_validate(dumped) == policy
    assert SlaPolicy.model_validate_json(policy.model_dump_json()) == policy


def test_the_length_of_a_duration():
    assert duration("8 working hours").length == timedelta(hours=8)
    assert duration("90 minutes").length == timedelta(minutes=90)
    assert duration("30 calendar days").length == timedelta(days=30)
    assert duration("7 working days").whole_working_days == 7
    assert duration("8 working hours").whole_working_days is None
    assert duration("30 calendar days").whole_working_days is None


@pytest.mark.parametrize("text", ["soon", "0 hours", "-1 day", "", "8 working weeks", "eight hours", "8 working"])
def test_bad_durations_are_refused(text: str):
    with pytest.raises(ValidationError) as refused:
        duration(text)

    assert repr(text) in str(refused.value)


@pytest.mark.parametrize(
    "text",
    [
        "soon",
        "-1 day",
        "8 working weeks",
        "0 hours",
    ],
)
def test_the_refusal_shows_the_accepted_forms(text: str):
    with pytest.raises(ValidationError, match=ACCEPTED_FORMS):
        duration(text)


def test_a_fractional_number_of_working_days_is_not_silently_truncated():
    try:
        half_more = duration("1.5 working days")
    except ValidationError:
        return  # refused: fine
    begin = perm(2026, 11, 30, 10)
    assert clocks.after(CAL, begin, half_more) != clocks.after(CAL, begin, duration("1 working day"))


# --- policy sets -----------------------------------------------------------------------------


DEFAULTS: dict[str, Any] = {
    "rework": "3 working days",
    "feedback_window": "2 calendar days",
    "escalation_interval": "2 working hours",
    "breach_notify": ["head", "tsur"],
    "thresholds": [{"percent": 50, "notify": ["executor"]}],
}


def policy_data(name: str, match: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        **DEFAULTS,
        "name": name,
        "acknowledge": "1 working hour",
        "answer": "8 working hours",
        **fields,
    }
    if match is not None:
        data["match"] = match
    return data


def bare(name: str, match: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A policy that leaves everything but its name, match and clocks to [defaults]."""
    data: dict[str, Any] = {"name": name, "acknowledge": "1 working hour", "answer": "8 working hours"}
    if match is not None:
        data["match"] = match
    return {**data, **fields}


def policy_set(*policies: dict[str, Any], defaults: dict[str, Any] | None = None) -> PolicySet:
    return PolicySet.model_validate(
        {"defaults": DEFAULTS if defaults is None else defaults, "policies": list(policies)}
    )


def test_defaults_fill_what_a_policy_leaves_out_and_a_policy_own_value_wins():
    policies = policy_set(
        bare("own", {"channels": ["vk"]}, rework="1 working day", thresholds=[]),
        bare("default"),
    )

    own, default = policies.policies
    assert default.rework == duration("3 working days")
    assert default.feedback_window == duration("2 calendar days")
    assert default.breach_notify == [Role.head, Role.tsur]
    assert [t.percent for t in default.thresholds] == [50]
    assert own.rework == duration("1 working day")
    assert own.thresholds == []
    assert own.feedback_window == duration("2 calendar days")


def test_a_field_neither_in_the_policy_nor_in_defaults_is_required():
    with pytest.raises(ValidationError, match=r"policies\.0\.rework"):
        policy_set(bare("default"), defaults={k: v for k, v in DEFAULTS.items() if k != "rework"})


def test_the_first_matching_policy_wins():
    policies = policy_set(
        bare("vk-high", {"channels": ["vk"], "priorities": ["high"]}, answer="2 working hours"),
        bare("vk", {"channels": ["vk"]}),
        bare("default", answer="30 calendar days"),
    )

    assert policies.select(appeal(channel="vk", priority="high")).name == "vk-high"
    assert policies.select(appeal(channel="vk")).name == "vk"
    assert policies.select(appeal(channel="ok", priority="high")).name == "default"


def test_every_given_field_of_a_policy_must_match():
    policies = policy_set(
        bare(
            "narrow",
            {
                "channels": ["website"],
                "categories": ["roads"],
                "municipalities": ["Пермь"],
                "priorities": ["high"],
            },
        ),
        bare("default"),
    )
    fits = {"channel": "website", "category": "roads", "municipality": "Пермь", "priority": "high"}

    assert policies.select(appeal(**fits)).name == "narrow"
    for field, other in [
        ("channel", "vk"),
        ("category", "parks"),
        ("category", None),
        ("municipality", "Кунгур"),
        ("municipality", None),
        ("priority", "normal"),
    ]:
        assert policies.select(appeal(**{**fits, field: other})).name == "default", (field, other)


def test_a_policy_set_must_end_with_a_catch_all():
    with pytest.raises(ValidationError, match="catch-all"):
        policy_set(bare("default"), bare("vk", {"channels": ["vk"]}))


def test_a_policy_set_must_not_be_empty():
    with pytest.raises(ValidationError, match="policies"):
        PolicySet.model_validate({"defaults": DEFAULTS, "policies": []})


@pytest.mark.parametrize("field", ["channels", "categories", "municipalities", "priorities"])
def test_an_empty_match_list_is_refused(field: str):
    with pytest.raises(ValidationError, match=rf"policies\.0\.match\.{field}"):
        policy_set(bare("nothing", {field: []}), bare("default"))


def test_a_policy_refuses_unknown_match_fields():
    with pytest.raises(ValidationError, match="Extra inputs"):
        PolicyMatch.model_validate({"channel": ["vk"]})


@pytest.mark.parametrize("percents", [[75, 50], [50, 50], [50, 90, 75]])
def test_thresholds_must_be_increasing(percents: list[int]):
    thresholds = [{"percent": p, "notify": ["executor"]} for p in percents]

    with pytest.raises(ValidationError, match="increasing order"):
        policy_set(bare("default", thresholds=thresholds))


@pytest.mark.parametrize("percent", [0, 100, 150])
def test_a_threshold_lies_strictly_between_0_and_100(percent: int):
    with pytest.raises(ValidationError, match="percent"):
        Threshold(percent=percent, notify=[Role.executor])


def test_policy_names_must_be_unique():
    with pytest.raises(ValidationError, match="unique"):
        policy_set(bare("same", {"channels": ["vk"]}), bare("same"))


def test_named_finds_a_policy_or_lists_the_known_names():
    policies = policy_set(bare("social", {"channels": ["vk"]}), bare("default"))

    assert policies.named("social").match.channels == ["vk"]
    with pytest.raises(KeyError) as missing:
        policies.named("59-fz")
    assert "'59-fz'" in str(missing.value)
    assert "known: social, default" in str(missing.value)


# --- the shipped config/sla.toml -------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> PolicySet:
    policies, _ = load(CONFIG_DIR / SLA_FILE, PolicySet)
    return policies


@pytest.mark.parametrize("channel", ["vk", "ok", "telegram", "governor_account", "incident_management"])
def test_shipped_high_priority_social_is_1_and_4_working_hours(shipped: PolicySet, channel: str):
    chosen = shipped.select(appeal(channel=channel, priority="high"))

    assert chosen.name == "social-high"
    assert chosen.acknowledge == duration("1 working hour")
    assert chosen.answer == duration("4 working hours")
    assert chosen.final_after_interim == duration("7 working days")
    assert chosen.escalation_interval == duration("1 working hour")


@pytest.mark.parametrize("channel", ["vk", "ok", "telegram", "governor_account", "incident_management"])
def test_shipped_social_is_1_and_8_working_hours_then_7_working_days(shipped: PolicySet, channel: str):
    chosen = shipped.select(appeal(channel=channel, category="roads"))

    assert chosen.name == "social"
    assert chosen.acknowledge == duration("1 working hour")
    assert chosen.answer == duration("8 working hours")
    assert chosen.final_after_interim == duration("7 working days")
    assert chosen.max_extension is None


@pytest.mark.parametrize(
    ("category", "name", "answer"),
    [
        ("snow_removal", "website-winter-urgent", "3 working days"),
        ("heating", "website-winter-urgent", "3 working days"),
        ("roads", "website-roads", "5 working days"),
        ("public_transport", "website-roads", "5 working days"),
        ("stray_dogs", "website", "8 working days"),
        (None, "website", "8 working days"),
    ],
)
def test_shipped_website_policy_depends_on_the_category(
    shipped: PolicySet, category: str | None, name: str, answer: str
):
    chosen = shipped.select(appeal(channel="website", category=category, priority="high"))

    assert chosen.name == name
    assert chosen.answer == duration(answer)
    assert chosen.acknowledge == duration("1 working day")


@pytest.mark.parametrize("channel", ["pos", "written", "email", "phone"])
def test_shipped_written_channels_are_59_fz(shipped: PolicySet, channel: str):
    chosen = shipped.select(appeal(channel=channel, category="snow_removal", priority="high"))

    assert chosen.name == "59-fz"
    assert chosen.match.is_catch_all
    assert chosen.acknowledge == duration("3 calendar days")
    assert chosen.redirect == duration("7 calendar days")
    assert chosen.answer == duration("30 calendar days")
    assert chosen.max_extension == duration("30 calendar days")
    assert [t.percent for t in chosen.thresholds] == [50, 75, 90]
    assert chosen.thresholds[-1].notify == [Role.executor, Role.head]


def test_shipped_defaults(shipped: PolicySet):
    assert str(shipped.defaults.rework) == "3 working days"
    assert str(shipped.defaults.feedback_window) == "2 calendar days"
    assert shipped.defaults.breach_notify == ["head", "tsur"]
    assert [p.name for p in shipped.policies] == [
        "social-high",
        "social",
        "website-winter-urgent",
        "website-roads",
        "website",
        "59-fz",
    ]
    for policy in shipped.policies:
        assert policy.rework == duration("3 working days"), policy.name
        assert policy.breach_notify == [Role.head, Role.tsur], policy.name
        assert policy.commitment.max_moves == 2, policy.name
    social = shipped.named("social")
    assert social.feedback_window == duration("2 calendar days")
    assert [(t.percent, t.notify) for t in social.thresholds] == [
        (50, [Role.executor]),
        (75, [Role.executor, Role.head]),
    ]
    assert social.escalation_interval == duration("2 working hours")
    # A policy's own value wins over [defaults].
    assert shipped.named("59-fz").feedback_window == duration("7 calendar days")


# --- clocks on the Perm calendar -------------------------------------------------------------


def test_eight_working_hours_from_monday_morning():
    clock = start("8 working hours", perm(2026, 11, 30, 9))

    assert (clock.kind, clock.allowed) == (Kind.working, timedelta(hours=8))
    assert clock.due_at == perm(2026, 11, 30, 18)
    # 50% is 13:00, the start of lunch: it goes out at the next working moment.
    assert local([m.at for m in clock.marks]) == [perm(2026, 11, 30, 14), perm(2026, 11, 30, 16)]
    assert [m.percent for m in clock.marks] == [50, 75]
    assert clock.marks[1].notify == [Role.executor, Role.head]
    assert clock.ticking and clock.pauses == []


def test_one_working_hour_from_friday_evening_ends_on_monday():
    clock = start("1 working hour", perm(2026, 12, 4, 17, 30), name="acknowledge")

    assert clock.due_at == perm(2026, 12, 7, 9, 30)
    # 30 minutes in is 18:00 on Friday, the end of the day: the warning goes out on Monday.
    assert clock.marks[0].at == perm(2026, 12, 7, 9)


def test_seven_working_days_end_with_the_seventh_working_day():
    begin = perm(2026, 11, 30, 10)  # Monday; the start day itself is not counted

    clock = start("7 working days", begin, name="final")

    assert clock.due_at == perm(2026, 12, 9, 18)  # Wednesday
    days = [date(2026, 12, 1) + timedelta(days=n) for n in range(9)]
    kinds = [CAL.day_note(d).kind for d in days]
    assert DayKind.holiday not in kinds and DayKind.transferred_day_off not in kinds
    assert [d for d in days if CAL.is_working_day(d)] == [
        date(2026, 12, 1),
        date(2026, 12, 2),
        date(2026, 12, 3),
        date(2026, 12, 4),
        date(2026, 12, 7),
        date(2026, 12, 8),
        date(2026, 12, 9),
    ]
    assert clock.due_at == CAL.working_intervals(date(2026, 12, 9))[-1][1]
    # Monday 10:00–18:00 less lunch (7 h) and seven full days (56 h), as working time.
    assert (clock.kind, clock.allowed) == (Kind.working, timedelta(hours=63))
    assert CAL.working_time_between(begin, clock.due_at) == clock.allowed


def test_thirty_calendar_days_landing_on_new_year_move_to_11_january():
    clock = start("30 calendar days", perm(2026, 12, 2, 10))

    assert CAL.day_note(date(2027, 1, 1)).kind is DayKind.holiday
    assert (clock.kind, clock.allowed) == (Kind.calendar, timedelta(days=30))
    assert clock.due_at == perm(2027, 1, 11, 9)
    # 15 days: Thursday 17 Dec 10:00; 22.5 days: Thursday 24 Dec 22:00, sent Friday 09:00.
    assert local([m.at for m in clock.marks]) == [perm(2026, 12, 17, 10), perm(2026, 12, 25, 9)]


def test_a_pause_moves_a_working_clock_by_exactly_the_paused_working_time():
    clock = start("8 working hours", perm(2026, 11, 30, 9))
    marks_before = [m.at for m in clock.marks]
    due_before = clock.due_at

    clocks.pause(clock, perm(2026, 11, 30, 11), "ждём уточнения адреса")
    assert not clock.ticking and clock.running
    counted = clocks.resume(CAL, clock, perm(2026, 12, 1, 11))

    # Monday 11–13 and 14–18, Tuesday 9–11: one full working day, 9 hours less lunch.
    assert counted == timedelta(hours=8)
    assert clock.paused == timedelta(hours=8)
    assert clock.due_at == perm(2026, 12, 1, 18)
    assert CAL.working_time_between(due_before, clock.due_at) == timedelta(hours=8)
    assert local([m.at for m in clock.marks]) == [perm(2026, 12, 1, 14), perm(2026, 12, 1, 16)]
    for old, mark in zip(marks_before, clock.marks, strict=True):
        assert CAL.working_time_between(old, mark.at) == timedelta(hours=8)
    [paused] = clock.pauses
    assert (paused.started_at, paused.ended_at) == (perm(2026, 11, 30, 11), perm(2026, 12, 1, 11))
    assert (paused.counted, paused.reason) == (timedelta(hours=8), "ждём уточнения адреса")
    assert clock.ticking


def test_a_warning_already_sent_stays_where_it_went_out():
    clock = start("8 working hours", perm(2026, 11, 30, 9))
    clock.marks[0].sent_at = perm(2026, 11, 30, 14)

    clocks.pause(clock, perm(2026, 11, 30, 15), "ждём уточнения")
    clocks.resume(CAL, clock, perm(2026, 11, 30, 17))

    assert clock.marks[0].at == perm(2026, 11, 30, 14)
    assert clock.marks[1].at == perm(2026, 12, 1, 9)  # 16:00 + 2 working hours
    assert clock.due_at == perm(2026, 12, 1, 11)


def test_a_pause_over_a_weekend_moves_a_calendar_clock_by_the_wall_clock_time():
    clock = start("30 calendar days", perm(2026, 10, 7, 10))  # Wednesday
    assert clock.due_at == perm(2026, 11, 6, 10)  # Friday, a working day

    clocks.pause(clock, perm(2026, 10, 9, 10), "ждём уточнения")  # Friday
    counted = clocks.resume(CAL, clock, perm(2026, 10, 12, 10))  # Monday

    assert counted == timedelta(days=3)
    assert CAL.working_time_between(perm(2026, 10, 9, 10), perm(2026, 10, 12, 10)) == timedelta(hours=8)
    assert clock.due_at == perm(2026, 11, 9, 10)  # Monday
    # 15 days + 3 days: Sunday 25 Oct 10:00, sent at Monday's first working moment.
    assert clock.marks[0].at == perm(2026, 10, 26, 9)


def test_next_alarm_gives_the_warnings_in_order_then_the_breach():
    clock = start("8 working hours", perm(2026, 11, 30, 9))
    seen = []

    while (alarm := clocks.next_alarm(clock)) is not None:
        seen.append((alarm.kind, alarm.at.astimezone(PERM), alarm.mark))
        assert (alarm.clock, alarm.cycle) == ("answer", 1)
        if alarm.kind == "warning":
            assert alarm.mark is not None
            clock.marks[alarm.mark].sent_at = alarm.at
        else:
            clock.breached_at = alarm.at

    assert seen == [
        ("warning", perm(2026, 11, 30, 14), 0),
        ("warning", perm(2026, 11, 30, 16), 1),
        ("breach", perm(2026, 11, 30, 18), None),
    ]


def test_next_alarm_is_nothing_while_paused_or_stopped():
    clock = start("8 working hours", perm(2026, 11, 30, 9))

    clocks.pause(clock, perm(2026, 11, 30, 10), "ждём уточнения")
    assert clocks.next_alarm(clock) is None
    clocks.resume(CAL, clock, perm(2026, 11, 30, 11))
    alarm = clocks.next_alarm(clock)
    assert alarm is not None and alarm.at == perm(2026, 11, 30, 15)

    clocks.stop(clock, perm(2026, 11, 30, 12))
    assert clocks.next_alarm(clock) is None
    assert not clock.running


def test_a_stop_during_a_pause_closes_the_pause():
    clock = start("8 working hours", perm(2026, 11, 30, 9))
    clocks.pause(clock, perm(2026, 11, 30, 10), "ждём уточнения")

    clocks.stop(clock, perm(2026, 11, 30, 12))

    assert clock.paused_since is None
    assert clock.pauses[-1].ended_at == perm(2026, 11, 30, 12)
    assert clock.stopped_at == perm(2026, 11, 30, 12)


def test_remaining_is_working_time_for_a_working_clock():
    clock = start("8 working hours", perm(2026, 11, 30, 9))

    assert clocks.remaining(CAL, clock, perm(2026, 11, 30, 12)) == timedelta(hours=5)  # lunch skipped
    assert clocks.remaining(CAL, clock, perm(2026, 11, 30, 18)) == timedelta(0)
    # Tuesday 10:00 is one working hour late, although 16 wall-clock hours have passed.
    assert clocks.remaining(CAL, clock, perm(2026, 12, 1, 10)) == -timedelta(hours=1)


def test_remaining_is_wall_clock_time_for_a_calendar_clock():
    clock = start("3 calendar days", perm(2026, 11, 30, 10))
    assert clock.due_at == perm(2026, 12, 3, 10)

    assert clocks.remaining(CAL, clock, perm(2026, 12, 1, 10)) == timedelta(days=2)
    assert clocks.remaining(CAL, clock, perm(2026, 12, 5, 10)) == -timedelta(days=2)


def test_remaining_of_a_stopped_clock_is_frozen_at_the_stop():
    clock = start("8 working hours", perm(2026, 11, 30, 9))
    clocks.stop(clock, perm(2026, 11, 30, 11))

    assert clocks.remaining(CAL, clock, perm(2026, 12, 10, 12)) == timedelta(hours=6)


def test_remaining_is_frozen_while_paused():
    clock = start("8 working hours", perm(2026, 11, 30, 9))
    clocks.pause(clock, perm(2026, 11, 30, 11), "ждём уточнения")

    assert clocks.remaining(CAL, clock, perm(2026, 11, 30, 12)) == timedelta(hours=6)
    assert clocks.remaining(CAL, clock, perm(2026, 12, 2, 12)) == timedelta(hours=6)


def test_a_commitment_keeps_its_fixed_date():
    due = perm(2027, 3, 1, 18)
    remind = perm(2027, 2, 26, 9)
    clock = clocks.start_commitment(CAL, perm(2026, 12, 1, 10), due, remind, cycle=2)

    assert (clock.name, clock.cycle, clock.kind) == ("commitment", 2, Kind.calendar)
    assert clock.due_at == clock.fixed_due == due
    assert [(m.percent, m.at, m.notify) for m in clock.marks] == [(None, remind, [Role.executor, Role.head])]

    clocks.reschedule(CAL, clock)
    assert clock.due_at == due
    clocks.pause(clock, perm(2026, 12, 2, 10), "ждём уточнения")
    clocks.resume(CAL, clock, perm(2026, 12, 9, 10))
    assert clock.due_at == due
    assert clock.marks[0].at == remind


def test_a_commitment_reminder_is_never_before_the_start():
    begin = perm(2026, 12, 1, 10)

    clock = clocks.start_commitment(CAL, begin, perm(2026, 12, 2, 18), perm(2026, 11, 30, 9), cycle=1)

    assert clock.marks[0].at == begin


# --- property: pauses shift a working deadline by exactly the paused working time ------------


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 11, 30), timezones=st.just(UTC)),
    st.sampled_from(["1 working hour", "4 working hours", "8 working hours", "3 working days", "7 working days"]),
    st.lists(
        st.tuples(st.integers(0, 5 * 24 * 60), st.integers(0, 4 * 24 * 60)),
        max_size=5,
    ),
)
def test_pauses_shift_a_working_deadline_by_exactly_the_counted_time(
    begin: datetime, text: str, pauses: list[tuple[int, int]]
):
    clock = clocks.start_clock(CAL, "answer", begin, duration(text), THRESHOLDS)
    original_due = clock.due_at
    t = begin

    for gap, length in pauses:
        t += timedelta(minutes=gap)
        clocks.pause(clock, t, "ждём уточнения")
        t += timedelta(minutes=length)
        clocks.resume(CAL, clock, t)

    counted = sum((p.counted for p in clock.pauses), timedelta(0))
    assert clock.kind == Kind.working
    assert counted == clock.paused
    assert CAL.working_time_between(begin, clock.due_at) == clock.allowed + clock.paused
    assert CAL.working_time_between(original_due, clock.due_at) == clock.paused
