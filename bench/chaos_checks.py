"""After the chaos: what PostgreSQL, Temporal and the webhook receiver say happened.

Each appeal's own timeline (the `get_state` query) is the reference: every entry must be stored
once in `appeal_events`, and every row there, in `notifications` and in `publications` must
belong to an entry of it. The history gives the timers, the task attempts and the replay.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from appeals import clocks
from appeals.models import AppealStatus
from appeals.state import AppealState
from bench.chaos_replay import decoded, replay
from bench.chaos_stack import Webhooks
from stack import client as stack_client
from stack.settings import WORKFLOW_TYPE
from workflows.appeal import AppealWorkflow

T = TypeVar("T")
# Kinds an appeal records at most once in its life.
ONCE = ("registered", "routed", "acknowledged", "interim_answered", "closed")
OVERDUE = timedelta(seconds=60)  # a timer this late has not fired: the appeal is stuck
QUERY_TIMEOUT = 30.0
# Activities whose input is what the workflow asks PostgreSQL to store (one event, or a batch).
STORAGE_ACTIVITIES = ("record_batch", "record_event")


@dataclass
class Findings:
    appeals: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    missing_timers: list[str] = field(default_factory=list)
    undelivered: list[str] = field(default_factory=list)
    replay_failures: dict[str, str] = field(default_factory=dict)
    redelivered: list[str] = field(default_factory=list)  # repeated across a worker kill, same key
    regrouped: list[str] = field(default_factory=list)  # replayed only with the recorded Update grouping
    open_appeals: int = 0
    closed_appeals: int = 0
    timers_checked: int = 0
    events: int = 0
    timeline_entries: int = 0  # compared with the rows
    notifications: int = 0
    publications: int = 0
    deliveries: int = 0
    task_timeouts: int = 0
    task_failures: int = 0


@dataclass
class Trace:
    """What Temporal says of one appeal."""

    status: WorkflowExecutionStatus | None = None
    task_attempt: int = 0
    pending_activities: list[tuple[str, int, str]] = field(default_factory=list)
    history: WorkflowHistory | None = None
    pending_timers: list[datetime] = field(default_factory=list)
    state: AppealState | None = None  # None: not asked (a closed appeal whose history says it all), or failed
    stored: dict[int, str] = field(default_factory=dict)  # seq → kind the history's storage activities carried

    @property
    def timeline(self) -> dict[int, str]:
        """The appeal's timeline: what its storage activities carried, and what the query returned."""
        return self.stored | ({e.seq: e.kind for e in self.state.timeline} if self.state else {})


async def gathered(items: list[str], work: Callable[[str], Awaitable[T]], concurrency: int) -> dict[str, T]:
    gate = asyncio.Semaphore(concurrency)

    async def one(item: str) -> T:
        async with gate:
            return await work(item)

    return dict(zip(items, await asyncio.gather(*(one(i) for i in items)), strict=True))


async def describe(client: Client, workflow_id: str) -> Trace:
    trace = Trace()
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return trace
        raise
    raw = description.raw_description
    trace.status = description.status
    if raw.HasField("pending_workflow_task"):
        trace.task_attempt = raw.pending_workflow_task.attempt
    trace.pending_activities = [
        (a.activity_type.name, a.attempt, a.last_failure.message) for a in raw.pending_activities
    ]
    return trace


async def unsettled(client: Client, pool: asyncpg.Pool, ids: list[str], concurrency: int) -> list[str]:
    """What still moves: retried workflow tasks and activities, deliveries not made yet."""
    traces = await gathered(ids, lambda i: describe(client, i), concurrency)
    moving = [f"{i}: workflow task attempt {t.task_attempt}" for i, t in traces.items() if t.task_attempt > 1]
    moving += [
        f"{i}: {name} attempt {attempt}"
        for i, t in traces.items()
        for name, attempt, _ in t.pending_activities
        if attempt > 1
    ]
    for table, done in (("notifications", "sent"), ("publications", "published")):
        late = await pool.fetchval(
            f"SELECT count(*) FROM {table} WHERE status = 'pending' AND created_at < now() - interval '15 seconds'"
        )
        if late:
            moving.append(f"{late} {table} not {done} yet")
    return moving


