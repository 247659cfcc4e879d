"""E-mail notifications against a real SMTP server (aiosmtpd) on loopback, with real PostgreSQL.

The server (tests/smtp_fakes.py) runs in the test's own event loop; STARTTLS uses a CA and
a certificate made with `cryptography`, and AUTH PLAIN and LOGIN are checked against it.
The last test runs a whole appeal on the time-skipping server with the worker e-mailing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from activities.notifiers import TransientDeliveryError
from activities.smtp import SmtpConfig, SmtpNotifier, message_id
from activities.storage import StorageActivities
from appeals.models import AppealInput, AppealStatus, Recipient
from appeals.records import AppealEvent, NotificationRequest, Projection
from stack import channels
from stack.settings import Settings
from tests.conftest import eventually, make_appeal, running_worker
from tests.scenarios import start, to_monday_morning
from tests.smtp_fakes import PASSWORD, USER, Certificates, Mailbox, make_certificates, smtp_servers

RECEIVED = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SENDER = "sla-robot@permkrai.ru"
OFFICIAL = "perm-roads@gorodperm.ru"
SUBJECT = "Обращение просрочено: ответ не дан в срок"
BODY = "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.\nСрок ответа истёк 30.11 в 17:00."


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest_asyncio.fixture
async def smtp_server() -> AsyncIterator[Callable[..., Awaitable[Mailbox]]]:
    async with smtp_servers() as start:
        yield start


def config(mailbox: Mailbox, **overrides: Any) -> SmtpConfig:
    base: dict[str, Any] = {"host": "127.0.0.1", "port": mailbox.port, "sender": SENDER, "starttls": False}
    return SmtpConfig(**{**base, **overrides})


# --- the appeal and its notifications ------------------------------------------------------


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest_asyncio.fixture
async def appeal(env: ActivityEnvironment, pool: asyncpg.Pool) -> AppealInput:
    appeal = AppealInput.model_validate(
        {
            "channel": "vk",
            "external_id": f"wall-1:{uuid.uuid4().int % 10**9}",
            "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
            "author": {"name": "Мария Иванова", "contact": "+7 912 000-00-00"},
            "received_at": RECEIVED.isoformat(),
        }
    )
    registration = AppealEvent(
        workflow_id=appeal.workflow_id,
        seq=1,
        kind="registered",
        at=RECEIVED,
        summary="registered",
        projection=Projection(status=AppealStatus.registered),
        appeal=appeal,
    )
    assert await env.run(StorageActivities(pool).record_event, registration) is True
    return appeal


def notification(appeal: AppealInput, seq: int = 4, address: str = OFFICIAL) -> NotificationRequest:
    return NotificationRequest(
        workflow_id=appeal.workflow_id,
        seq=seq,
        kind="breached",
        recipient=Recipient(role="executor", address=address),
        subject=SUBJECT,
        body=BODY,
    )


async def row(pool: asyncpg.Pool, request: NotificationRequest) -> asyncpg.Record:
    found = await pool.fetchrow("SELECT * FROM notifications WHERE idempotency_key = $1", request.idempotency_key)
    assert found is not None
    return found


# --- delivery --------------------------------------------------------------------------------


async def test_a_notification_arrives_as_an_email_with_a_message_id_from_its_key(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any
) -> None:
    mailbox = await smtp_server()
    activities = NotificationActivities(pool, SmtpNotifier(config(mailbox)))
    request = notification(appeal)

    first = await env.run(activities.send_notification, request)
    again = await env.run(activities.send_notification, request)

    assert (first, again) == (True, False)
    [received] = mailbox.messages
    assert mailbox.envelopes == [(SENDER, [OFFICIAL])]
    assert received["Subject"] == SUBJECT
    assert received["To"] == OFFICIAL and received["From"] == SENDER
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == BODY
    assert received["Message-ID"] == message_id(request.idempotency_key, "permkrai.ru")
    assert received["Message-ID"].startswith("<appeals.") and received["Message-ID"].endswith("@permkrai.ru>")
    assert OFFICIAL not in received["Message-ID"] and appeal.workflow_id not in received["Message-ID"]
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Date"]
    stored = await row(pool, request)
    assert (stored["status"], stored["attempts"], stored["adapter"], stored["last_error"]) == ("sent", 1, "smtp", None)


async def test_a_451_is_retried_and_the_message_arrives_once_with_the_same_message_id(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any
) -> None:
    mailbox = await smtp_server()
    mailbox.data_replies = ["451 4.3.0 mail.test: queue for perm-roads@gorodperm.ru is full, try later"]
    notifier = SmtpNotifier(config(mailbox))
    activities = NotificationActivities(pool, notifier)
    request = notification(appeal)

    with pytest.raises(TransientDeliveryError) as failed:
        await env.run(activities.send_notification, request)

    assert str(failed.value) == "SMTP 451 message refused: local error in processing"
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    stored = await row(pool, request)
    assert (stored["status"], stored["attempts"]) == ("pending", 1)
    assert stored["last_error"] == "SMTP 451 message refused: local error in processing"
    for leak in ("mail.test", "queue", OFFICIAL, "127.0.0.1", str(mailbox.port)):
        assert leak not in stored["last_error"]
    assert mailbox.messages == []

    retried = await env.run(activities.send_notification, request)
    once_more = await env.run(activities.send_notification, request)

    assert (retried, once_more) == (True, False)
    [received] = mailbox.messages
    assert (
        received["Message-ID"]
        == notifier.message(request)["Message-ID"]
        == message_id(request.idempotency_key, "permkrai.ru")
    )
    stored = await row(pool, request)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 2, None)


async def test_two_attempts_at_once_send_one_message(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any
) -> None:
    # A retry racing a slow first attempt: the row lock lets one send; the other finds it sent.
    mailbox = await smtp_server()
    mailbox.delay = 0.5
    activities = NotificationActivities(pool, SmtpNotifier(config(mailbox)))
    request = notification(appeal)

    results = await asyncio.gather(
        env.run(activities.send_notification, request), env.run(activities.send_notification, request)
    )

    assert sorted(results) == [False, True]
    assert len(mailbox.messages) == 1


async def test_a_refused_recipient_is_a_permanent_failure_without_the_servers_words(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any
) -> None:
    mailbox = await smtp_server()
    mailbox.rcpt_replies = ["550 5.1.1 <perm-roads@gorodperm.ru>: no such user here"]
    activities = NotificationActivities(pool, SmtpNotifier(config(mailbox)))
    request = notification(appeal)

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.send_notification, request)

    assert refused.value.type == "PermanentDeliveryError" and refused.value.non_retryable
    assert refused.value.message == "SMTP 550 recipient refused: mailbox unavailable"
    assert (await row(pool, request))["last_error"] == "SMTP 550 recipient refused: mailbox unavailable"
    assert mailbox.messages == []


async def test_an_address_that_is_not_an_email_is_refused_before_connecting(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any
) -> None:
    mailbox = await smtp_server()
    activities = NotificationActivities(pool, SmtpNotifier(config(mailbox)))
    # A second recipient smuggled into the address, and a login where an e-mail should be.
    for seq, address in ((5, "perm-roads@gorodperm.ru, boss@example.com"), (6, "ivanov")):
        with pytest.raises(ApplicationError) as refused:
            await env.run(activities.send_notification, notification(appeal, seq=seq, address=address))
        assert refused.value.message == "the recipient's address is not an e-mail address"
    assert mailbox.messages == []


async def test_an_unreachable_server_is_retryable_and_says_only_that(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput
) -> None:
    with socket.socket() as probe:  # a port that was just bound and released: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    activities = NotificationActivities(pool, SmtpNotifier(config(Mailbox(port=port))))
    request = notification(appeal)

    with pytest.raises(TransientDeliveryError, match=r"^connection refused$"):
        await env.run(activities.send_notification, request)

    assert (await row(pool, request))["last_error"] == "connection refused"


def test_a_subject_with_a_line_break_stays_one_header_line() -> None:
    notifier = SmtpNotifier(SmtpConfig(host="127.0.0.1", port=25, sender=SENDER, starttls=False))
    request = NotificationRequest(
        workflow_id="appeal-vk-wall-1:2",
        seq=3,
        kind="breached",
        recipient=Recipient(role="executor", address="ivanov@мэрия.рф"),
        subject="Просрочено\r\nBcc: attacker@example.com",
        body=BODY,
    )

    msg = notifier.message(request)

    assert msg["Subject"] == "Просрочено Bcc: attacker@example.com"
    assert msg["Bcc"] is None
    assert msg["To"] == "ivanov@xn--h1ahm5cm.xn--p1ai"  # an internationalised domain, in its ASCII form


# --- STARTTLS and login ----------------------------------------------------------------------


async def test_starttls_with_auth_plain_against_a_verified_certificate(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any, certificates: Certificates
) -> None:
    mailbox = await smtp_server(tls_context=certificates.server_context, require_starttls=True, auth_required=True)
    settings = dataclasses.replace(
        Settings(),
        notifier="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from=SENDER,
        smtp_starttls=True,
        smtp_user=USER,
        smtp_password=PASSWORD,
        smtp_ca_file=certificates.ca_file,
    )
    activities = NotificationActivities(pool, channels.notifier(settings))

    assert await env.run(activities.send_notification, notification(appeal)) is True

    assert mailbox.sessions == [{"tls": True, "authenticated": True}]
    assert mailbox.logins == [("PLAIN", USER)]
    [received] = mailbox.messages
    assert received["Subject"] == SUBJECT


async def test_auth_login_when_the_server_offers_only_login(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any, certificates: Certificates
) -> None:
    mailbox = await smtp_server(
        tls_context=certificates.server_context, auth_required=True, auth_exclude_mechanism=["PLAIN"]
    )
    notifier = SmtpNotifier(
        config(mailbox, starttls=True, ca_file=certificates.ca_file, username=USER, password=PASSWORD)
    )
    activities = NotificationActivities(pool, notifier)

    assert await env.run(activities.send_notification, notification(appeal)) is True

    assert mailbox.logins == [("LOGIN", USER)]
    assert mailbox.sessions == [{"tls": True, "authenticated": True}]


async def test_a_wrong_password_is_permanent_and_never_stored(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any, certificates: Certificates
) -> None:
    mailbox = await smtp_server(tls_context=certificates.server_context, auth_required=True)
    wrong = "wrong-password-4711"
    notifier = SmtpNotifier(config(mailbox, starttls=True, ca_file=certificates.ca_file, username=USER, password=wrong))
    request = notification(appeal)

    with pytest.raises(ApplicationError) as refused:
        await env.run(NotificationActivities(pool, notifier).send_notification, request)

    assert refused.value.non_retryable
    assert refused.value.message == "SMTP 535 authentication failed"
    stored = await row(pool, request)
    assert stored["last_error"] == "SMTP 535 authentication failed"
    assert wrong not in repr(notifier.config) and PASSWORD not in repr(notifier.config)
    assert mailbox.messages == []


async def test_an_untrusted_certificate_is_refused(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any, certificates: Certificates
) -> None:
    mailbox = await smtp_server(tls_context=certificates.server_context)
    activities = NotificationActivities(pool, SmtpNotifier(config(mailbox, starttls=True)))  # the system's CAs
    request = notification(appeal)

    with pytest.raises(TransientDeliveryError, match=r"^TLS certificate not trusted$"):
        await env.run(activities.send_notification, request)

    assert mailbox.messages == []


async def test_starttls_asked_of_a_server_without_it_is_permanent(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, smtp_server: Any
) -> None:
    mailbox = await smtp_server()  # no TLS context: no STARTTLS in its EHLO
    activities = NotificationActivities(pool, SmtpNotifier(config(mailbox, starttls=True)))

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.send_notification, notification(appeal))

    assert refused.value.message == "SMTP server does not offer STARTTLS" and refused.value.non_retryable
    assert mailbox.messages == []


# --- settings --------------------------------------------------------------------------------


def smtp_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "notifier": "smtp",
        "smtp_host": "smtp.permkrai.ru",
        "smtp_port": None,
        "smtp_from": SENDER,
        "smtp_starttls": True,
        "smtp_tls": False,
        "smtp_user": None,
        "smtp_password": None,
        "smtp_ca_file": None,
    }
    return dataclasses.replace(Settings(), **{**base, **overrides})


@pytest.mark.parametrize(
    ("overrides", "port"),
    [({}, 587), ({"smtp_starttls": False, "smtp_tls": True}, 465), ({"smtp_starttls": False}, 25)],
)
def test_the_port_follows_the_encryption(overrides: dict[str, Any], port: int) -> None:
    built = channels.notifier(smtp_settings(**overrides))

    assert isinstance(built, SmtpNotifier) and built.config.port == port


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"smtp_host": None}, "needs APPEALS_SMTP_HOST and APPEALS_SMTP_FROM"),
        ({"smtp_from": None}, "needs APPEALS_SMTP_HOST and APPEALS_SMTP_FROM"),
        ({"smtp_from": "Robot <sla@permkrai.ru>"}, "APPEALS_SMTP_FROM: the sender must be a plain e-mail address"),
        ({"smtp_tls": True}, "set APPEALS_SMTP_STARTTLS=false"),
        ({"smtp_user": USER}, "both APPEALS_SMTP_USER and APPEALS_SMTP_PASSWORD"),
        ({"smtp_starttls": False, "smtp_user": USER, "smtp_password": PASSWORD}, "would send the password in clear"),
        ({"smtp_ca_file": Path("/nonexistent/ca.pem")}, "APPEALS_SMTP_CA_FILE='/nonexistent/ca.pem': no such file"),
    ],
    ids=["no-host", "no-from", "display-name", "both-tls", "user-only", "clear-login", "no-ca-file"],
)
def test_bad_smtp_settings_are_refused_at_start(overrides: dict[str, Any], says: str) -> None:
    with pytest.raises(SystemExit) as refused:
        channels.notifier(smtp_settings(**overrides))

    assert says in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_a_login_in_clear_is_allowed_to_a_relay_on_loopback_only() -> None:
    built = channels.smtp_notifier(
        smtp_settings(smtp_host="127.0.0.1", smtp_starttls=False, smtp_user=USER, smtp_password=PASSWORD)
    )

    assert built.config.username == USER


def test_the_password_is_not_in_the_settings_repr() -> None:
    assert PASSWORD not in repr(smtp_settings(smtp_user=USER, smtp_password=PASSWORD))


async def test_a_new_appeal_is_emailed_to_its_executor(
    ts_env: Any, pool: asyncpg.Pool, task_queue: str, smtp_server: Any, certificates: Certificates
) -> None:
    mailbox = await smtp_server(tls_context=certificates.server_context, require_starttls=True, auth_required=True)
    settings = dataclasses.replace(
        Settings(),
        notifier="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from=SENDER,
        smtp_user=USER,
        smtp_password=PASSWORD,
        smtp_ca_file=certificates.ca_file,
    )
    async with running_worker(ts_env.client, pool, task_queue, settings):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        sent = "SELECT idempotency_key FROM notifications WHERE workflow_id = $1 AND status = 'sent' AND adapter = $2"
        key = await eventually(lambda: pool.fetchval(sent, handle.id, "smtp"))
        await handle.terminate("test over")

    assert key is not None
    received = [m for m in mailbox.messages if m["Message-ID"] == message_id(key, "permkrai.ru")]
    assert len(received) == 1
    assert received[0]["To"] == OFFICIAL and received[0]["From"] == SENDER
    assert received[0]["Subject"] and received[0].get_content().strip()
    assert mailbox.sessions[0] == {"tls": True, "authenticated": True}


def test_an_unknown_notifier_names_the_choices() -> None:
    with pytest.raises(SystemExit, match=r"APPEALS_NOTIFIER='carrier-pigeon': choose 'log', 'webhook' or 'smtp'"):
        channels.notifier(smtp_settings(notifier="carrier-pigeon"))
