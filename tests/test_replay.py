"""Replay recorded histories against today's workflow code.

The histories under tests/histories/ are real appeals recorded by
`python -m bench.history_events --record tests/histories`. If a change to
AppealWorkflow would break an appeal already in flight, replay fails here.
Record a new history whenever the lifecycle gains a path; never re-record an
old one to make this test pass (guard the change with `workflow.patched`).

tests/histories/v1/ holds the histories recorded before the workflow was rebuilt as steps
(nothing had been deployed, so they were re-recorded once, then frozen again). They replay
against the frozen pre-rebuild code in tests/legacy_appeal_v1.py, which proves the recordings
and the replay accommodation below stay valid; they say nothing about today's code.

`update_sequenced_after_timer_fired` comes from the chaos run: its recording worker
grouped one workflow task's jobs in an order the SDK does not reproduce on replay (an
Update sequenced after a timer that fired once the task was scheduled). It replays
through stack.activation_order, which applies the recorded grouping only where the
history proves it; every other history replays exactly as with a plain Replayer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from appeals.models import AppealInput
from stack.activation_order import RECORDED_SPLITS, ActivationOrderRunner, splits_from_history
from stack.client import DATA_CONVERTER
from tests.incompatible_workflow import AppealWorkflowWithoutRouting
from tests.legacy_appeal_v1 import AppealWorkflow as AppealWorkflowV1
from workflows.appeal import AppealWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
V1 = sorted((Path(__file__).parent / "histories" / "v1").glob("*.json"))
CHAOS = Path(__file__).parent / "histories" / "v1" / "update_sequenced_after_timer_fired.json"


def _history(path: Path) -> WorkflowHistory:
    """A history knows its appeal, and the appeal its workflow id."""
    history = WorkflowHistory.from_json("unknown", path.read_text())
    started = history.events[0].workflow_execution_started_event_attributes
    [appeal] = DATA_CONVERTER.payload_converter.from_payloads(started.input.payloads, [AppealInput])
    return WorkflowHistory(appeal.workflow_id, history.events)


def _replayer(workflow: type, history: WorkflowHistory) -> Replayer:
    runner = ActivationOrderRunner(SandboxedWorkflowRunner(), splits_from_history(history))
    return Replayer(workflows=[workflow], data_converter=DATA_CONVERTER, workflow_runner=runner)


def test_histories_are_recorded():
    assert {p.stem for p in HISTORIES} >= {"happy_path", "escalated_path", "thirty_day_path", "full_path"}
    assert {p.stem for p in HISTORIES} >= {"address_confirmed", "address_corrected"}
    assert CHAOS in V1


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path):
    history = _history(path)
    result = await _replayer(AppealWorkflow, history).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("path", V1, ids=lambda p: p.stem)
async def test_pre_rebuild_history_replays_on_its_own_code(path: Path):
    history = _history(path)
    result = await _replayer(AppealWorkflowV1, history).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_replay_catches_an_unpatched_change(path: Path):
    history = _history(path)
    result = await _replayer(AppealWorkflowWithoutRouting, history).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower(), result.replay_failure


def test_only_the_chaos_history_is_regrouped():
    """The accommodation is as narrow as the evidence: one task of one run, one activity result."""
    for path in HISTORIES + V1:
        expected = list(RECORDED_SPLITS) if path == CHAOS else []
        assert splits_from_history(_history(path)) == expected, path.stem


async def test_the_sdk_alone_cannot_replay_the_chaos_history():
    """Why the accommodation exists. If this starts to pass, the SDK replays such a task as it was
    recorded: drop stack/activation_order.py and replay with a plain Replayer again."""
    replayer = Replayer(workflows=[AppealWorkflowV1], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(_history(CHAOS), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "Update machine does not handle this event: HistoryEvent(id: 64, ActivityTaskScheduled)" in str(
        result.replay_failure
    ), result.replay_failure
