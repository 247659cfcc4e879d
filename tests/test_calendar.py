"""The working-day calendar: properties (hypothesis) and hand-checked real dates.

Source of the real dates: the Russian production calendars for 2026 and 2027, i.e. the
government decrees on transfers of days off (2026: Saturday 3 Jan → Friday 9 Jan, Sunday 4 Jan →
Thursday 31 Dec; 2027: Saturday 2 Jan → Friday 5 Nov, Sunday 3 Jan → Friday 31 Dec, Saturday
20 Feb → Monday 22 Feb), Labour Code art. 112 (holidays; a holiday on a weekend moves to the
next working day) and art. 95 (the day immediately before a holiday is one hour shorter),
as encoded in the `holidays` package (holidays/countries/russia.py, consultant.ru references).
Default hours: Mon–Fri 09:00–18:00, lunch 13:00–14:00.
"""

from __future__ import annotations

import time as timer
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from appeals.calendar.explain import explain as explain_deadline
from appeals.working_calendar import (
    CalendarConfig,
    DayHours,
    DayKind,
    Weekday,
    WorkingCalendar,
)

ROOT = Path(__file__).resolve().parent.parent
PERM = ZoneInfo("Asia/Yekaterinburg")
MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")

CONFIG = CalendarConfig(
    municipality_zones={"Пермь": "Asia/Yekaterinburg", "Москва": "Europe/Moscow", "Якутск": "Asia/Yakutsk"}
)
CAL = WorkingCalendar(CONFIG)
MOSCOW_CAL = WorkingCalendar.for_municipality(CONFIG, "Москва")
YAKUTSK_CAL = WorkingCalendar.for_municipality(CONFIG, "Якутск")
BERLIN_CAL = WorkingCalendar(CONFIG, "Europe/Berlin")
# A Berlin calendar that works on Sunday nights, through the DST switch hours (02:00–03:00 local),
# with a lunch inside the spring gap / autumn repeat: the nastiest case for local → UTC mapping.
NIGHT_CAL = WorkingCalendar(
    CalendarConfig(
        hours={
            **CalendarConfig().hours,
            Weekday.sun: DayHours(start=time(0, 30), end=time(5), lunch_start=time(2, 15), lunch_end=time(2, 45)),
        }
    ),
    "Europe/Berlin",
)


def perm(*args: int) -> datetime:
    return datetime(*args, tzinfo=PERM)  # type: ignore[misc]


def in_working_time(cal: WorkingCalendar, t: datetime) -> bool:
    """Inside a working interval, or exactly on one of its ends."""
    local = t.astimezone(cal.zone).date()
    return any(s <= t <= e for day in (local - timedelta(days=1), local) for s, e in cal.working_intervals(day))


# --- properties -----------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 20), timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=60 * 8 * 40).map(lambda m: timedelta(minutes=m))
seconds = st.integers(min_value=0, max_value=3600 * 8 * 5).map(lambda s: timedelta(seconds=s))
# Around the 2026 DST switches in Berlin (29 March and 25 October, both Sundays).
dst_instants = st.sampled_from([datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC)]).flatmap(
    lambda base: st.integers(min_value=0, max_value=6 * 24 * 60).map(lambda m: base + timedelta(minutes=m))
)
calendars = st.sampled_from([CAL, MOSCOW_CAL, YAKUTSK_CAL, BERLIN_CAL, NIGHT_CAL])


@settings(max_examples=300, deadline=None)
@given(calendars, instants | dst_instants, durations)
def test_a_deadline_is_never_inside_non_working_time(cal, start, duration):
    deadline = cal.add_working_time(start, duration)
    assert deadline.utcoffset() == timedelta(0)
    assert in_working_time(cal, deadline)
    assert deadline >= start or (duration == timedelta(0) and deadline == cal.next_working_moment(start))
    assert in_working_time(cal, cal.next_working_moment(start))


@settings(max_examples=300, deadline=None)
@given(calendars, instants | dst_instants, durations, durations)
def test_adding_working_time_is_monotonic_in_duration(cal, start, d1, d2):
    low, high = sorted([d1, d2])
    assert cal.add_working_time(start, low) <= cal.add_working_time(start, high)


