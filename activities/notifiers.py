"""Notification adapters: where an escalation or a warning actually goes.

`log` (the default) writes a structured log line with no personal data in it: the
kind, the appeal, the step and the recipient's role; the address, subject and body
stay in the `notifications` table. `smtp` e-mails it (activities/smtp.py). `webhook`
POSTs JSON signed per `appeals.signing` (a key id, a timestamp and an HMAC-SHA256 of
both with the body) and carries an Idempotency-Key header, so a receiver can drop the
rare repeat after a worker crashed between sending and recording.

A failed delivery is described in a few words ("HTTP 503 Service Unavailable",
"connection refused", "timeout"): never the URL, never what the receiver answered.
Those words end up in `last_error`, in Temporal failures and in the worker's log.
"""

from __future__ import annotations

import json
import re
import time
from http import HTTPStatus
from typing import Protocol

import aiohttp
import structlog

from appeals import signing
from appeals.records import NotificationRequest

IDEMPOTENCY_HEADER = "Idempotency-Key"
KEY_ID_HEADER = signing.KEY_ID_HEADER
SIGNATURE_HEADER = signing.SIGNATURE_HEADER
TIMESTAMP_HEADER = signing.TIMESTAMP_HEADER
RETRYABLE_CLIENT_ERRORS = (408, 425, 429)

log = structlog.get_logger(__name__)


class DeliveryError(Exception):
    """A failed delivery, in words safe to store and log: no URL, no response body."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying: the receiver is down, slow, or asked us to come back later."""


class PermanentDeliveryError(DeliveryError):
    """The receiver refused the notification for good; retrying cannot help."""


class RateLimited(TransientDeliveryError):
    """The receiver asked us to slow down; `retry_after` is how long it asked us to wait, in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def describe_status(status: int) -> str:
    """`HTTP 500 Internal Server Error`: the code and its standard phrase, never the receiver's own words."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
    return f"HTTP {status} {phrase}"


def describe_failure(err: BaseException) -> str:
    """A short reason for a failed request, without the URL, host or the exception's own text."""
    if isinstance(err, DeliveryError):
        return str(err)
    if isinstance(err, TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(err, aiohttp.ClientConnectorError):
        os_error = err.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return "connection refused"
        return "cannot connect"
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(err, aiohttp.InvalidURL):
        return "invalid URL"
    return f"delivery failed ({type(err).__name__})"


class Notifier(Protocol):
    name: str

    async def send(self, notification: NotificationRequest) -> None: ...


class LogNotifier:
    name = "log"

    async def send(self, notification: NotificationRequest) -> None:
        # No address, subject or body: they may carry a citizen's contact or words.
        log.info(
            "notification",
            appeal_id=notification.workflow_id,
            seq=notification.seq,
            kind=notification.kind,
            role=notification.recipient.role,
        )


class SignedWebhook:
    """POSTs JSON signed with HMAC-SHA256 under one key id, with an Idempotency-Key header."""

    def __init__(self, url: str, key_id: str, secret: str, timeout: float = 10.0) -> None:
        if not re.fullmatch(signing.KEY_ID_PATTERN, key_id):
            raise ValueError(f"webhook key id {key_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
        if not secret:
            raise ValueError("a webhook needs a secret")
        self.url = url
        self._key_id = key_id
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def post(self, idempotency_key: str, payload: dict[str, object]) -> None:
        body = json.dumps({"idempotency_key": idempotency_key, **payload}, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            IDEMPOTENCY_HEADER: idempotency_key,
            **signing.sign(self._key_id, self._secret, body, time.time()),
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(self.url, data=body, headers=headers) as response,
            ):
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            # `from None`: the original error names the host and port, and Temporal would keep it as the cause.
            raise TransientDeliveryError(describe_failure(err)) from None
        if status < 300:
            return
        reason = describe_status(status)
        if 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS:
            raise PermanentDeliveryError(reason)
        raise TransientDeliveryError(reason)


class WebhookNotifier:
    name = "webhook"

    def __init__(self, url: str, key_id: str, secret: str, timeout: float = 10.0) -> None:
        self._webhook = SignedWebhook(url, key_id, secret, timeout)

    async def send(self, notification: NotificationRequest) -> None:
        await self._webhook.post(notification.idempotency_key, notification.model_dump(mode="json"))


def check_key_id(variable: str, key_id: str) -> None:
    if not re.fullmatch(signing.KEY_ID_PATTERN, key_id):
        raise SystemExit(f"{variable}={key_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
