"""Replay recorded histories against today's workflow code.

The histories under tests/histories/ are real appeals recorded by
`python -m bench.history_events --record tests/histories`. If a change to
AppealWorkflow would break an appeal already in flight, replay fails here.
Record a new history whenever the lifecycle gains a path; never re-record an
old one to make this test pass (guard the change with `workflow.patched`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from appeals.models import AppealInput
from stack.client import DATA_CONVERTER
from tests.incompatible_workflow import AppealWorkflowWithoutRouting
from workflows.appeal import AppealWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _history(path: Path) -> WorkflowHistory:
    """A history knows its appeal, and the appeal its workflow id."""
    history = WorkflowHistory.from_json("unknown", path.read_text())
    started = history.events[0].workflow_execution_started_event_attributes
    [appeal] = DATA_CONVERTER.payload_converter.from_payloads(started.input.payloads, [AppealInput])
    return WorkflowHistory(appeal.workflow_id, history.events)


def test_histories_are_recorded():
    assert {p.stem for p in HISTORIES} >= {"happy_path", "escalated_path", "thirty_day_path", "full_path"}


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path):
    replayer = Replayer(workflows=[AppealWorkflow], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(_history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_replay_catches_an_unpatched_change():
    replayer = Replayer(workflows=[AppealWorkflowWithoutRouting], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(_history(HISTORIES[0]), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower(), result.replay_failure