@settings(max_examples=300, deadline=None)
@given(calendars, instants | dst_instants, st.integers(0, 10 * 24 * 60), durations)
def test_adding_working_time_is_monotonic_in_start(cal, start, shift_minutes, duration):
    later = start + timedelta(minutes=shift_minutes)
    assert cal.add_working_time(start, duration) <= cal.add_working_time(later, duration)


@settings(max_examples=300, deadline=None)
@given(calendars, instants | dst_instants, seconds, seconds)
def test_pause_and_resume_shift_the_deadline_by_exactly_the_paused_working_time(cal, start, d1, d2):
    paused_at = cal.add_working_time(start, d1)
    assert cal.add_working_time(paused_at, d2) == cal.add_working_time(start, d1 + d2)
    assert cal.working_time_between(start, paused_at) == d1
    assert cal.working_time_between(paused_at, start) == -d1


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 6, 1), max_value=datetime(2026, 6, 30)),
    st.integers(0, 60 * 8 * 5).map(lambda m: timedelta(minutes=m)),
)
def test_the_computation_is_the_same_in_dst_free_and_dst_zones(local_start, duration):
    """Same local wall-clock start, same local deadline, in Perm (no DST) and Berlin (summer time)."""
    perm_deadline = CAL.add_working_time(local_start.replace(tzinfo=PERM), duration)
    berlin_deadline = BERLIN_CAL.add_working_time(local_start.replace(tzinfo=BERLIN), duration)
    assert perm_deadline.astimezone(PERM).replace(tzinfo=None) == berlin_deadline.astimezone(BERLIN).replace(
        tzinfo=None
    )


def test_the_dst_switch_days_count_real_elapsed_time():
    # Sunday 2026-03-29, 00:30–05:00 local with lunch 02:15–02:45: 02:00–03:00 does not exist.
    # Times inside the gap read with the offset before the switch (PEP 495, fold=0), so the
    # lunch is 01:15–01:45 UTC (03:15–03:45 summer time) and 4h30 of schedule is 3h of real time.
    spring = NIGHT_CAL.working_time_between(
        datetime(2026, 3, 29, tzinfo=BERLIN), datetime(2026, 3, 29, 6, tzinfo=BERLIN)
    )
    assert spring == timedelta(hours=3)
    # Sunday 2026-10-25: 02:00–03:00 happens twice; lunch 02:15–02:45 is taken in the first pass.
    autumn = NIGHT_CAL.working_time_between(
        datetime(2026, 10, 25, tzinfo=BERLIN), datetime(2026, 10, 25, 6, tzinfo=BERLIN)
    )
    assert autumn == timedelta(hours=5)


def test_thirty_working_days_are_fast():
    cal = WorkingCalendar(CONFIG)
    start = perm(2026, 12, 20, 10)
    began = timer.perf_counter()
    cal.add_working_time(start, timedelta(hours=8 * 30))
    cold = timer.perf_counter() - began
    began = timer.perf_counter()
    for _ in range(100):
        cal.add_working_time(start, timedelta(hours=8 * 30))
    warm = (timer.perf_counter() - began) / 100
    assert warm < 0.005, warm
    assert cold < 0.1, cold


# --- hand-checked dates ----------------------------------------------------------------------

