"""Reading histories for the cost bench: events and serialized bytes, workflow task durations,
timer fire times, a breakdown of where the bytes go, and the CPU of replaying them."""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from bench.cost_drive import bounded

_TASK_ENDS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_task_completed_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: "workflow_task_failed_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: "workflow_task_timed_out_event_attributes",
}


def seconds(event: HistoryEvent) -> float:
    return float(event.event_time.ToMicroseconds()) / 1e6


def history_bytes(history: WorkflowHistory) -> int:
    """The serialized size of the history, as the server stores and sends it (payloads encrypted)."""
    return History(events=history.events).ByteSize()


def json_bytes(history: WorkflowHistory) -> int:
    """The size of the history as JSON, as the UI and `temporal workflow show` export it."""
    return len(history.to_json().encode())


@dataclass
class Tasks:
    durations: list[float]  # WorkflowTaskStarted → Completed, Failed or TimedOut, in seconds
    failed: Counter[str]  # by cause
    timed_out: int  # start to close: the worker held the task past its timeout
    sticky_timeouts: int  # schedule to start: no poll of the worker's sticky queue in time (5 s), retried


def workflow_tasks(histories: Sequence[WorkflowHistory]) -> Tasks:
    """Every workflow task's duration. A task cut short by the bench's own terminate (its end is
    followed at once by WorkflowExecutionTerminated) is left out."""
    durations: list[float] = []
    failed: Counter[str] = Counter()
    timed_out = sticky = 0
    for history in histories:
        started: dict[int, float] = {}
        events = list(history.events)
        for n, event in enumerate(events):
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                started[event.event_id] = seconds(event)
                continue
            if event.event_type not in _TASK_ENDS:
                continue
            following = events[n + 1].event_type if n + 1 < len(events) else None
            if following == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                continue
            attributes = getattr(event, _TASK_ENDS[event.event_type])
            began = started.get(attributes.started_event_id)
            if began is not None:
                durations.append(seconds(event) - began)
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                cause = WorkflowTaskFailedCause.Name(attributes.cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")
                failed[cause] += 1
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                if attributes.timeout_type == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START:
                    sticky += 1
                else:
                    timed_out += 1
    return Tasks(durations, failed, timed_out, sticky)


def first_timer_fired(history: WorkflowHistory) -> float | None:
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            return seconds(event)
    return None


def breakdown(history: WorkflowHistory) -> list[tuple[str, int, int]]:
    """(event type, count, bytes) of one history, the heaviest first."""
    count: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for event in history.events:
        kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        count[kind] += 1
        size[kind] += event.ByteSize()
    return [(kind, count[kind], size[kind]) for kind, _ in size.most_common()]


def largest(history: WorkflowHistory, count: int = 5) -> list[tuple[int, str, int]]:
    """The heaviest single events: (event id, what it is, bytes)."""
    found = []
    for event in history.events:
        what = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            what += f" {event.activity_task_scheduled_event_attributes.activity_type.name}"
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            what += f" {event.marker_recorded_event_attributes.marker_name}"
        found.append((event.event_id, what, event.ByteSize()))
    return sorted(found, key=lambda e: -e[2])[:count]


def activity_types(history: WorkflowHistory) -> Counter[str]:
    """How many times each activity was scheduled (local activities show as markers)."""
    found: Counter[str] = Counter()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            found[event.activity_task_scheduled_event_attributes.activity_type.name] += 1
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            found[f"marker:{event.marker_recorded_event_attributes.marker_name}"] += 1
    return found


async def fetch_all(client: Client, ids: Sequence[str], concurrency: int = 20) -> list[WorkflowHistory]:
    found: list[WorkflowHistory | None] = [None] * len(ids)

    async def one(n: int) -> None:
        found[n] = await client.get_workflow_handle(ids[n]).fetch_history()

    await bounded(len(ids), concurrency, one)
    return [h for h in found if h is not None]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def replayer_like(worker: Worker, data_converter: DataConverter, *, sandbox: bool = True) -> Replayer:
    """A Replayer configured as `worker` is (its workflows, sandbox runner and interceptors), so
    a change to the project's worker setup shows in the replay CPU too. `sandbox=False` replays
    the same workflows without the sandbox, to show what the sandbox costs."""
    config = worker.config()
    runner = config["workflow_runner"] if sandbox else UnsandboxedWorkflowRunner()
    return Replayer(
        workflows=config.get("workflows") or [],
        workflow_runner=runner,
        unsandboxed_workflow_runner=config["unsandboxed_workflow_runner"],
        interceptors=config.get("interceptors") or [],
        workflow_failure_exception_types=config.get("workflow_failure_exception_types") or [],
        data_converter=data_converter,
    )


async def replay_cpu(replayer: Replayer, histories: Sequence[WorkflowHistory]) -> float:
    """CPU seconds per replayed history (this process, all threads); each history is a new run."""
    if not histories:
        return math.nan

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    began = time.process_time()
    await replayer.replay_workflows(each())
    return (time.process_time() - began) / len(histories)
