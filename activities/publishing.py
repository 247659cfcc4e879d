"""Publishing: the accepted answer goes to the citizen in the channel the appeal came from.

One interface, one publisher per channel (config/publishing.toml; the rest go to
APPEALS_PUBLISHER):

- `record` (the default) keeps the reply in the `publications` table for the channel
  integrations to pick up;
- `webhook` POSTs it, signed with its own secret and key id (APPEALS_PUBLISH_WEBHOOK_SECRET,
  APPEALS_PUBLISH_WEBHOOK_KEY_ID), to APPEALS_PUBLISH_WEBHOOK_URL;
- `telegram` replies to the citizen's message through the Bot API (activities/telegram.py);
- `vk` comments under the citizen's post or answers the message (activities/vk.py).

Every answer is published once: the `publications` row (one per appeal and step) is locked
while the publisher works and marked published with what the channel returned (`receipt`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import asyncpg
from temporalio import activity

from activities.delivery import Ledger, Receipt, deliver_once
from activities.notifiers import SignedWebhook
from appeals.records import Publication

LEDGER = Ledger(
    "publications",
    ("workflow_id", "seq"),
    done_status="published",
    done_at_column="published_at",
    receipt_column="receipt",
)

_INSERT = """
INSERT INTO publications (workflow_id, seq, channel, external_id, recipient, text, attachments, adapter)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (workflow_id, seq) DO NOTHING
"""


class Publisher(Protocol):
    name: str

    async def publish(self, publication: Publication, receipt: Receipt) -> None:
        """Deliver it; record what the channel returned in `receipt`, which outlives a failed attempt."""
        ...


class RecordingPublisher:
    """The reply is the row in `publications`; channel integrations read it from there."""

    name = "record"

    async def publish(self, publication: Publication, receipt: Receipt) -> None:
        return None


class WebhookPublisher:
    name = "webhook"

    def __init__(self, url: str, key_id: str, secret: str, timeout: float = 10.0) -> None:
        self._webhook = SignedWebhook(url, key_id, secret, timeout)

    async def publish(self, publication: Publication, receipt: Receipt) -> None:
        await self._webhook.post(publication.idempotency_key, publication.model_dump(mode="json"))


class ChannelPublishers:
    """The publisher of each channel; channels not named go to the default."""

    def __init__(self, default: Publisher, by_channel: Mapping[str, Publisher] | None = None) -> None:
        self.default = default
        self.by_channel = dict(by_channel or {})

    def for_channel(self, channel: str) -> Publisher:
        return self.by_channel.get(channel, self.default)

    def names(self) -> dict[str, str]:
        """channel -> publisher name, for the channels that do not use the default."""
        return {channel: publisher.name for channel, publisher in sorted(self.by_channel.items())}


class PublishingActivities:
    def __init__(self, pool: asyncpg.Pool, publishers: Publisher | ChannelPublishers) -> None:
        self._pool = pool
        self._publishers = publishers if isinstance(publishers, ChannelPublishers) else ChannelPublishers(publishers)

    @activity.defn
    async def publish_answer(self, publication: Publication) -> bool:
        """Returns True if this call published it, False if it had been published before."""
        publisher = self._publishers.for_channel(publication.channel)
        key = (publication.workflow_id, publication.seq)
        row = (
            *key,
            publication.channel,
            publication.external_id,
            publication.recipient,
            publication.text,
            publication.attachments,
            publisher.name,
        )

        async def send(receipt: Receipt) -> None:
            await publisher.publish(publication, receipt)

        return await deliver_once(self._pool, LEDGER, key, (_INSERT, row), send)