WORKING_TIME_TABLE = [
    # (what, start in Perm, working time, expected deadline in Perm)
    (
        "31 Dec 2026 is a transferred day off, 1–8 Jan holidays, 9–10 Jan weekend: first working day 11 Jan",
        perm(2026, 12, 31, 19),
        timedelta(hours=8),
        perm(2027, 1, 11, 18),
    ),
    (
        "30 Dec 2026 is a full day (the day before a transferred day off is not shortened)",
        perm(2026, 12, 30, 17),
        timedelta(hours=8),
        perm(2027, 1, 11, 17),
    ),
    (
        "Saturday 20 Feb 2027 works (swapped with Mon 22 Feb)",
        perm(2027, 2, 19, 17),
        timedelta(hours=2),
        perm(2027, 2, 20, 10),
    ),
    (
        "Saturday 20 Feb 2027 is shortened to 17:00; 22 Feb day off, 23 Feb holiday",
        perm(2027, 2, 20, 16),
        timedelta(hours=2),
        perm(2027, 2, 24, 10),
    ),
    (
        "Fri 5 Mar 2027 is a full day (Sunday lies between it and 8 Mar); Mon 8 Mar holiday",
        perm(2027, 3, 5, 17),
        timedelta(hours=2),
        perm(2027, 3, 9, 10),
    ),
    (
        "Fri 30 Apr 2027 shortened; 1 May (Sat) moves to Mon 3 May",
        perm(2027, 4, 30, 16),
        timedelta(hours=2),
        perm(2027, 5, 4, 10),
    ),
    (
        "Fri 7 May 2027 full (8 May is a Saturday); 9 May (Sun) moves to Mon 10 May",
        perm(2027, 5, 7, 17),
        timedelta(hours=2),
        perm(2027, 5, 11, 10),
    ),
    (
        "Tue 3 Nov 2026 shortened to 17:00; Wed 4 Nov holiday",
        perm(2026, 11, 3, 16, 30),
        timedelta(hours=1),
        perm(2026, 11, 5, 9, 30),
    ),
    (
        "Fri 20 Feb 2026 full; Mon 23 Feb 2026 holiday",
        perm(2026, 2, 20, 17),
        timedelta(hours=2),
        perm(2026, 2, 24, 10),
    ),
    (
        "Friday 17:30 + 1h → Monday 09:30",
        perm(2026, 11, 13, 17, 30),
        timedelta(hours=1),
        perm(2026, 11, 16, 9, 30),
    ),
    (
        "Friday 17:30 + 4h30 → Monday 13:00, the end of the morning",
        perm(2026, 11, 13, 17, 30),
        timedelta(hours=4, minutes=30),
        perm(2026, 11, 16, 13),
    ),
    (
        "Friday 17:30 + 5h → Monday 14:30, lunch skipped",
        perm(2026, 11, 13, 17, 30),
        timedelta(hours=5),
        perm(2026, 11, 16, 14, 30),
    ),
    (
        "received during lunch: the clock starts at 14:00",
        perm(2026, 11, 12, 13, 20),
        timedelta(hours=1),
        perm(2026, 11, 12, 15),
    ),
    ("received on Saturday night", perm(2026, 11, 14, 23), timedelta(minutes=1), perm(2026, 11, 16, 9, 1)),
    (
        "Saturday 1 Nov 2025 works, shortened (swapped with Mon 3 Nov)",
        perm(2025, 11, 1, 16),
        timedelta(hours=2),
        perm(2025, 11, 5, 10),
    ),
]


@pytest.mark.parametrize(
    ("what", "start", "duration", "expected"), WORKING_TIME_TABLE, ids=[r[0][:40] for r in WORKING_TIME_TABLE]
)
def test_hand_checked_working_time(what, start, duration, expected):
    deadline = CAL.add_working_time(start, duration)
    assert deadline == expected, f"{what}: {deadline.astimezone(PERM)}"
    assert deadline.tzinfo is UTC
    assert CAL.working_time_between(start, deadline) == duration


@pytest.mark.parametrize(
    ("day", "kind", "end"),
    [
        (date(2026, 11, 3), DayKind.working, time(17)),
        (date(2026, 11, 4), DayKind.holiday, None),
        (date(2026, 12, 30), DayKind.working, time(18)),
        (date(2026, 12, 31), DayKind.transferred_day_off, None),
        (date(2027, 1, 8), DayKind.holiday, None),
        (date(2027, 1, 9), DayKind.weekend, None),
        (date(2027, 1, 11), DayKind.working, time(18)),
        (date(2027, 2, 20), DayKind.working, time(17)),
        (date(2027, 2, 22), DayKind.transferred_day_off, None),
        (date(2027, 2, 23), DayKind.holiday, None),
        (date(2027, 3, 5), DayKind.working, time(18)),
        (date(2027, 3, 8), DayKind.holiday, None),
        (date(2027, 4, 30), DayKind.working, time(17)),
        (date(2027, 5, 3), DayKind.transferred_day_off, None),
        (date(2027, 5, 10), DayKind.transferred_day_off, None),
        (date(2027, 6, 11), DayKind.working, time(17)),
        (date(2027, 11, 3), DayKind.working, time(17)),
        (date(2027, 11, 5), DayKind.transferred_day_off, None),
        (date(2027, 12, 31), DayKind.transferred_day_off, None),
    ],
)
def test_hand_checked_days(day, kind, end):
    assert CAL.day_note(day).kind is kind
    intervals = CAL.working_intervals(day)
    if end is None:
        assert intervals == [] and not CAL.is_working_day(day)
    else:
        assert intervals[0][0].time() == time(9)
        assert intervals[-1][1].time() == end
        assert intervals[-1][1].tzinfo == PERM


