"""The appeal journeys live in bench/journeys.py, shared with the benchmarks and the recorded
histories (bench/ never imports tests/); the tests import them from here too."""

from bench.journeys import *  # noqa: F403
from bench.journeys import (  # noqa: F401 (names the tests use)
    ANSWER_TEXT,
    FORMAL_TEXT,
    PERM,
    PHOTO,
    address_confirmed,
    address_corrected,
    advance,
    advance_to,
    answer_and_publish,
    escalated_path,
    full_path,
    full_week_monday,
    good_answer,
    happy_path,
    sit_out_feedback_window,
    start,
    state_of,
    thirty_day_path,
    to_monday_morning,
    wait_for,
)
