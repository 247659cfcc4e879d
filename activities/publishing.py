"""Publishing: the accepted answer goes to the citizen in the channel the appeal came from.

One interface for every channel — a reply in the source social network, the website,
e-mail or the ПОС callback. `record` (the default) keeps the reply in the
`publications` table for the channel integrations to pick up; `webhook` POSTs it,
signed with its own secret and key id (APPEALS_PUBLISH_WEBHOOK_SECRET,
APPEALS_PUBLISH_WEBHOOK_KEY_ID), to APPEALS_PUBLISH_WEBHOOK_URL.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg
from temporalio import activity

from activities.delivery import Ledger, deliver_once
from activities.notifiers import SignedWebhook, check_key_id
from appeals.records import Publication
from stack.settings import Settings

LEDGER = Ledger("publications", ("workflow_id", "seq"), done_status="published", done_at_column="published_at")

_INSERT = """
INSERT INTO publications (workflow_id, seq, channel, external_id, recipient, text, attachments, adapter)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (workflow_id, seq) DO NOTHING
"""


class Publisher(Protocol):
    name: str

    async def publish(self, publication: Publication) -> None: ...


class RecordingPublisher:
    """The reply is the row in `publications`; channel integrations read it from there."""

    name = "record"

    async def publish(self, publication: Publication) -> None:
        return None


class WebhookPublisher:
    name = "webhook"

    def __init__(self, url: str, key_id: str, secret: str, timeout: float = 10.0) -> None:
        self._webhook = SignedWebhook(url, key_id, secret, timeout)

    async def publish(self, publication: Publication) -> None:
        await self._webhook.post(publication.idempotency_key, publication.model_dump(mode="json"))


def from_settings(settings: Settings) -> Publisher:
    if settings.publisher == "record":
        return RecordingPublisher()
    if settings.publisher == "webhook":
        secret = settings.publish_webhook_secret
        if not settings.publish_webhook_url or not secret:
            raise SystemExit(
                "APPEALS_PUBLISHER=webhook needs APPEALS_PUBLISH_WEBHOOK_URL and APPEALS_PUBLISH_WEBHOOK_SECRET"
                " (a secret of its own: the notification webhook's is not shared)"
            )
        if secret == settings.webhook_secret:
            raise SystemExit("APPEALS_PUBLISH_WEBHOOK_SECRET must differ from APPEALS_WEBHOOK_SECRET: one per webhook")
        check_key_id("APPEALS_PUBLISH_WEBHOOK_KEY_ID", settings.publish_webhook_key_id)
        return WebhookPublisher(settings.publish_webhook_url, settings.publish_webhook_key_id, secret)
    raise SystemExit(f"APPEALS_PUBLISHER={settings.publisher!r}: choose 'record' or 'webhook'")


class PublishingActivities:
    def __init__(self, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self._pool = pool
        self._publisher = publisher

    @activity.defn
    async def publish_answer(self, publication: Publication) -> bool:
        """Returns True if this call published it, False if it had been published before."""
        key = (publication.workflow_id, publication.seq)
        row = (
            *key,
            publication.channel,
            publication.external_id,
            publication.recipient,
            publication.text,
            publication.attachments,
            self._publisher.name,
        )
        return await deliver_once(self._pool, LEDGER, key, (_INSERT, row), lambda: self._publisher.publish(publication))
