"""Retention (152-ФЗ) on real PostgreSQL: what is erased, what is never touched, and the schedule."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from activities.notifiers import LogNotifier
from activities.publishing import PublishingActivities, RecordingPublisher
from activities.retention import ERASED, RetentionActivities, RetentionBatch, RetentionRequest, RetentionRun
from activities.storage import StorageActivities
from appeals.clocks import Clock, Pause
from appeals.durations import Kind
from appeals.models import AppealInput, AppealStatus, Recipient
from appeals.records import AppealEvent, NotificationRequest, Projection, Publication
from stack.retention_schedule import ensure_retention_schedule, retention_schedule
from stack.settings import Settings
from tests.conftest import eventually
from workflows.retention import RETENTION_WORKFLOW_TYPE, RetentionWorkflow

NAME, HANDLE, CONTACT = "Мария Иванова", "id7654321", "+7 912 555-44-33"
ADDRESS = "Пермь, ул. Ленина, 50, кв. 7"
TEXT = "Третий день не вывозят снег во дворе дома на ул. Ленина, 50."
REPLY = "Подъезд номер два, машина стоит у мусорных баков"
REFUTATION = "Снег снова не вывезли, я живу тут одна"
PERSONAL = (NAME, HANDLE, CONTACT, ADDRESS, TEXT, REPLY, REFUTATION, "555-44-33", "кв. 7")
LONG_AGO = datetime(2019, 3, 1, 9, tzinfo=UTC)
CUTOFF = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest.fixture
def retention(pool: asyncpg.Pool) -> RetentionActivities:
    return RetentionActivities(pool)


def event(wid: str, seq: int, kind: str, st: AppealStatus, at: datetime, summary: str, **kw: Any) -> AppealEvent:
    closed_at = kw.pop("closed_at", None)
    appeal = kw.pop("appeal", None)
    pause = kw.pop("clocks", [])
    return AppealEvent(
        workflow_id=wid,
        seq=seq,
        kind=kind,
        at=at,
        summary=summary,
        data=kw,
        projection=Projection(status=st, executor="perm-roads@gorodperm.ru", closed_at=closed_at, clocks=pause),
        appeal=appeal,
    )


async def an_appeal(
    env: ActivityEnvironment, pool: asyncpg.Pool, received: datetime, *, closed: datetime | None
) -> str:
    """An appeal with the citizen's data in every place it lands; closed at `closed` (or open)."""
    appeal = AppealInput.model_validate(
        {
            "channel": "vk",
            "external_id": f"wall-{uuid.uuid4().hex[:12]}",
            "text": TEXT,
            "author": {"name": NAME, "handle": HANDLE, "contact": CONTACT},
            "received_at": received.isoformat(),
            "category": "snow_removal",
            "municipality": "Пермь",
            "address": ADDRESS,
        }
    )
    wid, t = appeal.workflow_id, received
    store = StorageActivities(pool)
    waiting = Clock(
        name="answer",
        kind=Kind.calendar,
        started_at=t,
        allowed=timedelta(hours=8),
        due_at=t + timedelta(hours=9),
        paused=timedelta(hours=1),
        pauses=[
            Pause(started_at=t, ended_at=t + timedelta(hours=1), counted=timedelta(hours=1), reason=f"ждём {NAME}")
        ],
    )
    s = AppealStatus
    events = [
        event(wid, 1, "registered", s.registered, t, "registered from vk", appeal=appeal),
        event(
            wid, 2, "routed", s.in_progress, t, "routed to perm-roads@gorodperm.ru", executor="perm-roads@gorodperm.ru"
        ),
        event(
            wid, 3, "question_asked", s.waiting_for_citizen, t, "ivanov asked", by="ivanov", question="Какой подъезд?"
        ),
        event(wid, 4, "resumed", s.in_progress, t, "clocks resumed by the citizen", by="the citizen", text=REPLY),
        event(
            wid,
            5,
            "notification_failed",
            s.in_progress,
            t,
            f"question to {CONTACT} failed: HTTP 500",
            recipient=CONTACT,
        ),
        event(wid, 6, "answered", s.answered, t, "answered by ivanov", by="ivanov", on_time=True, attachments=1),
        event(wid, 7, "reopened", s.in_progress, t, f"refuted by {HANDLE}: {REFUTATION}", by=HANDLE, reason=REFUTATION),
        event(
            wid, 8, "rated", s.answered, t, "rated 5/5 by citizen", by="citizen", score=5, comment=f"Спасибо, {NAME}"
        ),
        event(wid, 9, "paused", s.in_progress, t, "paused", by="ivanov", reason="ждём подрядчика", clocks=[waiting]),
    ]
    # The intake sent it again with new content, and a malformed signal was refused.
    content = {"text": f"{TEXT} Звоните {CONTACT}", "author": {"name": NAME, "contact": CONTACT}}
    events += [
        event(wid, 10, "resubmitted", s.in_progress, t, "sent again", changed=["author", "text"], content=content),
        event(wid, 11, "signal_refused", s.in_progress, t, "signal refused", signal="citizen_replied", reason=REPLY),
    ]
    if closed is not None:
        events.append(event(wid, 12, "closed", s.closed, closed, "closed: rated 5", status="closed", closed_at=closed))
    for e in events:
        assert await env.run(store.record_event, e) is True
    notify = NotificationActivities(pool, LogNotifier())
    for recipient in (
        Recipient(role="citizen", address=CONTACT),
        Recipient(role="executor", address="perm-roads@x.ru"),
    ):
        request = NotificationRequest(
            workflow_id=wid, seq=3, kind="question", recipient=recipient, subject="Уточнение", body=f"{NAME}: {TEXT}"
        )
        assert await env.run(notify.send_notification, request) is True
    publication = Publication(
        workflow_id=wid,
        seq=6,
        channel="vk",
        external_id=appeal.external_id,
        recipient=HANDLE,
        text=f"{NAME}, снег вывезен.",
        attachments=[{"url": "https://files.example/yard.jpg", "kind": "photo"}],
    )
    assert await env.run(PublishingActivities(pool, RecordingPublisher()).publish_answer, publication) is True
    return wid