async def settle(client: Client, pool: asyncpg.Pool, ids: list[str], timeout: float, concurrency: int) -> float:
    """Wait (up to `timeout`) until nothing is being retried; returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not await unsettled(client, pool, ids, concurrency):
            break
        await asyncio.sleep(5)
    return time.monotonic() - start


async def query_state(client: Client, workflow_id: str) -> AppealState | None:
    try:
        return await asyncio.wait_for(
            client.get_workflow_handle(workflow_id).query("get_state", result_type=AppealState), QUERY_TIMEOUT
        )
    except Exception:  # a failing workflow task, a replay that breaks: reported as such
        return None


async def _trace(client: Client, workflow_id: str) -> Trace:
    trace = await describe(client, workflow_id)
    if trace.status is None:
        return trace
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    trace.history = history
    timers: dict[int, datetime] = {}
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_TIMER_STARTED:
            timeout = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            timers[event.event_id] = event.event_time.ToDatetime(tzinfo=UTC) + timeout
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            timers.pop(event.timer_fired_event_attributes.started_event_id, None)
        elif kind == EventType.EVENT_TYPE_TIMER_CANCELED:
            timers.pop(event.timer_canceled_event_attributes.started_event_id, None)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name in STORAGE_ACTIVITIES:
                [stored] = await stack_client.DATA_CONVERTER.decode(list(attrs.input.payloads), [dict])
                for entry in stored.get("events", [stored]):  # a batch of events, or one
                    trace.stored[int(entry["seq"])] = str(entry["kind"])
    trace.pending_timers = sorted(timers.values())
    # An open appeal is asked (its clocks and entries not stored yet); a closed one only when its
    # history does not carry its timeline (storage as a local activity): a query on a closed
    # workflow replays it whole on the worker, which at bench scale takes long.
    if trace.status == WorkflowExecutionStatus.RUNNING or not trace.stored:
        trace.state = await query_state(client, workflow_id)
    return trace


def expects_timer(state: AppealState) -> bool:
    """The SLA supervisor holds a timer while a clock has a warning, a breach or an escalation
    ahead; the feedback window is a timer too."""
    if state.status == AppealStatus.answered:
        return True
    rules: dict[str, Any] = getattr(AppealWorkflow, "rules", {})
    for clock in state.clocks:
        if clocks.next_alarm(clock) is not None:
            return True
        rule = rules.get(clock.name)
        escalates = rule.escalates if rule is not None else clock.name != "clarification"
        if clock.ticking and clock.breached_at is not None and escalates:
            return True
    return False


@dataclass
class Rows:
    """What PostgreSQL holds at one moment."""

    appeals: set[str]
    events: dict[str, dict[int, tuple[str, datetime]]]  # workflow id → seq → (kind, recorded at)
    deliveries: dict[str, dict[str, Any]]  # "notifications"/"publications" → key → row


async def snapshot(pool: asyncpg.Pool) -> Rows:
    events: dict[str, dict[int, tuple[str, datetime]]] = defaultdict(dict)
    for r in await pool.fetch("SELECT workflow_id, seq, kind, recorded_at FROM appeal_events"):
        events[r["workflow_id"]][r["seq"]] = (r["kind"], r["recorded_at"])
    deliveries = {
        table: {
            r["key"]: r
            for r in await pool.fetch(
                f"SELECT {key} AS key, status, adapter, now() - created_at > interval '30 seconds' AS due FROM {table}"
            )
        }
        for table, key in (
            ("notifications", "idempotency_key"),
            ("publications", "workflow_id || ':' || seq || ':publish'"),
        )
    }
    appeals = {r["workflow_id"] for r in await pool.fetch("SELECT workflow_id FROM appeals")}
    return Rows(appeals, events, deliveries)


def _clock(moment: datetime | float) -> str:
    when = datetime.fromtimestamp(moment) if isinstance(moment, float) else moment.astimezone()
    return when.strftime("%H:%M:%S.%f")[:-4]


async def verify(
    client: Client,
    pool: asyncpg.Pool,
    ids: list[str],
    webhooks: Webhooks,
    concurrency: int,
    evidence: Path,
    interruptions: list[tuple[float, float]] | None = None,
) -> Findings:
    """Every check; the histories that fail to replay are written to `evidence` (as JSON).

    The appeals keep moving while this runs, so PostgreSQL is read before the histories (a row
    then must be in them) and again after (what they say completed must then be stored)."""
    found = Findings(appeals=len(ids))
    before = await snapshot(pool)
    traces = await gathered(ids, lambda i: _trace(client, i), concurrency)
    after = await snapshot(pool)
    delivered = {key: list(times) for key, times in webhooks.delivered.items()}
    now = datetime.now(UTC)

    # Once as a workflow, once as a row.
    runs: Counter[str] = Counter()
    async for execution in client.list_workflows(f'WorkflowType = "{WORKFLOW_TYPE}"'):
        runs[execution.id] += 1
    wanted = set(ids)
    found.lost += [f"{i}: no workflow" for i, t in traces.items() if t.status is None]
    found.duplicated += [f"{i}: {n} workflow runs" for i, n in runs.items() if i in wanted and n > 1]
    found.duplicated += [f"{i}: a workflow nobody submitted" for i in runs if i not in wanted]
    found.lost += [f"{i}: no row in appeals" for i in ids if i not in after.appeals]
    found.duplicated += [f"{i}: a row nobody submitted" for i in after.appeals - wanted]

    # The timelines against the rows. A row read before the query must be in the timeline; an
    # entry the query returned must be stored by the read after it (or soon: a commit under way).
    found.events = sum(len(e) for e in after.events.values())
    missing: list[tuple[str, int, str]] = []
    timelines: dict[str, dict[int, str]] = {}
    for i, trace in traces.items():
        if trace.status is None:
            continue
        if not trace.timeline:
            found.unreadable.append(f"{i}: get_state failed ({trace.status.name}, task attempt {trace.task_attempt})")
            continue
        timeline = timelines[i] = trace.timeline
        found.timeline_entries += len(timeline)
        stored = {seq: kind for seq, (kind, _) in after.events.get(i, {}).items()}
        for seq, kind in timeline.items():
            if stored.get(seq) is None:
                missing.append((i, seq, kind))
            elif stored[seq] != kind:
                found.lost.append(f"{i}: entry {seq} ({kind}) stored as {stored[seq]}")
        for seq, (kind, at) in before.events.get(i, {}).items():
            if seq not in timeline:
                found.duplicated.append(f"{i}: event {seq} ({kind}), stored {_clock(at)}, not in its timeline")
        counts = Counter(stored.values())
        found.duplicated += [f"{i}: {counts[k]}x {k}" for k in ONCE if counts[k] > 1]
        published = sum(1 for kind in timeline.values() if kind == "published")
        done = sum(
            1
            for k, r in after.deliveries["publications"].items()
            if k.startswith(f"{i}:") and r["status"] == "published"
        )
        if published > done:
            found.lost.append(f"{i}: {published} answers published in the timeline, {done} publication rows")
    if missing:
        await asyncio.sleep(5)
        later = await snapshot(pool)
        for i, seq, kind in missing:
            if seq not in later.events.get(i, {}):
                found.lost.append(f"{i}: timeline entry {seq} ({kind}) not in appeal_events")
    for table, done_status in (("notifications", "sent"), ("publications", "published")):
        setattr(found, table, len(after.deliveries[table]))
        for key in before.deliveries[table]:
            workflow_id, number = key.split(":")[:2]
            if workflow_id in timelines and int(number) not in timelines[workflow_id]:
                found.duplicated.append(f"{key}: a {table} row for no entry of the timeline")
        for key, row in after.deliveries[table].items():
            if row["status"] == "pending" and not row["due"]:
                continue  # just written, its delivery under way: neither undelivered nor lost
            if row["status"] != done_status:
                found.undelivered.append(f"{key}: {table} {row['status']}")
            elif row["adapter"] == "webhook" and not delivered.get(key):
                found.lost.append(f"{key}: {table} marked {done_status}, never received by the webhook")
    found.deliveries = sum(len(times) for times in delivered.values())
    # At least once over HTTP: a worker killed, or PostgreSQL stopped, between the receiver's 2xx and
    # marking the row sent delivers again later, with the same Idempotency-Key, which the receiver
    # drops. Such a repeat is counted apart; any other repeat is a duplicate.
    for key, times in delivered.items():
        if len(times) < 2:
            continue
        line = f"{key}: delivered {len(times)}x to the webhook, at {', '.join(_clock(t) for t in times)}"
        if len(times) == 2 and any(start - 5.0 <= times[0] <= end + 2.0 for start, end in interruptions or []):
            found.redelivered.append(line)
        else:
            found.duplicated.append(line)
    events = {i: {seq: kind for seq, (kind, _) in e.items()} for i, e in after.events.items()}

    # Nothing stuck, nothing failed, every open appeal on a timer.
    open_ids = []
    for i, trace in traces.items():
        if trace.status is None:
            continue
        if trace.status == WorkflowExecutionStatus.RUNNING:
            open_ids.append(i)
            if trace.task_attempt > 1:
                found.stuck.append(f"{i}: workflow task attempt {trace.task_attempt}")
            for name, attempt, failure in trace.pending_activities:
                if attempt > 3:
                    found.stuck.append(f"{i}: {name} attempt {attempt}: {failure[:120]}")
            overdue = [t for t in trace.pending_timers if t < now - OVERDUE]
            if overdue:
                found.stuck.append(f"{i}: timer due {overdue[0].isoformat()} never fired")
            if "routed" not in events.get(i, {}).values():
                found.stuck.append(f"{i}: never routed")
        elif trace.status != WorkflowExecutionStatus.COMPLETED:
            found.failed.append(f"{i}: {trace.status.name}")
        assert trace.history is not None
        for event in trace.history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                found.task_timeouts += 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                found.task_failures += 1
    found.open_appeals = len(open_ids)
    open_ids = [i for i in open_ids if traces[i].task_attempt <= 1]  # a failing task is counted as stuck
    found.closed_appeals = sum(1 for t in traces.values() if t.status == WorkflowExecutionStatus.COMPLETED)
    found.missing_timers = await _missing_timers(client, open_ids, traces)
    found.timers_checked = len(open_ids)
    histories = {i: t.history for i, t in traces.items() if t.history is not None}
    found.replay_failures, regrouped = await replay(histories)
    found.regrouped = [i for i in regrouped if i in traces]
    for workflow_id in found.replay_failures:
        history = traces[workflow_id].history
        if history is not None:
            evidence.mkdir(parents=True, exist_ok=True)
            (evidence / f"{workflow_id}.json").write_text((await decoded(history)).to_json(), encoding="utf-8")
    return found


async def _missing_timers(client: Client, open_ids: list[str], traces: dict[str, Trace]) -> list[str]:
    suspects = [
        i for i in open_ids if (state := traces[i].state) and expects_timer(state) and not traces[i].pending_timers
    ]
    missing = []
    for i in suspects:  # a timer may have fired between the history and the query: look again
        again = await _trace(client, i)
        if again.state is None:
            missing.append(f"{i}: get_state failed")
        elif (
            again.status == WorkflowExecutionStatus.RUNNING and expects_timer(again.state) and not again.pending_timers
        ):
            missing.append(f"{i}: {again.state.status.value}, a clock running, no timer pending")
    return missing
