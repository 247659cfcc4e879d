"""Notification adapters: where an escalation or a warning actually goes.

`log` (the default) writes a structured log line. `webhook` POSTs JSON signed
with HMAC-SHA256 and carries an Idempotency-Key header, so a receiver can drop
the rare repeat after a worker crashed between sending and recording.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Protocol

import aiohttp

from appeals.records import NotificationRequest
from stack import logs
from stack.settings import Settings

SIGNATURE_HEADER = "X-Appeals-Signature"
TIMESTAMP_HEADER = "X-Appeals-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"

log = logs.get(__name__)


class PermanentDeliveryError(Exception):
    """The receiver refused the notification for good; retrying cannot help."""


class Notifier(Protocol):
    name: str

    async def send(self, notification: NotificationRequest) -> None: ...


class LogNotifier:
    name = "log"

    async def send(self, notification: NotificationRequest) -> None:
        log.info(
            "notification",
            appeal_id=notification.workflow_id,
            kind=notification.kind,
            to=notification.recipient.address,
            role=notification.recipient.role,
            subject=notification.subject,
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of `<timestamp>.<body>`; receivers recompute it to verify."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class SignedWebhook:
    """POSTs JSON signed with HMAC-SHA256, with an Idempotency-Key header."""

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def post(self, idempotency_key: str, payload: dict[str, object]) -> None:
        body = json.dumps({"idempotency_key": idempotency_key, **payload}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            IDEMPOTENCY_HEADER: idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        async with (
            aiohttp.ClientSession(timeout=self._timeout) as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            if response.status < 300:
                return
            detail = (await response.text())[:300]
            message = f"webhook {self.url} answered {response.status}: {detail}"
            if 400 <= response.status < 500 and response.status not in (408, 425, 429):
                raise PermanentDeliveryError(message)
            raise ConnectionError(message)


class WebhookNotifier:
    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self._webhook = SignedWebhook(url, secret, timeout)

    async def send(self, notification: NotificationRequest) -> None:
        await self._webhook.post(notification.idempotency_key, notification.model_dump(mode="json"))


def from_settings(settings: Settings) -> Notifier:
    if settings.notifier == "log":
        return LogNotifier()
    if settings.notifier == "webhook":
        if not settings.webhook_url or not settings.webhook_secret:
            raise SystemExit("APPEALS_NOTIFIER=webhook needs APPEALS_WEBHOOK_URL and APPEALS_WEBHOOK_SECRET")
        return WebhookNotifier(settings.webhook_url, settings.webhook_secret)
    raise SystemExit(f"APPEALS_NOTIFIER={settings.notifier!r}: choose 'log' or 'webhook'")