def test_the_first_working_day_of_2027_is_11_january():
    first = next(
        date(2027, 1, 1) + timedelta(days=n)
        for n in range(30)
        if CAL.is_working_day(date(2027, 1, 1) + timedelta(days=n))
    )
    assert first == date(2027, 1, 11)


def test_the_same_instant_gives_different_deadlines_in_perm_moscow_and_yakutsk():
    instant = datetime(2026, 11, 13, 12, tzinfo=UTC)  # Friday: 17:00 Perm, 15:00 Moscow, 21:00 Yakutsk
    assert CAL.add_working_time(instant, timedelta(hours=2)) == perm(2026, 11, 16, 10)
    assert MOSCOW_CAL.add_working_time(instant, timedelta(hours=2)) == datetime(2026, 11, 13, 17, tzinfo=MSK)
    yakutsk = ZoneInfo("Asia/Yakutsk")
    assert YAKUTSK_CAL.add_working_time(instant, timedelta(hours=1)) == datetime(2026, 11, 16, 10, tzinfo=yakutsk)


def test_the_local_date_decides_the_holiday():
    # 2026-12-30 20:00 UTC: already 31 Dec (a day off) in Perm, still the working 30 Dec in Moscow (23:00).
    instant = datetime(2026, 12, 30, 20, tzinfo=UTC)
    assert CAL.next_working_moment(instant) == perm(2027, 1, 11, 9)
    assert MOSCOW_CAL.next_working_moment(instant) == datetime(2027, 1, 11, 9, tzinfo=MSK)
    assert MOSCOW_CAL.working_time_between(datetime(2026, 12, 30, 16, tzinfo=MSK), instant) == timedelta(hours=2)


def test_unknown_municipality_uses_the_default_zone_and_says_so():
    unknown = WorkingCalendar.for_municipality(CONFIG, "Чердынь")
    assert unknown.zone_name == "Asia/Yekaterinburg" and unknown.region is None
    assert unknown.assumed == (
        "municipality 'Чердынь' is not in config/calendar.toml: "
        "the default zone Asia/Yekaterinburg and the federal calendar are assumed"
    )
    nameless = WorkingCalendar.for_municipality(CONFIG, None)
    assert nameless.zone_name == "Asia/Yekaterinburg"
    assert nameless.assumed is not None and nameless.assumed.startswith("no municipality given: ")
    assert WorkingCalendar.for_municipality(CONFIG, "Москва").assumed is None


# --- calendar time (59-ФЗ) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 2 Oct 2026 + 30 days = Sunday 1 Nov 2026 → Monday 2 Nov 09:00.
        (perm(2026, 10, 2, 10), perm(2026, 11, 2, 9)),
        # 5 Oct 2026 + 30 days = Wednesday 4 Nov 2026, Unity Day → Thursday 5 Nov 09:00.
        (perm(2026, 10, 5, 10), perm(2026, 11, 5, 9)),
        # 2 Dec 2026 + 30 days = 1 Jan 2027 → Monday 11 Jan 2027 09:00.
        (perm(2026, 12, 2, 10), perm(2027, 1, 11, 9)),
        # 1 Apr 2027 + 30 days = Saturday 1 May 2027 (holiday, observed on 3 May) → Tuesday 4 May.
        (perm(2027, 4, 1, 10), perm(2027, 5, 4, 9)),
        # 6 Oct 2026 + 30 days = Thursday 5 Nov 2026, a working day: stays, even at 10:00.
        (perm(2026, 10, 6, 10), perm(2026, 11, 5, 10)),
    ],
)
def test_thirty_calendar_days_move_off_non_working_days(start, expected):
    assert CAL.add_calendar_time(start, timedelta(days=30)) == expected


def test_calendar_days_keep_the_local_wall_clock_across_dst():
    # 10 Mar 2026 10:00 CET + 30 days = 9 Apr 2026 10:00 CEST (a Thursday), not 11:00.
    start = datetime(2026, 3, 10, 10, tzinfo=BERLIN)
    assert BERLIN_CAL.add_calendar_time(start, timedelta(days=30)) == datetime(2026, 4, 9, 10, tzinfo=BERLIN)


