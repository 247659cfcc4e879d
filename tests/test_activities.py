"""Storage and notification activities against the real PostgreSQL and a real loopback webhook."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiohttp import web
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from activities.notifiers import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    LogNotifier,
    WebhookNotifier,
    sign,
)
from activities.planning import CALENDAR_FILE, load
from activities.storage import StorageActivities
from appeals import clocks
from appeals.durations import Duration
from appeals.models import AppealInput, AppealStatus, Recipient
from appeals.records import AppealEvent, NotificationRequest, Projection
from appeals.sla import Role, Threshold
from appeals.working_calendar import CalendarConfig, WorkingCalendar

RECEIVED = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SECRET = "test-webhook-secret"
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def new_appeal() -> AppealInput:
    return AppealInput.model_validate(
        {
            "channel": "vk",
            "external_id": f"post-{uuid.uuid4().hex}",
            "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
            "author": {"name": "Мария Иванова", "contact": "+7 912 000-00-00"},
            "received_at": RECEIVED.isoformat(),
            "category": "snow_removal",
            "municipality": "Пермь",
            "address": "Пермь, ул. Ленина, 50",
        }
    )


def event(
    workflow_id: str,
    seq: int,
    kind: str,
    status: AppealStatus,
    *,
    appeal: AppealInput | None = None,
    **p: Any,
) -> AppealEvent:
    return AppealEvent(
        workflow_id=workflow_id,
        seq=seq,
        kind=kind,
        at=RECEIVED + timedelta(minutes=seq),
        summary=f"{kind} (step {seq})",
        data={"step": seq, "note": "тест"},
        projection=Projection(status=status, **p),
        appeal=appeal,
    )


def registration(appeal: AppealInput) -> AppealEvent:
    return event(appeal.workflow_id, 1, "registered", AppealStatus.registered, appeal=appeal)


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest.fixture
def storage(pool: asyncpg.Pool) -> StorageActivities:
    return StorageActivities(pool)


@pytest_asyncio.fixture
async def registered(env: ActivityEnvironment, storage: StorageActivities) -> AppealInput:
    """A fresh appeal, registered: its row exists, so events and notifications may refer to it."""
    appeal = new_appeal()
    assert await env.run(storage.record_event, registration(appeal)) is True
    return appeal


# --- record_event ----------------------------------------------------------------------------


async def test_registration_creates_the_appeal_row_and_event_one(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool
) -> None:
    appeal = new_appeal()

    wrote = await env.run(storage.record_event, registration(appeal))

    assert wrote is True
    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", appeal.workflow_id)
    assert row is not None
    assert (row["channel"], row["external_id"]) == ("vk", appeal.external_id)
    assert row["status"] == "registered"
    assert row["last_event_seq"] == 1
    assert row["received_at"] == RECEIVED
    assert row["registered_at"] == RECEIVED + timedelta(minutes=1)
    assert row["author"] == {"name": "Мария Иванова", "contact": "+7 912 000-00-00"}
    assert row["municipality"] == "Пермь"
    events = await pool.fetch("SELECT * FROM appeal_events WHERE workflow_id = $1", appeal.workflow_id)
    assert [(e["seq"], e["kind"]) for e in events] == [(1, "registered")]
    assert events[0]["data"] == {"step": 1, "note": "тест"}


async def test_recording_the_same_event_again_is_a_no_op(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool, registered: AppealInput
) -> None:
    wid = registered.workflow_id

    again = await env.run(storage.record_event, registration(registered))

    assert again is False
    assert await pool.fetchval("SELECT count(*) FROM appeal_events WHERE workflow_id = $1", wid) == 1
    assert await pool.fetchval("SELECT count(*) FROM appeals WHERE workflow_id = $1", wid) == 1


async def test_a_later_event_moves_the_projection_forward(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool, registered: AppealInput
) -> None:
    wid = registered.workflow_id
    ack_due = RECEIVED + timedelta(hours=1)
    answer_due = RECEIVED + timedelta(hours=8)
    routed = event(
        wid,
        2,
        "routed",
        AppealStatus.awaiting_acknowledgment,
        executor="perm-roads@gorodperm.ru",
        ack_deadline=ack_due,
        answer_deadline=answer_due,
    )

    assert await env.run(storage.record_event, routed) is True

    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", wid)
    assert row["status"] == "awaiting_acknowledgment"
    assert row["executor"] == "perm-roads@gorodperm.ru"
    assert (row["ack_deadline"], row["answer_deadline"]) == (ack_due, answer_due)
    assert row["last_event_seq"] == 2
    kinds = await pool.fetch("SELECT kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", wid)
    assert [k["kind"] for k in kinds] == ["registered", "routed"]


async def test_a_late_retry_of_an_older_event_does_not_roll_the_projection_back(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool, registered: AppealInput
) -> None:
    wid = registered.workflow_id
    breached = event(wid, 3, "escalated", AppealStatus.awaiting_acknowledgment, escalation_level=1, sla_breached=True)
    older = event(wid, 2, "routed", AppealStatus.awaiting_acknowledgment, executor="perm-roads@gorodperm.ru")

    assert await env.run(storage.record_event, breached) is True
    # Step 2 arrives late (a retry of a slow attempt): it joins the audit trail ...
    assert await env.run(storage.record_event, older) is True

    # ... but the projection keeps the newer state.
    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", wid)
    assert row["last_event_seq"] == 3
    assert row["escalation_level"] == 1 and row["sla_breached"] is True
    assert row["executor"] is None
    seqs = await pool.fetch("SELECT seq FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", wid)
    assert [s["seq"] for s in seqs] == [1, 2, 3]


async def test_a_repeated_registration_does_not_overwrite_a_later_projection(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool, registered: AppealInput
) -> None:
    wid = registered.workflow_id
    closed_at = RECEIVED + timedelta(hours=3)
    closed = event(wid, 5, "closed", AppealStatus.closed, closed_at=closed_at)
    await env.run(storage.record_event, closed)

    assert await env.run(storage.record_event, registration(registered)) is False

    row = await pool.fetchrow("SELECT status, closed_at, last_event_seq FROM appeals WHERE workflow_id = $1", wid)
    assert (row["status"], row["closed_at"], row["last_event_seq"]) == ("closed", closed_at, 5)


async def test_the_audit_trail_is_append_only(pool: asyncpg.Pool, registered: AppealInput) -> None:
    wid = registered.workflow_id

    with pytest.raises(asyncpg.RaiseError, match=r"append-only \(UPDATE refused\)"):
        await pool.execute("UPDATE appeal_events SET summary = 'rewritten' WHERE workflow_id = $1", wid)
    with pytest.raises(asyncpg.RaiseError, match=r"append-only \(DELETE refused\)"):
        await pool.execute("DELETE FROM appeal_events WHERE workflow_id = $1", wid)

    row = await pool.fetchrow("SELECT summary FROM appeal_events WHERE workflow_id = $1 AND seq = 1", wid)
    assert row["summary"] == "registered (step 1)"


async def test_an_event_for_an_unknown_appeal_is_refused_for_good(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool
) -> None:
    wid = f"appeal-vk-missing-{uuid.uuid4().hex}"

    with pytest.raises(ApplicationError) as refused:
        await env.run(storage.record_event, event(wid, 2, "routed", AppealStatus.awaiting_acknowledgment))

    assert refused.value.type == "InvalidEvent"
    assert refused.value.non_retryable is True
    assert wid in str(refused.value) and "event 2 (routed)" in str(refused.value)
    assert await pool.fetchval("SELECT count(*) FROM appeal_events WHERE workflow_id = $1", wid) == 0


async def test_a_second_workflow_for_the_same_source_is_refused_for_good(
    env: ActivityEnvironment, storage: StorageActivities, registered: AppealInput
) -> None:
    # E.g. an intake service in another language started the appeal under an id of its own.
    other_id = f"intake-{uuid.uuid4().hex}"
    clash = event(other_id, 1, "registered", AppealStatus.registered, appeal=registered)

    with pytest.raises(ApplicationError) as refused:
        await env.run(storage.record_event, clash)

    assert refused.value.type == "InvalidEvent" and refused.value.non_retryable


async def test_record_event_keeps_one_row_per_clock_moving_forward_only(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool, registered: AppealInput
) -> None:
    wid = registered.workflow_id
    config, _ = load(CONFIG_DIR / CALENDAR_FILE, CalendarConfig)
    perm = WorkingCalendar.for_municipality(config, "Пермь")
    thresholds = [
        Threshold(percent=50, notify=[Role.executor]),
        Threshold(percent=75, notify=[Role.executor, Role.head]),
    ]
    # Sunday 09:00 in Perm: both clocks start counting on Monday 30 Nov at 09:00 (04:00 UTC).
    ack = clocks.start_clock(perm, "acknowledge", RECEIVED, Duration.model_validate("1 working hour"), [])
    answer = clocks.start_clock(perm, "answer", RECEIVED, Duration.model_validate("8 working hours"), thresholds)
    answer.number = 1  # the workflow numbers its clocks in order; the number is the row key
    assert ack.due_at == datetime(2026, 11, 30, 5, tzinfo=UTC)
    assert answer.due_at == datetime(2026, 11, 30, 13, tzinfo=UTC)
    started = event(wid, 2, "routed", AppealStatus.awaiting_acknowledgment, clocks=[ack, answer])

    assert await env.run(storage.record_event, started) is True

    rows = {r["clock"]: r for r in await pool.fetch("SELECT * FROM appeal_clocks WHERE workflow_id = $1", wid)}
    assert sorted(rows) == ["acknowledge", "answer"]
    assert rows["acknowledge"]["due_at"] == datetime(2026, 11, 30, 5, tzinfo=UTC)
    assert rows["answer"]["due_at"] == datetime(2026, 11, 30, 13, tzinfo=UTC)
    assert {r["kind"] for r in rows.values()} == {"working"}
    assert (rows["answer"]["cycle"], rows["answer"]["started_at"]) == (1, RECEIVED)
    assert rows["answer"]["paused"] == timedelta(0) and rows["answer"]["stopped_at"] is None
    assert rows["answer"]["pauses"] == [] and rows["acknowledge"]["marks"] == []
    assert rows["answer"]["marks"] == [
        {"percent": 50, "notify": ["executor"], "at": "2026-11-30T09:00:00Z", "sent_at": None},
        {"percent": 75, "notify": ["executor", "head"], "at": "2026-11-30T11:00:00Z", "sent_at": None},
    ]
    assert {r["last_event_seq"] for r in rows.values()} == {2}

    # Monday: paused 10:00–12:00 Perm, then answered at 15:00 Perm.
    later = answer.model_copy(deep=True)
    clocks.pause(later, datetime(2026, 11, 30, 5, tzinfo=UTC), "ждём уточнения адреса")
    clocks.resume(perm, later, datetime(2026, 11, 30, 7, tzinfo=UTC))
    later.marks[0].sent_at = later.marks[0].at
    clocks.stop(later, datetime(2026, 11, 30, 10, tzinfo=UTC))
    assert later.due_at == datetime(2026, 12, 1, 6, tzinfo=UTC)  # Tuesday 11:00 Perm
    answered = event(wid, 4, "answered", AppealStatus.answered, clocks=[ack, later])

    assert await env.run(storage.record_event, answered) is True

    row = await pool.fetchrow("SELECT * FROM appeal_clocks WHERE workflow_id = $1 AND clock = 'answer'", wid)
    assert row["stopped_at"] == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert row["due_at"] == datetime(2026, 12, 1, 6, tzinfo=UTC)
    assert row["paused"] == timedelta(hours=2)
    assert row["last_event_seq"] == 4
    assert row["pauses"] == [
        {
            "started_at": "2026-11-30T05:00:00Z",
            "ended_at": "2026-11-30T07:00:00Z",
            "counted": "PT2H",
            "reason": "ждём уточнения адреса",
        }
    ]
    assert row["marks"] == later.model_dump(mode="json")["marks"]
    assert row["marks"][0]["sent_at"] == "2026-11-30T11:00:00Z"

    # Step 3 arrives late, still carrying the clocks as they were: the rows stay as step 4 left them.
    stale = event(wid, 3, "acknowledged", AppealStatus.in_progress, clocks=[ack, answer])
    assert await env.run(storage.record_event, stale) is True

    after = await pool.fetch(
        "SELECT clock, due_at, stopped_at, paused, last_event_seq FROM appeal_clocks"
        " WHERE workflow_id = $1 ORDER BY clock",
        wid,
    )
    assert [tuple(r) for r in after] == [
        ("acknowledge", datetime(2026, 11, 30, 5, tzinfo=UTC), None, timedelta(0), 4),
        (
            "answer",
            datetime(2026, 12, 1, 6, tzinfo=UTC),
            datetime(2026, 11, 30, 10, tzinfo=UTC),
            timedelta(hours=2),
            4,
        ),
    ]
    marks = await pool.fetchval("SELECT marks FROM appeal_clocks WHERE workflow_id = $1 AND clock = 'answer'", wid)
    assert marks == later.model_dump(mode="json")["marks"]


# --- send_notification with the log adapter --------------------------------------------------


def notification(workflow_id: str, seq: int = 4, address: str = "perm-roads@gorodperm.ru") -> NotificationRequest:
    return NotificationRequest(
        workflow_id=workflow_id,
        seq=seq,
        kind="assigned",
        recipient=Recipient(role="executor", address=address),
        subject="Новое обращение",
        body="Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
    )


async def notification_row(pool: asyncpg.Pool, request: NotificationRequest) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM notifications WHERE idempotency_key = $1", request.idempotency_key)
    assert row is not None
    return row


async def test_a_log_notification_is_sent_once(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput
) -> None:
    activities = NotificationActivities(pool, LogNotifier())
    request = notification(registered.workflow_id)

    first = await env.run(activities.send_notification, request)
    second = await env.run(activities.send_notification, request)

    assert (first, second) == (True, False)
    row = await notification_row(pool, request)
    assert row["status"] == "sent" and row["sent_at"] is not None
    assert row["attempts"] == 1 and row["last_error"] is None
    assert row["adapter"] == "log"
    assert (row["workflow_id"], row["seq"], row["recipient"]) == (
        registered.workflow_id,
        4,
        "perm-roads@gorodperm.ru",
    )


async def test_the_same_step_to_two_recipients_is_two_notifications(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput
) -> None:
    activities = NotificationActivities(pool, LogNotifier())
    to_executor = notification(registered.workflow_id, seq=6, address="perm-roads@gorodperm.ru")
    to_head = notification(registered.workflow_id, seq=6, address="head-roads@gorodperm.ru")

    assert await env.run(activities.send_notification, to_executor) is True
    assert await env.run(activities.send_notification, to_head) is True

    count = await pool.fetchval(
        "SELECT count(*) FROM notifications WHERE workflow_id = $1 AND seq = 6 AND status = 'sent'",
        registered.workflow_id,
    )
    assert count == 2


# --- send_notification with the webhook adapter, against a real loopback server ------------


@dataclass
class Receiver:
    """A webhook receiver that verifies what a real one would, and answers as told."""

    url: str = ""
    answer_status: int = 200
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    requests: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        if request.headers.get(SIGNATURE_HEADER) != sign(SECRET, timestamp, body):
            self.refusals.append("bad signature")
            return web.Response(status=401, text="bad signature")
        if abs(time.time() - int(timestamp)) > 300:
            self.refusals.append("stale timestamp")
            return web.Response(status=401, text="stale timestamp")
        payload = json.loads(body)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key or key != payload["idempotency_key"]:
            self.refusals.append("idempotency key mismatch")
            return web.Response(status=400, text="idempotency key mismatch")
        if self.answer_status >= 300:
            return web.Response(status=self.answer_status, text=f"answering {self.answer_status}")
        if all(d["idempotency_key"] != key for d in self.deliveries):
            self.deliveries.append(payload)
        return web.Response(status=204)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/appeals", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}/hooks/appeals"
    try:
        yield state
    finally:
        await runner.cleanup()


def webhook_activities(pool: asyncpg.Pool, receiver: Receiver, secret: str = SECRET) -> NotificationActivities:
    return NotificationActivities(pool, WebhookNotifier(receiver.url, secret, timeout=5))


async def test_a_webhook_delivers_a_signed_notification_exactly_once(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    request = notification(registered.workflow_id)

    first = await env.run(activities.send_notification, request)
    second = await env.run(activities.send_notification, request)

    assert (first, second) == (True, False)
    assert receiver.refusals == []
    assert receiver.requests == 1
    [delivered] = receiver.deliveries
    assert delivered["idempotency_key"] == request.idempotency_key
    assert delivered["workflow_id"] == registered.workflow_id
    assert delivered["recipient"] == {"role": "executor", "address": "perm-roads@gorodperm.ru"}
    assert delivered["body"] == request.body
    row = await notification_row(pool, request)
    assert (row["status"], row["attempts"], row["adapter"]) == ("sent", 1, "webhook")


async def test_a_webhook_signed_with_another_secret_is_refused_by_the_receiver(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver, secret="not-the-shared-secret")

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.send_notification, notification(registered.workflow_id))

    assert receiver.refusals == ["bad signature"]
    assert receiver.deliveries == []
    assert refused.value.type == "PermanentDeliveryError"


async def test_a_webhook_server_error_is_retried_until_it_recovers(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    request = notification(registered.workflow_id)
    receiver.answer_status = 500

    with pytest.raises(Exception) as failed:
        await env.run(activities.send_notification, request)

    # Retryable: not a non-retryable ApplicationError, so Temporal's retry policy applies.
    assert not (isinstance(failed.value, ApplicationError) and failed.value.non_retryable)
    assert "500" in str(failed.value)
    row = await notification_row(pool, request)
    assert row["status"] == "pending" and row["sent_at"] is None
    assert row["attempts"] == 1
    assert "answered 500" in row["last_error"]
    assert receiver.deliveries == []

    receiver.answer_status = 200
    retried = await env.run(activities.send_notification, request)

    assert retried is True
    assert len(receiver.deliveries) == 1
    assert receiver.requests == 2
    row = await notification_row(pool, request)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert row["sent_at"] is not None


@pytest.mark.parametrize("status", [408, 429, 503])
async def test_transient_webhook_answers_are_retryable(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver, status: int
) -> None:
    activities = webhook_activities(pool, receiver)
    receiver.answer_status = status

    with pytest.raises(Exception) as failed:
        await env.run(activities.send_notification, notification(registered.workflow_id))

    assert not (isinstance(failed.value, ApplicationError) and failed.value.non_retryable)


async def test_a_webhook_client_error_is_a_permanent_failure(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    request = notification(registered.workflow_id)
    receiver.answer_status = 400

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.send_notification, request)

    assert refused.value.type == "PermanentDeliveryError"
    assert refused.value.non_retryable is True
    assert "answered 400" in str(refused.value)
    row = await notification_row(pool, request)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "answered 400" in row["last_error"]
    assert receiver.deliveries == []


async def test_an_unreachable_webhook_is_retryable_and_recorded(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    # A port that was just bound and released: nothing listens there.
    probe = web.AppRunner(web.Application())
    await probe.setup()
    site = web.TCPSite(probe, "127.0.0.1", 0)
    await site.start()
    port = probe.addresses[0][1]
    await probe.cleanup()
    activities = NotificationActivities(pool, WebhookNotifier(f"http://127.0.0.1:{port}/", SECRET, timeout=5))
    request = notification(registered.workflow_id)

    with pytest.raises(Exception) as failed:
        await env.run(activities.send_notification, request)

    assert not isinstance(failed.value, ApplicationError)
    row = await notification_row(pool, request)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"]
