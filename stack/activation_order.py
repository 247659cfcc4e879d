"""Replay a workflow task the way its recording worker grouped it into activations.

Why this exists: during the chaos run one appeal recorded a workflow task in an order that the
SDK (temporalio 1.35.0 and its sdk-core) cannot reproduce on replay. In that task an activity had
completed before the task was scheduled, a timer fired after it was scheduled, and an Update
arrived (sequenced after the timer). The recording worker applied the activity result first (its
continuation scheduled a notification), then the Update together with the timer. On replay, Core
puts all three jobs in one activation and orders the Update first, so the acceptance has to be
the first command: "[TMPRL1100] Update machine does not handle this event: ActivityTaskScheduled".
The workflow code is not at fault: delivered in the recorded grouping, today's code produces
exactly the recorded commands (tests/histories/v1/update_sequenced_after_timer_fired.json).
Later chaos runs found a second shape (tests/histories/update_after_task_timeout_*.json): a task
timed out on a killed worker's sticky queue, an Update arrived, and the fresh worker that took the
retried task applied the activity result delivered with it before the Update.

`ActivationOrderRunner` wraps a workflow runner and, for the workflow tasks named in its `Split`s
only, delivers the jobs that come from events before the task's WorkflowTaskScheduled in a first
activation and the rest (the Update, the timer) in a second, then hands Core the commands of both
as one completion. With no split for a run it is a pass-through, so a worker or replayer that
carries it behaves like the plain SDK for every other history (new histories included).

`splits_from_history` derives the splits from a recorded history, and only where the history
proves the recording worker did not run the Update first: a command recorded before an Update's
acceptance in a task with no signal. Replayed in one activation, an Update's acceptance is always
the task's first command, so such a history cannot replay as it is; standard histories never look
like that, so nothing else is touched. A worker has no history at hand: it learns the grouping
from the failed attempt instead (stack/activation_learning.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.bridge.proto.workflow_activation import WorkflowActivation, WorkflowActivationJob
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.client import WorkflowHistory
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

from stack.runner_wrapping import WrappingInstance, WrappingRunner

# A job that an event produces, as Core hands it over: its kind and its sequence number.
JobKey = tuple[str, int]

# Events written when a workflow task completes, from its commands (and the Update protocol).
_COMMAND_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_TIMER_CANCELED,
        EventType.EVENT_TYPE_MARKER_RECORDED,
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)
# Events that lead to no activation job of their own.
_NO_JOB_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
    }
)
_ACTIVITY_RESOLUTIONS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}


@dataclass(frozen=True)
class Split:
    """Deliver `first` in an activation of its own, before the rest of the task's jobs.

    `wft_started` is the task's WorkflowTaskStarted event id (the activation's history length).
    """

    run_id: str
    wft_started: int
    first: frozenset[JobKey]


# The runs known to need a split, for workers that must replay them (queries on a closed appeal
# replay its whole history): the chaos run's appeal-incident_management-chaos-4242-65. The replay
# test checks that this is what `splits_from_history` derives from its recorded history.
RECORDED_SPLITS: tuple[Split, ...] = (
    Split(
        run_id="01a227d5-f0fa-72d0-a0a3-ddc4695d4e26",
        wft_started=62,
        first=frozenset({("resolve_activity", 9)}),
    ),
)


def job_key(job: WorkflowActivationJob) -> JobKey | None:
    """The key of an activity resolution or a timer firing; None for other jobs."""
    if job.HasField("resolve_activity") and not job.resolve_activity.is_local:
        return ("resolve_activity", job.resolve_activity.seq)
    if job.HasField("fire_timer"):
        return ("fire_timer", job.fire_timer.seq)
    return None


def splits_from_history(history: WorkflowHistory) -> list[Split]:
    """The workflow tasks of `history` whose recorded commands prove that the recording worker
    applied the events before the task was scheduled ahead of an Update (see the module doc)."""
    events = list(history.events)
    run_id = history.run_id
    splits: list[Split] = []
    task_start = 0  # index of the first event after the previous task's commands
    for ix, event in enumerate(events):
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            continue
        done = event.workflow_task_completed_event_attributes
        commands = _commands_after(events, ix)
        window = [e for e in events[task_start:ix] if e.event_id < done.started_event_id]
        task_start = ix + 1 + len(commands)
        split = _split_for_task(run_id, window, commands, done.scheduled_event_id, done.started_event_id, events)
        if split is not None:
            splits.append(split)
    return splits


def _commands_after(events: Sequence[HistoryEvent], completed_ix: int) -> list[HistoryEvent]:
    commands = []
    for event in events[completed_ix + 1 :]:
        if event.event_type not in _COMMAND_EVENTS:
            break
        commands.append(event)
    return commands


def _split_for_task(
    run_id: str,
    window: Sequence[HistoryEvent],
    commands: Sequence[HistoryEvent],
    scheduled_id: int,
    started_id: int,
    events: Sequence[HistoryEvent],
) -> Split | None:
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    first_accept = next((i for i, c in enumerate(commands) if c.event_type == accepted), None)
    if not first_accept:  # no Update in this task, or its acceptance came first as usual
        return None
    if any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED for e in window):
        return None  # a signal handler legitimately runs before an Update: nothing proven
    first: set[JobKey] = set()
    for event in window:
        if event.event_id >= scheduled_id:
            break
        if event.event_type in _COMMAND_EVENTS or event.event_type in _NO_JOB_EVENTS:
            continue
        key = _job_of(event, events)
        if key is None:
            return None  # an event whose job we cannot name: leave it to fail visibly
        first.add(key)
    if not first:
        return None
    return Split(run_id=run_id, wft_started=started_id, first=frozenset(first))


def _job_of(event: HistoryEvent, events: Sequence[HistoryEvent]) -> JobKey | None:
    attributes = _ACTIVITY_RESOLUTIONS.get(event.event_type)
    if attributes is not None:
        scheduled_id = getattr(event, attributes).scheduled_event_id
        scheduled = next((e for e in events if e.event_id == scheduled_id), None)
        if scheduled is None:
            return None
        activity_id = scheduled.activity_task_scheduled_event_attributes.activity_id
        return ("resolve_activity", int(activity_id)) if activity_id.isdigit() else None
    if event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
        timer_id = event.timer_fired_event_attributes.timer_id
        return ("fire_timer", int(timer_id)) if timer_id.isdigit() else None
    return None


class ActivationOrderRunner(WrappingRunner):
    """A workflow runner that applies `splits` to the runs they name; otherwise `inner` as is."""

    def __init__(self, inner: WorkflowRunner, splits: Iterable[Split]) -> None:
        super().__init__(inner)
        self.splits: dict[str, dict[int, Split]] = {}
        for split in splits:
            self.splits.setdefault(split.run_id, {})[split.wft_started] = split

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        instance = self.inner.create_instance(det)
        splits = self.splits.get(det.info.run_id)
        return _SplitInstance(instance, splits) if splits else instance


class _SplitInstance(WrappingInstance):
    def __init__(self, inner: WorkflowInstance, splits: Mapping[int, Split]) -> None:
        super().__init__(inner)
        self.splits = splits

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        split = self.splits.get(act.history_length)
        present = {key for job in act.jobs if (key := job_key(job)) is not None}
        has_update = any(job.HasField("do_update") for job in act.jobs)
        if split is None or not has_update or not split.first <= present:
            return self.inner.activate(act)
        return activate_in_two(self.inner, act, lambda job: job_key(job) in split.first)


def activate_in_two(
    inner: WorkflowInstance, act: WorkflowActivation, first: Callable[[WorkflowActivationJob], bool]
) -> WorkflowActivationCompletion:
    """Activate `inner` with the jobs that satisfy `first`, then with the rest, and hand Core the
    commands of both as the one completion of `act`."""
    completion = inner.activate(_part(act, first))
    if not completion.HasField("successful"):
        return completion
    then = inner.activate(_part(act, lambda job: not first(job)))
    if not then.HasField("successful"):
        return then
    completion.successful.commands.extend(then.successful.commands)
    for flag in then.successful.used_internal_flags:
        if flag not in completion.successful.used_internal_flags:
            completion.successful.used_internal_flags.append(flag)
    if then.successful.versioning_behavior:
        completion.successful.versioning_behavior = then.successful.versioning_behavior
    return completion


def _part(act: WorkflowActivation, keep: Callable[[WorkflowActivationJob], bool]) -> WorkflowActivation:
    part = WorkflowActivation()
    part.CopyFrom(act)
    del part.jobs[:]
    part.jobs.extend(job for job in act.jobs if keep(job))
    return part
