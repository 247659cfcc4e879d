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

`update_sequenced_after_timer_fired` and `update_after_task_timeout_*` come from chaos runs:
their recording worker grouped one workflow task's jobs in an order the SDK does not reproduce
on replay (an Update after the activity result or timer delivered with it; in the later three,
the task had timed out on a killed worker's sticky queue). They replay through
stack.activation_order, which applies the recorded grouping only where the history proves it;
every other history replays exactly as with a plain Replayer. A worker, which has no history at
hand, learns the grouping from the failed attempt (stack/activation_learning.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from appeals.models import AppealInput
from stack.activation_learning import LearningOrderRunner
from stack.activation_order import RECORDED_SPLITS, ActivationOrderRunner, splits_from_history
from stack.client import DATA_CONVERTER
from tests.incompatible_workflow import AppealWorkflowWithoutRouting
from tests.legacy_appeal_v1 import AppealWorkflow as AppealWorkflowV1
from workflows.appeal import AppealWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
V1 = sorted((Path(__file__).parent / "histories" / "v1").glob("*.json"))
CHAOS = Path(__file__).parent / "histories" / "v1" / "update_sequenced_after_timer_fired.json"
REGROUPED = sorted((Path(__file__).parent / "histories").glob("update_after_task_timeout_*.json"))


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


def test_only_the_chaos_histories_are_regrouped():
    """The accommodation is as narrow as the evidence: one task of a run, the results delivered
    with an Update, and only in the histories that recorded them before the Update."""
    assert len(REGROUPED) == 3
    for path in HISTORIES + V1:
        splits = splits_from_history(_history(path))
        if path == CHAOS:
            assert splits == list(RECORDED_SPLITS)
        elif path in REGROUPED:
            assert len(splits) == 1 and len(splits[0].first) == 1, (path.stem, splits)
        else:
            assert splits == [], path.stem


@pytest.mark.parametrize("path", REGROUPED, ids=lambda p: p.stem)
async def test_the_sdk_alone_cannot_replay_an_update_after_a_task_timeout(path: Path):
    replayer = Replayer(workflows=[AppealWorkflow], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(_history(path), raise_on_replay_failure=False)
    assert "Update machine does not handle this event" in str(result.replay_failure), result.replay_failure


@pytest.mark.parametrize(
    ("workflow", "path", "attempts"),
    [(AppealWorkflow, p, 2) for p in REGROUPED]
    + [(AppealWorkflowV1, CHAOS, 3)]
    + [(AppealWorkflow, p, 1) for p in HISTORIES if p not in REGROUPED],
    ids=lambda v: v.stem if isinstance(v, Path) else str(v) if isinstance(v, int) else "",
)
async def test_a_worker_learns_the_recorded_grouping_from_the_failed_attempt(workflow: type, path: Path, attempts: int):
    """What the worker does with no history at hand: the task fails once per wrong grouping (all
    results first, then one fewer, ...), then replays; a plain history replays at once."""
    history = _history(path)
    replayer = Replayer(
        workflows=[workflow],
        data_converter=DATA_CONVERTER,
        workflow_runner=LearningOrderRunner(SandboxedWorkflowRunner()),
    )
    outcomes = []
    for _ in range(attempts + 1):
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        outcomes.append(result.replay_failure is None)
        if result.replay_failure is None:
            break
    assert outcomes == [False] * (attempts - 1) + [True]


async def test_a_real_nondeterminism_is_not_learned_away():
    """A change that breaks a history still fails on every attempt with the learning runner."""
    history = _history(REGROUPED[0])
    replayer = Replayer(
        workflows=[AppealWorkflowWithoutRouting],
        data_converter=DATA_CONVERTER,
        workflow_runner=LearningOrderRunner(SandboxedWorkflowRunner()),
    )
    outcomes = [
        (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure for _ in range(4)
    ]
    assert all(failure is not None for failure in outcomes)


async def test_the_sdk_alone_cannot_replay_the_chaos_history():
    """Why the accommodation exists. If this starts to pass, the SDK replays such a task as it was
    recorded: drop stack/activation_order.py and replay with a plain Replayer again."""
    replayer = Replayer(workflows=[AppealWorkflowV1], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(_history(CHAOS), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "Update machine does not handle this event: HistoryEvent(id: 64, ActivityTaskScheduled)" in str(
        result.replay_failure
    ), result.replay_failure