# --- explanations ----------------------------------------------------------------------------


def test_explain_lists_the_skipped_and_shortened_days():
    working = explain_deadline(CAL, perm(2026, 12, 31, 19), timedelta(hours=8), working=True)
    assert working.deadline == perm(2027, 1, 11, 18)
    assert "2027-01-01 holiday: Новогодние каникулы" in working.reasons
    assert "2027-01-07 holiday: Рождество Христово" in working.reasons
    assert "2027-01-09 weekend" in working.reasons
    assert "2026-12-31 day off: Выходной (перенесено с 04.01.2026)" in working.reasons

    shortened = explain_deadline(CAL, perm(2026, 11, 3, 10), timedelta(hours=8), working=True)
    assert "2026-11-03 shortened pre-holiday day (-1h): eve of День народного единства" in shortened.reasons
    assert "2026-11-04 holiday: День народного единства" in shortened.reasons
    assert shortened.deadline == perm(2026, 11, 5, 11)

    calendar = explain_deadline(CAL, perm(2026, 10, 2, 10), timedelta(days=30), working=False)
    assert calendar.deadline == perm(2026, 11, 2, 9)
    assert any("2026-11-01 is a non-working day" in reason for reason in calendar.reasons)


# --- configuration ---------------------------------------------------------------------------


def test_the_shipped_config_is_valid():
    config = CalendarConfig.model_validate(tomllib.loads((ROOT / "config/calendar.toml").read_text("utf-8")))
    assert config.zone_for("Кунгур") == "Asia/Yekaterinburg"
    assert config.zone_for("Якутск") == "Asia/Yakutsk"
    assert config.place("Казань").region == "tatarstan" and config.zone_for("Казань") == "Europe/Moscow"
    assert config.place("Уфа").region == "bashkortostan" and config.zone_for("Уфа") == "Asia/Yekaterinburg"
    assert config.hours == CalendarConfig().hours


def test_a_bad_zone_name_is_a_clear_error():
    with pytest.raises(ValidationError) as err:
        CalendarConfig(municipality_zones={"Пермь": "Asia/Perm"})
    assert "municipality_zones" in str(err.value) and "Asia/Perm" in str(err.value)
    with pytest.raises(ValidationError, match="default_zone"):
        CalendarConfig(default_zone="Mars/Olympus")


def test_a_bad_override_date_is_a_clear_error():
    with pytest.raises(ValidationError, match="extra_days_off"):
        CalendarConfig.model_validate({"extra_days_off": ["2027-02-30"]})
    with pytest.raises(ValidationError, match="2027-06-19"):
        CalendarConfig(extra_working_days=[date(2027, 6, 19)], extra_days_off=[date(2027, 6, 19)])


def test_bad_hours_are_clear_errors():
    with pytest.raises(ValidationError, match="lunch"):
        CalendarConfig.model_validate(
            {"hours": {"mon": {"start": "09:00", "end": "18:00", "lunch_start": "19:00", "lunch_end": "20:00"}}}
        )
    with pytest.raises(ValidationError, match="hours"):
        CalendarConfig.model_validate({"hours": {"monday": {"start": "09:00", "end": "18:00"}}})


def test_overrides_change_the_calendar():
    config = CalendarConfig(extra_working_days=[date(2027, 6, 19)], extra_days_off=[date(2027, 6, 21)])
    cal = WorkingCalendar(config)
    assert cal.is_working_day(date(2027, 6, 19)) and not cal.is_working_day(date(2027, 6, 21))
    # Friday 18 Jun 17:00 + 2h: 1h Friday, 1h on the working Saturday.
    assert cal.add_working_time(perm(2027, 6, 18, 17), timedelta(hours=2)) == perm(2027, 6, 19, 10)
    assert (
        "2027-06-21 regional day off (override)"
        in explain_deadline(cal, perm(2027, 6, 19, 17), timedelta(hours=2), working=True).reasons
    )


def test_naive_datetimes_and_negative_durations_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.add_working_time(datetime(2026, 11, 12, 10), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_time(perm(2026, 11, 12, 10), timedelta(hours=-1))
