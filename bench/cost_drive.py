"""Driving the load of the cost bench: the appeal, its happy path through Updates, the raw floor's
lifecycle, bounded concurrency, and the two bursts.

The officials act when the appeal shows the status they wait for, as an operator acts on what the
UI shows: the driver long-polls the appeal's history on the server (no worker involved) and reads
the `AppealStatus` search attribute the workflow upserts (awaiting_acknowledgment, in_moderation,
answered). Queries or Updates sent on spec would each cost the worker a workflow task and bias the
figure being measured. Should the status never show (`STATUS_PATIENCE`), or the workflow still
refuse the Update for now, it is tried again after the appeal has moved (a workflow task
completed) or a second at most; both are counted and reported."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from appeals.models import Acknowledge, AppealInput, Moderate, Rate
from bench import cost_raw, journeys
from bench.journeys import good_answer
from stack.intake import submit

UPDATE_PATIENCE = 180.0  # seconds an official keeps trying one action before the run fails
STATUS_PATIENCE = 60.0  # seconds to wait for the status an action needs, then try it anyway
STATUS = "AppealStatus"


def run_tag() -> str:
    return uuid.uuid4().hex[:6]


def make_appeal(received_at: datetime, external_id: str, **overrides: Any) -> AppealInput:
    """The journeys' appeal (a VK post about snow in Perm) under an id of the run's."""
    return journeys.make_appeal(received_at, external_id=external_id, **overrides)


@dataclass
class DriverStats:
    updates: int = 0
    refused: int = 0  # Updates the workflow refused for now and the driver tried again
    status_timeouts: int = 0  # waits for a status that never showed in the history


def _status(fields: Any) -> str | None:
    payload = fields.get(STATUS) if fields is not None else None
    if payload is None:
        return None
    try:
        value = json.loads(payload.data)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


class Follower:
    """Follows an appeal's history by long-polling it on the server: its completed workflow tasks
    and every value its `AppealStatus` search attribute took."""

    def __init__(self, handle: WorkflowHandle[Any, Any]) -> None:
        self.tasks = 0
        self.statuses: set[str] = set()
        self._moved = asyncio.Event()
        self._task = asyncio.create_task(self._follow(handle))

    async def _follow(self, handle: WorkflowHandle[Any, Any]) -> None:
        last = 0  # the last event seen: a long poll that fails is started again after it
        for _ in range(5):
            try:
                async for event in handle.fetch_history_events(wait_new_event=True):
                    if event.event_id > last:
                        last = event.event_id
                        self._saw(event)
                return
            except RPCError:
                await asyncio.sleep(0.5)

    def _saw(self, event: HistoryEvent) -> None:
        status = None
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            self.tasks += 1
        elif event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            attributes = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            status = _status(attributes.indexed_fields)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            attributes = event.workflow_execution_started_event_attributes.search_attributes
            status = _status(attributes.indexed_fields)
        if status:
            self.statuses.add(status)
        self._moved.set()

    async def _until(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if self._task.done():
                return False
            self._moved.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), left)
        return True

    async def moved_since(self, seen: int, timeout: float = 1.0) -> None:
        await self._until(lambda: self.tasks > seen, timeout)

    async def reached(self, status: str, timeout: float = STATUS_PATIENCE) -> bool:
        """True once the appeal has shown `status` (now or earlier)."""
        return await self._until(lambda: status in self.statuses, timeout)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def act(
    handle: WorkflowHandle[Any, Any],
    update: str,
    arg: Any,
    follower: Follower,
    stats: DriverStats,
    *,
    once: str | None = None,
) -> Any:
    """Run one Update once the appeal shows the status `once`; tried again while refused for now.
    After one status that never showed, the run stops waiting for statuses (the workflow no longer
    publishes them) and relies on trying again alone."""
    if once is not None and not stats.status_timeouts and not await follower.reached(once):
        stats.status_timeouts += 1
    deadline = time.monotonic() + UPDATE_PATIENCE
    while True:
        seen = follower.tasks
        stats.updates += 1
        try:
            return await handle.execute_update(update, arg)
        except (WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            stats.refused += 1
            if time.monotonic() > deadline:
                cause = getattr(err, "cause", None) or err
                refused = f"{handle.id}: '{update}' still refused after {UPDATE_PATIENCE:.0f}s"
                raise RuntimeError(f"{refused}: {cause}") from err
        await follower.moved_since(seen)


async def happy_path(client: Client, task_queue: str, appeal: AppealInput, stats: DriverStats) -> None:
    """submit → acknowledge → answer with a photo → moderator accepts → citizen rates 5 → closed."""
    submission = await submit(client, appeal, task_queue=task_queue)
    if not submission.created:
        raise RuntimeError(f"{appeal.workflow_id}: not started ({submission.describe()})")
    handle = client.get_workflow_handle(appeal.workflow_id)
    follower = Follower(handle)
    try:
        await act(handle, "acknowledge", Acknowledge(by="ivanov"), follower, stats, once="awaiting_acknowledgment")
        await act(handle, "answer", good_answer(), follower, stats)
        await act(handle, "moderate", Moderate(by="moderator", accept=True), follower, stats, once="in_moderation")
        await act(handle, "rate", Rate(by="citizen", score=5), follower, stats, once="answered")
        result = await handle.result()
    finally:
        await follower.close()
    status = result.get("status") if isinstance(result, dict) else getattr(result, "status", None)
    if status != "closed":
        raise RuntimeError(f"{appeal.workflow_id}: ended as {status!r}, not 'closed'")


async def raw_lifecycle(client: Client, task_queue: str, workflow_id: str) -> None:
    """The floor: start, one signal, the result."""
    handle = await start_raw(client, task_queue, workflow_id)
    await handle.signal(cost_raw.PROCEED)
    await handle.result()


async def start_raw(client: Client, task_queue: str, workflow_id: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(cost_raw.LIFECYCLE_TYPE, workflow_id, id=workflow_id, task_queue=task_queue)


async def start_appeal(client: Client, task_queue: str, appeal: AppealInput) -> None:
    submission = await submit(client, appeal, task_queue=task_queue)
    if not submission.created:
        raise RuntimeError(f"{appeal.workflow_id}: not started ({submission.describe()})")


async def bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run one(0) … one(count-1), `concurrency` at a time; returns the wall-clock seconds."""
    next_index = 0

    async def lane() -> None:
        nonlocal next_index
        while next_index < count:
            n, next_index = next_index, next_index + 1
            await one(n)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(min(concurrency, count))))
    return time.perf_counter() - began