async def snapshot(pool: asyncpg.Pool, wid: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the appeal, in every table where its personal data may land."""
    found = {}
    for table, order in [
        ("appeals", "workflow_id"),
        ("appeal_events", "seq"),
        ("notifications", "recipient_role"),
        ("publications", "seq"),
        ("appeal_clocks", "number"),
    ]:
        rows = await pool.fetch(f"SELECT * FROM {table} WHERE workflow_id = $1 ORDER BY {order}", wid)
        found[table] = [dict(r) for r in rows]
    return found


def dump(rows: Any) -> str:
    return json.dumps(rows, ensure_ascii=False, default=str)


async def erase(env: ActivityEnvironment, retention: RetentionActivities, run_key: str, cutoff: datetime) -> int:
    await env.run(retention.start_retention_run, RetentionRun(run_key=run_key, cutoff=cutoff, retention_days=1825))
    return await env.run(retention.erase_closed_appeals, RetentionBatch(run_key=run_key, cutoff=cutoff, limit=50))


# --- the activity ----------------------------------------------------------------------------


async def test_an_appeal_closed_long_ago_is_erased_and_its_audit_trail_keeps_its_shape(
    env: ActivityEnvironment, pool: asyncpg.Pool, retention: RetentionActivities
) -> None:
    wid = await an_appeal(env, pool, LONG_AGO, closed=LONG_AGO + timedelta(days=20))
    before = await snapshot(pool, wid)
    assert all(p in dump(before) for p in (NAME, CONTACT, REPLY))

    erased = await erase(env, retention, f"test-{uuid.uuid4().hex}", CUTOFF)

    assert erased >= 1
    after = await snapshot(pool, wid)
    text = dump(after)
    for personal in PERSONAL:
        assert personal not in text, f"{personal!r} survived"
    [appeal] = after["appeals"]
    assert (appeal["text"], appeal["address"]) == (ERASED, ERASED)
    assert appeal["author"] == {"name": ERASED, "handle": ERASED, "contact": ERASED}
    assert appeal["erased_at"] is not None
    assert (appeal["status"], appeal["closed_at"], appeal["executor"]) == (
        "closed",
        before["appeals"][0]["closed_at"],
        "perm-roads@gorodperm.ru",
    )
    # Same rows, kinds, seqs, times and keys: only personal values are replaced.
    shape = ("seq", "kind", "occurred_at", "recorded_at")
    assert [tuple(e[k] for k in shape) for e in after["appeal_events"]] == [
        tuple(e[k] for k in shape) for e in before["appeal_events"]
    ]
    assert [sorted(e["data"]) for e in after["appeal_events"]] == [sorted(e["data"]) for e in before["appeal_events"]]
    events = {e["kind"]: e for e in after["appeal_events"]}
    assert events["resumed"]["data"] == {"by": "the citizen", "text": ERASED}
    assert events["reopened"]["data"] == {"by": ERASED, "reason": ERASED}
    assert events["reopened"]["summary"] == f"refuted by {ERASED}: {ERASED}"
    assert events["notification_failed"]["summary"] == f"question to {ERASED} failed: HTTP 500"
    assert events["rated"]["data"] == {"by": "citizen", "score": 5, "comment": ERASED}
    assert events["answered"]["data"] == {"by": "ivanov", "on_time": True, "attachments": 1}
    assert events["answered"]["erased_at"] is None  # nothing personal in it: left as it was
    assert events["routed"]["summary"] == "routed to perm-roads@gorodperm.ru"
    assert events["resubmitted"]["data"] == {"changed": ["author", "text"], "content": ERASED}
    assert events["signal_refused"]["data"] == {"signal": "citizen_replied", "reason": ERASED}
    assert events["closed"]["data"] == {"status": "closed"}
    citizen, executor = after["notifications"]
    assert (citizen["recipient_role"], citizen["recipient"], citizen["body"]) == ("citizen", ERASED, ERASED)
    assert CONTACT not in citizen["idempotency_key"] and citizen["idempotency_key"].startswith(f"{wid}:3:erased-")
    assert (executor["recipient"], executor["body"]) == ("perm-roads@x.ru", ERASED)
    assert executor["idempotency_key"] == before["notifications"][1]["idempotency_key"]
    assert all(n["status"] == "sent" and n["erased_at"] for n in after["notifications"])
    [publication] = after["publications"]
    assert (publication["recipient"], publication["text"], publication["attachments"]) == (ERASED, ERASED, [])
    assert publication["status"] == "published"
    [clock] = after["appeal_clocks"]
    assert [p["reason"] for p in clock["pauses"]] == [ERASED]
    assert clock["due_at"] == before["appeal_clocks"][0]["due_at"]


async def test_a_recently_closed_appeal_and_an_open_one_are_untouched(
    env: ActivityEnvironment, pool: asyncpg.Pool, retention: RetentionActivities
) -> None:
    recent = await an_appeal(env, pool, datetime(2026, 10, 1, 9, tzinfo=UTC), closed=datetime(2026, 11, 1, tzinfo=UTC))
    # Open for years (e.g. an honest deadline far away): received long ago, never closed.
    still_open = await an_appeal(env, pool, LONG_AGO, closed=None)
    before = {wid: await snapshot(pool, wid) for wid in (recent, still_open)}

    await erase(env, retention, f"test-{uuid.uuid4().hex}", CUTOFF)
    # Even a cutoff past every closing leaves an open appeal alone.
    await erase(env, retention, f"test-{uuid.uuid4().hex}", datetime(2026, 11, 2, tzinfo=UTC) - timedelta(days=1))

    assert {wid: await snapshot(pool, wid) for wid in (recent, still_open)} == before


async def test_erasing_again_changes_nothing_and_every_run_is_recorded(
    env: ActivityEnvironment, pool: asyncpg.Pool, retention: RetentionActivities
) -> None:
    wid = await an_appeal(env, pool, LONG_AGO, closed=LONG_AGO + timedelta(days=3))
    first_key, second_key = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"

    first = await erase(env, retention, first_key, CUTOFF)
    erased_once = await snapshot(pool, wid)
    second = await erase(env, retention, second_key, CUTOFF)
    # A retried start of the same run keeps its first row.
    await env.run(retention.start_retention_run, RetentionRun(run_key=first_key, cutoff=LONG_AGO, retention_days=9))

    assert first >= 1 and second == 0
    assert await snapshot(pool, wid) == erased_once
    report = await env.run(retention.finish_retention_run, first_key)
    again = await env.run(retention.finish_retention_run, first_key)
    assert (report.appeals_erased, report.cutoff, report.finished_at) == (first, CUTOFF, again.finished_at)
    assert report.started_at <= report.finished_at
    rows = await pool.fetch(
        "SELECT run_key, cutoff, retention_days, appeals_erased, finished_at FROM retention_runs"
        " WHERE run_key = ANY($1::text[]) ORDER BY started_at",
        [first_key, second_key],
    )
    assert [(r["run_key"], r["cutoff"], r["retention_days"], r["appeals_erased"]) for r in rows] == [
        (first_key, CUTOFF, 1825, first),
        (second_key, CUTOFF, 1825, 0),
    ]
    assert rows[0]["finished_at"] is not None and rows[1]["finished_at"] is None


async def test_the_batch_size_bounds_one_transaction(
    env: ActivityEnvironment, pool: asyncpg.Pool, retention: RetentionActivities
) -> None:
    closed = datetime(2018, 5, 5, tzinfo=UTC)
    wids = [await an_appeal(env, pool, closed - timedelta(days=2), closed=closed) for _ in range(3)]
    run_key, cutoff = f"test-{uuid.uuid4().hex}", closed + timedelta(seconds=1)
    await env.run(retention.start_retention_run, RetentionRun(run_key=run_key, cutoff=cutoff, retention_days=1))

    counts = [
        await env.run(retention.erase_closed_appeals, RetentionBatch(run_key=run_key, cutoff=cutoff, limit=2))
        for _ in range(3)
    ]

    assert counts == [2, 1, 0]
    erased = await pool.fetchval(
        "SELECT count(*) FROM appeals WHERE workflow_id = ANY($1) AND erased_at IS NOT NULL", wids
    )
    assert erased == 3


# --- the narrow exception to the append-only audit trail ---------------------------------------


async def test_the_audit_trail_stays_append_only_outside_erasure(env: ActivityEnvironment, pool: asyncpg.Pool) -> None:
    closed = await an_appeal(env, pool, LONG_AGO, closed=LONG_AGO + timedelta(days=1))
    still_open = await an_appeal(env, pool, LONG_AGO, closed=None)
    erase_text = "UPDATE appeal_events SET data = jsonb_set(data, '{text}', '\"[erased]\"'), erased_at = now()"
    where = "WHERE workflow_id = $1 AND seq = 4"
    refused = [
        # no declared erasure
        (closed, f"{erase_text} {where}", False),
        # an open appeal
        (still_open, f"{erase_text} {where}", True),
        # a value replaced by anything but "[erased]"
        (
            closed,
            f"UPDATE appeal_events SET data = jsonb_set(data, '{{text}}', '\"другое\"'), erased_at = now() {where}",
            True,
        ),
        # a key removed
        (closed, f"UPDATE appeal_events SET data = data - 'text', erased_at = now() {where}", True),
        # the kind rewritten
        (closed, f"UPDATE appeal_events SET kind = 'x', erased_at = now() {where}", True),
        # without marking the row erased
        (closed, f"UPDATE appeal_events SET data = jsonb_set(data, '{{text}}', '\"[erased]\"') {where}", True),
        # a delete, ever
        (closed, "DELETE FROM appeal_events WHERE workflow_id = $1", True),
    ]
    for wid, sql, declared in refused:
        async with pool.acquire() as conn:
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                async with conn.transaction():
                    if declared:
                        await conn.execute("SELECT set_config('appeals.erasure', 'on', true)")
                    await conn.execute(sql, wid)

    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('appeals.erasure', 'on', true)")
        await conn.execute(f"{erase_text} {where}", closed)
    row = await pool.fetchrow("SELECT data, erased_at FROM appeal_events WHERE workflow_id = $1 AND seq = 4", closed)
    assert row["data"] == {"by": "the citizen", "text": ERASED} and row["erased_at"] is not None
    # Erased once: the row cannot be changed again.
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            async with conn.transaction():
                await conn.execute("SELECT set_config('appeals.erasure', 'on', true)")
                await conn.execute(f"{erase_text} {where}", closed)


# --- the workflow and the schedule -----------------------------------------------------------


def retention_worker(client: Client, pool: asyncpg.Pool, task_queue: str) -> Worker:
    activities = RetentionActivities(pool)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[RetentionWorkflow],
        activities=[
            activities.start_retention_run,
            activities.erase_closed_appeals,
            activities.finish_retention_run,
        ],
    )


async def test_the_retention_workflow_erases_in_batches_and_records_the_run(
    ts_env: WorkflowEnvironment, env: ActivityEnvironment, pool: asyncpg.Pool, task_queue: str
) -> None:
    closed = datetime(2017, 2, 2, tzinfo=UTC)
    wids = [await an_appeal(env, pool, closed - timedelta(days=1), closed=closed) for _ in range(3)]
    run_id = f"retention-test-{uuid.uuid4().hex[:8]}"

    async with retention_worker(ts_env.client, pool, task_queue):
        report = await ts_env.client.execute_workflow(
            RetentionWorkflow.run,
            RetentionRequest(retention_days=1825, batch_size=2, cutoff=closed + timedelta(seconds=1)),
            id=run_id,
            task_queue=task_queue,
        )

    assert report.run_key == run_id and report.appeals_erased == 3
    assert report.finished_at is not None
    for wid in wids:
        assert NAME not in dump(await snapshot(pool, wid))
    row = await pool.fetchrow("SELECT * FROM retention_runs WHERE run_key = $1", run_id)
    assert (row["appeals_erased"], row["cutoff"], row["retention_days"]) == (3, closed + timedelta(seconds=1), 1825)


@pytest_asyncio.fixture
async def schedule_id(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    name = f"appeals-retention-test-{uuid.uuid4().hex[:8]}"
    yield name
    await dev_env.client.get_schedule_handle(name).delete()


async def test_the_schedule_is_created_once_kept_current_and_starts_the_workflow(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str, schedule_id: str
) -> None:
    client = dev_env.client
    # A century: the triggered run below must not erase other tests' appeals.
    settings = dataclasses.replace(Settings(), task_queue=task_queue, retention_days=36500, retention_batch=100)

    assert await ensure_retention_schedule(client, settings, schedule_id=schedule_id) == "created"
    handle = client.get_schedule_handle(schedule_id)
    await handle.pause(note="paused by an operator")
    later = dataclasses.replace(settings, retention_every_hours=12)
    assert await ensure_retention_schedule(client, later, schedule_id=schedule_id) == "updated"

    described = await handle.describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue, action.id) == (RETENTION_WORKFLOW_TYPE, task_queue, schedule_id)
    assert [i.every for i in described.schedule.spec.intervals] == [timedelta(hours=12)]
    assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert described.schedule.state.paused and described.schedule.state.note == "paused by an operator"
    schedules = [s.id async for s in await client.list_schedules()]
    assert schedules.count(schedule_id) <= 1

    async with retention_worker(client, pool, task_queue):
        await handle.trigger()

        async def finished() -> asyncpg.Record | None:
            return await pool.fetchrow(
                "SELECT * FROM retention_runs WHERE run_key LIKE $1 AND finished_at IS NOT NULL", f"{schedule_id}-%"
            )

        run = await eventually(finished, timeout=30)

    assert run is not None, "the triggered run never finished"
    assert run["retention_days"] == 36500 and run["appeals_erased"] == 0
    assert run["cutoff"] < datetime.now(UTC) - timedelta(days=36000)


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [("retention_days", 0, "APPEALS_RETENTION_DAYS"), ("retention_every_hours", 0, "APPEALS_RETENTION_EVERY_HOURS"),
     ("retention_batch", 0, "APPEALS_RETENTION_BATCH")],
)  # fmt: skip
def test_nonsense_retention_settings_stop_the_worker_with_the_variable_named(field: str, value: int, variable: str):
    with pytest.raises(SystemExit, match=variable):
        retention_schedule(dataclasses.replace(Settings(), **{field: value}))
