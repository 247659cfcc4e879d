"""A worker that hands the workflow a stale time must not record a history that cannot replay.

The chaos runs caught it: a worker that took over an appeal after a kill gave its first task the
time of the task before (a timer armed again for its full length at the moment it fired), and the
replay, which has the right time, fired the alarm instead: "[TMPRL1100] Activity machine does not
handle this event: TimerStarted". Since the patch `supervisor-timer-always` no command of the
supervisor depends on the time. This test makes every live activation that fires a timer see the
time two minutes earlier, as that worker did, runs an appeal through its warnings, breach and
escalations, and replays the history with the right times.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import Replayer, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from stack.client import DATA_CONVERTER
from stack.runner_wrapping import WrappingInstance, WrappingRunner
from tests.conftest import make_appeal, running_worker
from tests.scenarios import advance_to, start, to_monday_morning, wait_for
from workflows.appeal import AppealWorkflow

LAG = timedelta(minutes=2)


class StaleClockRunner(WrappingRunner):
    """Live activations that fire a timer carry a time `LAG` too early; replays are left alone."""

    def __init__(self) -> None:
        super().__init__(SandboxedWorkflowRunner())
        self.stale = 0

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _Stale(self.inner.create_instance(det), self)


class _Stale(WrappingInstance):
    def __init__(self, inner: WorkflowInstance, owner: StaleClockRunner) -> None:
        super().__init__(inner)
        self.owner = owner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        if not act.is_replaying and any(job.HasField("fire_timer") for job in act.jobs):
            stale = WorkflowActivation()
            stale.CopyFrom(act)
            stale.timestamp.FromNanoseconds(act.timestamp.ToNanoseconds() - int(LAG.total_seconds() * 1e9))
            self.owner.stale += 1
            return self.inner.activate(stale)
        return self.inner.activate(act)


async def test_a_history_recorded_with_a_stale_time_replays(ts_env, pool, task_queue):
    runner = StaleClockRunner()
    async with running_worker(ts_env.client, pool, task_queue, runner=runner):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        # Social policy: acknowledge within 1 working hour (warnings, breach at 10:00, level 1),
        # level 2 two working hours later.
        await advance_to(ts_env, monday + timedelta(hours=3, minutes=1))
        await wait_for(handle, lambda s: s.escalation_level >= 2)
        await handle.terminate("test over")
    assert runner.stale >= 4, runner.stale  # the warnings, the breach and the escalations
    history = await handle.fetch_history()
    replay = await Replayer(workflows=[AppealWorkflow], data_converter=DATA_CONVERTER).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert replay.replay_failure is None, replay.replay_failure