async def terminate_all(client: Client, ids: list[str], concurrency: int = 50) -> None:
    """End what the bench left running; the ones already closed are fine."""

    async def one(n: int) -> None:
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(ids[n]).terminate("cost bench: measured")

    await bounded(len(ids), concurrency, one)


# --- The burst -------------------------------------------------------------------------------


@dataclass
class Burst:
    ids: list[str]
    instant: datetime  # when they were all received (appeals) or set to fire from (timers)
    due: datetime  # when the clock, or the timer, is due
    start_seconds: float  # how long starting them all took


async def raw_timer_storm(client: Client, task_queue: str, count: int, clock: timedelta, concurrency: int) -> Burst:
    """`count` raw timers, all due at one instant `clock` from now."""
    instant = datetime.now(UTC)
    due = instant + clock
    tag = run_tag()
    ids = [f"cost-timer-{tag}-{n}" for n in range(count)]

    async def one(n: int) -> None:
        await client.start_workflow(cost_raw.TIMER_TYPE, due.isoformat(), id=ids[n], task_queue=task_queue)

    took = await bounded(count, concurrency, one)
    return Burst(ids, instant, due, took)


async def appeal_burst(client: Client, task_queue: str, count: int, clock: timedelta, concurrency: int) -> Burst:
    """`count` appeals received at one instant (the policy gives each `clock` to be acknowledged)."""
    instant = datetime.now(UTC)
    tag = run_tag()
    appeals = [make_appeal(instant, f"cost-burst-{tag}-{n}") for n in range(count)]

    async def one(n: int) -> None:
        await start_appeal(client, task_queue, appeals[n])

    took = await bounded(count, concurrency, one)
    return Burst([a.workflow_id for a in appeals], instant, instant + clock, took)
