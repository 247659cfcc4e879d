"""After the chaos: do the recorded histories replay against today's code? And the histories
of the ones that do not, decoded, as replay fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator

from temporalio.api.history.v1 import History
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from stack import client as stack_client
from stack.activation_learning import LearningOrderRunner
from stack.activation_order import ActivationOrderRunner, splits_from_history
from stack.codec import decode_message
from workflows.appeal import AppealWorkflow
from workflows.incident import IncidentWorkflow


async def _each(histories: dict[str, WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories.values():
        yield history


async def replay(histories: dict[str, WorkflowHistory]) -> tuple[dict[str, str], list[str]]:
    """The histories that fail to replay (id → first line of the failure), and those that replay
    only with the recorded grouping of an Update."""
    replayer = Replayer(workflows=[AppealWorkflow, IncidentWorkflow], data_converter=stack_client.DATA_CONVERTER)
    failures: dict[str, str] = {}
    regrouped_ids: list[str] = []
    async with replayer.workflow_replay_iterator(_each(histories)) as results:
        async for result in results:
            if result.replay_failure is not None:
                failures[result.history.workflow_id] = str(result.replay_failure).splitlines()[0][:300]
    # The SDK regroups an Update with the results delivered with it differently on replay when the
    # recording worker applied those first (tests/test_replay.py, stack/activation_order.py). A
    # history that proves that grouping must replay with it, and a worker, which learns the grouping
    # from its failed attempts (stack/activation_learning.py), must get there too: only what still
    # fails is a failure.
    for workflow_id in list(failures):
        history = histories[workflow_id]
        splits = splits_from_history(history)
        if not splits:
            continue
        regrouped = Replayer(
            workflows=[AppealWorkflow, IncidentWorkflow],
            data_converter=stack_client.DATA_CONVERTER,
            workflow_runner=ActivationOrderRunner(SandboxedWorkflowRunner(), splits),
        )
        result = await regrouped.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is None and await _learned(history, attempts=5):
            regrouped_ids.append(workflow_id)
            del failures[workflow_id]
    return failures, regrouped_ids


async def _learned(history: WorkflowHistory, attempts: int) -> bool:
    """Does a worker's runner replay `history` within `attempts` tries, as a worker would retry?"""
    learner = Replayer(
        workflows=[AppealWorkflow, IncidentWorkflow],
        data_converter=stack_client.DATA_CONVERTER,
        workflow_runner=LearningOrderRunner(SandboxedWorkflowRunner()),
    )
    for _ in range(attempts):
        result = await learner.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is None:
            return True
    return False


async def decoded(history: WorkflowHistory) -> WorkflowHistory:
    """The history with its payloads decrypted (the run's data is synthetic): a replay fixture
    that needs no key."""
    codec = stack_client.DATA_CONVERTER.payload_codec
    if codec is None:
        return history
    proto = History(events=history.events)
    await decode_message(proto, codec)
    return WorkflowHistory(history.workflow_id, list(proto.events))
