"""Storage and notification activities against the real PostgreSQL and a real loopback webhook."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
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
    KEY_ID_HEADER,
    LogNotifier,
    TransientDeliveryError,
    WebhookNotifier,
)
from activities.planning import CALENDAR_FILE, load
from activities.storage import StorageActivities
from appeals import clocks
from appeals.durations import Duration
from appeals.models import AppealInput, AppealStatus, Recipient
from appeals.records import AppealEvent, NotificationRequest, Projection
from appeals.signing import SignatureError, verify
from appeals.sla import Role, Threshold
from appeals.working_calendar import CalendarConfig, WorkingCalendar
from stack import channels
from stack.settings import Settings

RECEIVED = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SECRET = "test-webhook-secret"
KEY_ID = "notify-2026"
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


async def test_an_event_for_an_unknown_appeal_is_refused_and_stays_pending(
    env: ActivityEnvironment, storage: StorageActivities, pool: asyncpg.Pool
) -> None:
    wid = f"appeal-vk-missing-{uuid.uuid4().hex}"

    with pytest.raises(ApplicationError) as refused:
        await env.run(storage.record_event, event(wid, 2, "routed", AppealStatus.awaiting_acknowledgment))

    assert refused.value.type == "InvalidEvent"
    # Retryable on purpose: the step stays pending and visible until someone fixes the cause.
    assert refused.value.non_retryable is False
    assert wid in str(refused.value) and "events 2..2" in str(refused.value)
    assert await pool.fetchval("SELECT count(*) FROM appeal_events WHERE workflow_id = $1", wid) == 0


async def test_a_second_workflow_for_the_same_source_is_refused(
    env: ActivityEnvironment, storage: StorageActivities, registered: AppealInput
) -> None:
    # E.g. an intake service in another language started the appeal under an id of its own.
    other_id = f"intake-{uuid.uuid4().hex}"
    clash = event(other_id, 1, "registered", AppealStatus.registered, appeal=registered)

    with pytest.raises(ApplicationError) as refused:
        await env.run(storage.record_event, clash)

    assert refused.value.type == "InvalidEvent" and not refused.value.non_retryable


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

CITIZEN_CONTACT = "+7 912 000-00-00"


def notification(
    workflow_id: str, seq: int = 4, address: str = "perm-roads@gorodperm.ru", role: str = "executor"
) -> NotificationRequest:
    return NotificationRequest(
        workflow_id=workflow_id,
        seq=seq,
        kind="assigned",
        recipient=Recipient(role=role, address=address),
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


async def test_the_log_notifier_logs_no_personal_data(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, caplog: pytest.LogCaptureFixture
) -> None:
    activities = NotificationActivities(pool, LogNotifier())
    request = notification(registered.workflow_id, seq=5, address=CITIZEN_CONTACT, role="citizen")

    with caplog.at_level(logging.INFO, logger="activities.notifiers"):
        assert await env.run(activities.send_notification, request) is True

    [record] = [r for r in caplog.records if r.name == "activities.notifiers"]
    logged = record.msg
    assert isinstance(logged, dict)
    assert {k: logged[k] for k in ("event", "appeal_id", "seq", "kind", "role")} == {
        "event": "notification",
        "appeal_id": registered.workflow_id,
        "seq": 5,
        "kind": "assigned",
        "role": "citizen",
    }
    text = json.dumps(logged, ensure_ascii=False, default=str)
    for personal in (CITIZEN_CONTACT, "000-00-00", request.subject, request.body, "Ленина"):
        assert personal not in text
    # The table keeps what was sent, for operators.
    assert (await notification_row(pool, request))["recipient"] == CITIZEN_CONTACT


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
    """A webhook receiver that verifies with the helper from the README, and answers as told."""

    url: str = ""
    answer_status: int = 200
    secrets: dict[str, str] = field(default_factory=lambda: {KEY_ID: SECRET})
    clock_offset: float = 0.0  # the receiver's clock runs this far ahead of the sender's
    delay: float = 0.0
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    requests: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(self.delay)
        body = await request.read()
        self.received.append((dict(request.headers), body))
        try:
            verify(self.secrets, request.headers, body, now=time.time() + self.clock_offset)
        except SignatureError as refused:
            self.refusals.append(refused.reason)
            return web.Response(status=401, text=f"refused at {self.url}: {refused.reason}")
        payload = json.loads(body)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key or key != payload["idempotency_key"]:
            self.refusals.append("idempotency key mismatch")
            return web.Response(status=400, text="idempotency key mismatch")
        if self.answer_status >= 300:
            return web.Response(status=self.answer_status, text=f"answering {self.answer_status} for {self.url}")
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


def webhook_activities(
    pool: asyncpg.Pool, receiver: Receiver, secret: str = SECRET, key_id: str = KEY_ID, timeout: float = 5
) -> NotificationActivities:
    return NotificationActivities(pool, WebhookNotifier(receiver.url, key_id, secret, timeout=timeout))


def assert_no_url_or_body(text: str, receiver: Receiver) -> None:
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    for leak in ("127.0.0.1", port, "/hooks/", "http", "answering", "refused at"):
        assert leak not in text, f"{leak!r} leaked into {text!r}"


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
    [(headers, _)] = receiver.received
    assert headers[KEY_ID_HEADER] == KEY_ID
    assert headers[IDEMPOTENCY_HEADER] == request.idempotency_key
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
    activities = webhook_activities(pool, receiver, secret="not-the-receivers-secret")

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.send_notification, notification(registered.workflow_id))

    assert receiver.refusals == ["bad signature"]
    assert receiver.deliveries == []
    assert refused.value.type == "PermanentDeliveryError"
    assert refused.value.message == "HTTP 401 Unauthorized"


async def test_a_webhook_under_a_key_id_the_receiver_does_not_know_is_refused(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver, key_id="retired-2025")

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.send_notification, notification(registered.workflow_id))

    assert receiver.refusals == ["unknown key id"]
    assert refused.value.type == "PermanentDeliveryError"


async def test_a_receiver_holding_both_keys_accepts_during_rotation(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    receiver.secrets = {KEY_ID: SECRET, "notify-2027": "the-next-secret"}
    old = webhook_activities(pool, receiver)
    new = webhook_activities(pool, receiver, secret="the-next-secret", key_id="notify-2027")

    assert await env.run(old.send_notification, notification(registered.workflow_id, seq=7)) is True
    assert await env.run(new.send_notification, notification(registered.workflow_id, seq=8)) is True

    assert receiver.refusals == []
    assert [h[KEY_ID_HEADER] for h, _ in receiver.received] == [KEY_ID, "notify-2027"]


async def test_a_stale_webhook_is_refused_by_the_receiver(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    receiver.clock_offset = 301  # e.g. replayed by someone who captured it six minutes ago
    activities = webhook_activities(pool, receiver)

    with pytest.raises(ApplicationError):
        await env.run(activities.send_notification, notification(registered.workflow_id))

    assert receiver.refusals == ["stale timestamp"]
    assert receiver.deliveries == []


async def test_a_tampered_body_does_not_verify(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    assert await env.run(activities.send_notification, notification(registered.workflow_id)) is True
    [(headers, body)] = receiver.received
    tampered = body.replace(b"perm-roads@gorodperm.ru", b"attacker@example.com")

    assert verify({KEY_ID: SECRET}, headers, body, now=time.time()) == KEY_ID
    with pytest.raises(SignatureError, match="bad signature"):
        verify({KEY_ID: SECRET}, headers, tampered, now=time.time())


async def test_a_webhook_server_error_is_retried_until_it_recovers(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    request = notification(registered.workflow_id)
    receiver.answer_status = 500

    with pytest.raises(TransientDeliveryError, match=r"^HTTP 500 Internal Server Error$") as failed:
        await env.run(activities.send_notification, request)

    # Retryable: not a non-retryable ApplicationError, so Temporal's retry policy applies.
    assert not (isinstance(failed.value, ApplicationError) and failed.value.non_retryable)
    assert str(failed.value) == "HTTP 500 Internal Server Error"
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    row = await notification_row(pool, request)
    assert row["status"] == "pending" and row["sent_at"] is None
    assert row["attempts"] == 1
    assert row["last_error"] == "HTTP 500 Internal Server Error"
    assert_no_url_or_body(row["last_error"], receiver)
    assert receiver.deliveries == []

    receiver.answer_status = 200
    retried = await env.run(activities.send_notification, request)

    assert retried is True
    assert len(receiver.deliveries) == 1
    assert receiver.requests == 2
    row = await notification_row(pool, request)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert row["sent_at"] is not None


@pytest.mark.parametrize(
    ("status", "reason"),
    [(408, "HTTP 408 Request Timeout"), (429, "HTTP 429 Too Many Requests"), (503, "HTTP 503 Service Unavailable")],
)
async def test_transient_webhook_answers_are_retryable(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver, status: int, reason: str
) -> None:
    activities = webhook_activities(pool, receiver)
    receiver.answer_status = status

    with pytest.raises(TransientDeliveryError, match=rf"^{reason}$") as failed:
        await env.run(activities.send_notification, notification(registered.workflow_id))

    assert not (isinstance(failed.value, ApplicationError) and failed.value.non_retryable)
    assert str(failed.value) == reason


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
    assert refused.value.message == "HTTP 400 Bad Request"
    assert refused.value.__cause__ is None
    row = await notification_row(pool, request)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "HTTP 400 Bad Request"
    assert receiver.deliveries == []


async def test_an_unreachable_webhook_is_retryable_and_recorded_without_its_address(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    # A port that was just bound and released: nothing listens there.
    probe = web.AppRunner(web.Application())
    await probe.setup()
    site = web.TCPSite(probe, "127.0.0.1", 0)
    await site.start()
    port = probe.addresses[0][1]
    await probe.cleanup()
    receiver.url = f"http://127.0.0.1:{port}/hooks/appeals"
    activities = webhook_activities(pool, receiver)
    request = notification(registered.workflow_id)

    with pytest.raises(TransientDeliveryError, match=r"^connection refused$") as failed:
        await env.run(activities.send_notification, request)

    assert not isinstance(failed.value, ApplicationError)
    assert str(failed.value) == "connection refused"
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    row = await notification_row(pool, request)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "connection refused"


async def test_a_slow_webhook_times_out_and_says_only_that(
    env: ActivityEnvironment, pool: asyncpg.Pool, registered: AppealInput, receiver: Receiver
) -> None:
    receiver.delay = 2.0
    activities = webhook_activities(pool, receiver, timeout=0.3)
    request = notification(registered.workflow_id)

    with pytest.raises(TransientDeliveryError, match=r"^timeout$") as failed:
        await env.run(activities.send_notification, request)

    assert not isinstance(failed.value, ApplicationError)
    assert str(failed.value) == "timeout"
    row = await notification_row(pool, request)
    assert (row["status"], row["last_error"]) == ("pending", "timeout")


# --- choosing the notifier --------------------------------------------------------------------


def settings(**overrides: Any) -> Settings:
    base = {"notifier": "webhook", "webhook_url": "http://127.0.0.1:9/hook", "webhook_secret": SECRET}
    return dataclasses.replace(Settings(), **{**base, **overrides})


def test_a_configured_webhook_notifier_is_built() -> None:
    assert isinstance(channels.notifier(settings(webhook_key_id=KEY_ID)), WebhookNotifier)


@pytest.mark.parametrize("missing", ["webhook_url", "webhook_secret"])
def test_a_webhook_notifier_without_url_or_secret_is_refused(missing: str) -> None:
    with pytest.raises(SystemExit, match="APPEALS_WEBHOOK_URL and APPEALS_WEBHOOK_SECRET"):
        channels.notifier(settings(**{missing: None}))


def test_a_key_id_that_cannot_be_a_header_is_refused() -> None:
    with pytest.raises(SystemExit, match="APPEALS_WEBHOOK_KEY_ID='k 1'"):
        channels.notifier(settings(webhook_key_id="k 1"))
