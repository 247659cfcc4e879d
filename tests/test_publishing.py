"""Publishing the accepted answer: the record adapter, the signed webhook and the choice per channel,
on real PostgreSQL and loopback (Telegram and VK: tests/test_telegram.py, tests/test_vk.py)."""

from __future__ import annotations

import dataclasses
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

from activities.notifiers import IDEMPOTENCY_HEADER, KEY_ID_HEADER, TIMESTAMP_HEADER, TransientDeliveryError
from activities.planning import ConfigError
from activities.publishing import (
    ChannelPublishers,
    PublishingActivities,
    RecordingPublisher,
    WebhookPublisher,
)
from activities.publishing_config import PUBLISHING_FILE, load_channels
from activities.storage import StorageActivities
from activities.telegram import TelegramPublisher
from activities.vk import VkPublisher
from appeals.models import AppealInput, AppealStatus
from appeals.records import AppealEvent, Projection, Publication
from appeals.signing import SignatureError, verify
from stack import channels
from stack.settings import REPO_ROOT, Settings

RECEIVED = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SECRET = "test-publish-secret"
KEY_ID = "publish-2026"
NOTIFY_SECRET = "test-notify-secret"
ATTACHMENTS = [
    {"name": "акт-вывоза-снега.pdf", "url": "https://files.example/act-1.pdf", "size": 20480},
    {"name": "фото.jpg", "url": "https://files.example/photo.jpg"},
]


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest_asyncio.fixture
async def appeal(env: ActivityEnvironment, pool: asyncpg.Pool) -> AppealInput:
    """A fresh, registered appeal with a unique workflow id: `publications` rows refer to it."""
    appeal = AppealInput.model_validate(
        {
            "channel": "vk",
            "external_id": f"post-{uuid.uuid4().hex}",
            "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
            "author": {"name": "Мария Иванова", "handle": "id123456", "contact": "+7 912 000-00-00"},
            "received_at": RECEIVED.isoformat(),
            "category": "snow_removal",
            "municipality": "Пермь",
        }
    )
    registration = AppealEvent(
        workflow_id=appeal.workflow_id,
        seq=1,
        kind="registered",
        at=RECEIVED + timedelta(minutes=1),
        summary="registered",
        projection=Projection(status=AppealStatus.registered),
        appeal=appeal,
    )
    assert await env.run(StorageActivities(pool).record_event, registration) is True
    return appeal


def publication(appeal: AppealInput, seq: int = 7) -> Publication:
    return Publication(
        workflow_id=appeal.workflow_id,
        seq=seq,
        channel="vk",
        external_id=appeal.external_id,
        recipient="id123456",
        text="Здравствуйте! Снег во дворе дома на ул. Ленина, 50 вывезен сегодня.",
        attachments=ATTACHMENTS,
    )


async def publication_rows(pool: asyncpg.Pool, workflow_id: str) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM publications WHERE workflow_id = $1 ORDER BY seq", workflow_id)


# --- the recording publisher (default) -------------------------------------------------------


async def test_the_recording_publisher_writes_one_published_row(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput
) -> None:
    activities = PublishingActivities(pool, RecordingPublisher())
    pub = publication(appeal)

    assert await env.run(activities.publish_answer, pub) is True

    [row] = await publication_rows(pool, appeal.workflow_id)
    assert row["status"] == "published" and row["published_at"] is not None
    assert (row["attempts"], row["last_error"], row["adapter"]) == (1, None, "record")
    assert (row["seq"], row["channel"], row["external_id"]) == (7, "vk", appeal.external_id)
    assert row["recipient"] == "id123456"
    assert row["text"] == pub.text
    assert row["attachments"] == ATTACHMENTS


async def test_publishing_the_same_answer_again_publishes_nothing(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput
) -> None:
    activities = PublishingActivities(pool, RecordingPublisher())
    pub = publication(appeal)
    assert await env.run(activities.publish_answer, pub) is True
    [before] = await publication_rows(pool, appeal.workflow_id)

    again = await env.run(activities.publish_answer, pub)

    assert again is False
    [after] = await publication_rows(pool, appeal.workflow_id)
    assert after["attempts"] == 1
    assert after["published_at"] == before["published_at"]
    assert after["status"] == "published"


async def test_two_steps_of_one_appeal_are_two_publications(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput
) -> None:
    activities = PublishingActivities(pool, RecordingPublisher())

    assert await env.run(activities.publish_answer, publication(appeal, seq=7)) is True
    assert await env.run(activities.publish_answer, publication(appeal, seq=9)) is True

    rows = await publication_rows(pool, appeal.workflow_id)
    assert [(r["seq"], r["status"]) for r in rows] == [(7, "published"), (9, "published")]


async def test_a_publication_for_an_unknown_appeal_is_refused_by_the_database(
    env: ActivityEnvironment, pool: asyncpg.Pool
) -> None:
    activities = PublishingActivities(pool, RecordingPublisher())
    orphan = Publication(
        workflow_id=f"appeal-vk-missing-{uuid.uuid4().hex}",
        seq=1,
        channel="vk",
        external_id="nope",
        recipient="id1",
        text="ответ",
    )

    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await env.run(activities.publish_answer, orphan)

    assert await publication_rows(pool, orphan.workflow_id) == []


# --- the webhook publisher, against a real loopback server ----------------------------------


@dataclass
class Receiver:
    """Records every POST as it arrived and answers as told."""

    url: str = ""
    answer_status: int = 200
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        if self.answer_status >= 300:
            return web.Response(status=self.answer_status, text=f"answering {self.answer_status}")
        return web.Response(status=204)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/publish", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}/hooks/publish"
    try:
        yield state
    finally:
        await runner.cleanup()


def webhook_activities(pool: asyncpg.Pool, receiver: Receiver) -> PublishingActivities:
    return PublishingActivities(pool, WebhookPublisher(receiver.url, KEY_ID, SECRET))


async def test_the_webhook_publisher_posts_a_signed_publication_exactly_once(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    pub = publication(appeal)

    first = await env.run(activities.publish_answer, pub)
    second = await env.run(activities.publish_answer, pub)

    assert (first, second) == (True, False)
    [(headers, body)] = receiver.posts
    # What a receiver does, with the helper from the README.
    assert verify({KEY_ID: SECRET}, headers, body, now=time.time()) == KEY_ID
    assert headers[KEY_ID_HEADER] == KEY_ID
    with pytest.raises(SignatureError, match="bad signature"):
        verify({KEY_ID: "another-secret"}, headers, body, now=time.time())
    with pytest.raises(SignatureError, match="unknown key id"):
        verify({"notify-2026": SECRET}, headers, body, now=time.time())
    with pytest.raises(SignatureError, match="stale timestamp"):
        verify({KEY_ID: SECRET}, headers, body, now=int(headers[TIMESTAMP_HEADER]) + 301)
    with pytest.raises(SignatureError, match="bad signature"):
        verify({KEY_ID: SECRET}, headers, body.replace("Здравствуйте".encode(), "Прощайте".encode()), now=time.time())
    assert headers[IDEMPOTENCY_HEADER] == f"{appeal.workflow_id}:7:publish" == pub.idempotency_key
    assert headers["Content-Type"].startswith("application/json")
    payload = json.loads(body)
    assert payload == {"idempotency_key": pub.idempotency_key, **pub.model_dump(mode="json")}
    assert payload["text"] == pub.text and payload["attachments"] == ATTACHMENTS
    assert "Здравствуйте" in body.decode("utf-8")  # sent as UTF-8, not \u-escaped
    [row] = await publication_rows(pool, appeal.workflow_id)
    assert (row["status"], row["attempts"], row["adapter"]) == ("published", 1, "webhook")


async def test_a_webhook_server_error_is_retryable_and_recovers(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    pub = publication(appeal)
    receiver.answer_status = 500

    with pytest.raises(TransientDeliveryError, match=r"^HTTP 500 Internal Server Error$") as failed:
        await env.run(activities.publish_answer, pub)

    assert not (isinstance(failed.value, ApplicationError) and failed.value.non_retryable)
    assert str(failed.value) == "HTTP 500 Internal Server Error"
    [row] = await publication_rows(pool, appeal.workflow_id)
    assert (row["status"], row["attempts"], row["published_at"]) == ("pending", 1, None)
    assert row["last_error"] == "HTTP 500 Internal Server Error"
    assert receiver.url not in row["last_error"] and "answering" not in row["last_error"]

    receiver.answer_status = 200
    retried = await env.run(activities.publish_answer, pub)

    assert retried is True
    assert len(receiver.posts) == 2
    assert [h[IDEMPOTENCY_HEADER] for h, _ in receiver.posts] == [pub.idempotency_key] * 2
    [row] = await publication_rows(pool, appeal.workflow_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("published", 2, None)
    assert row["published_at"] is not None


async def test_a_webhook_client_error_is_a_permanent_failure(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, receiver: Receiver
) -> None:
    activities = webhook_activities(pool, receiver)
    receiver.answer_status = 400

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.publish_answer, publication(appeal))

    assert refused.value.type == "PermanentDeliveryError"
    assert refused.value.non_retryable is True
    assert refused.value.message == "HTTP 400 Bad Request"
    [row] = await publication_rows(pool, appeal.workflow_id)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "HTTP 400 Bad Request"
    assert len(receiver.posts) == 1


# --- from_settings: APPEALS_PUBLISHER for every channel ---------------------------------------


def settings(config_dir: Path | None = None, **overrides: Any) -> Settings:
    base = {
        "publisher": "record",
        "publish_webhook_url": None,
        "publish_webhook_secret": None,
        "publish_webhook_key_id": KEY_ID,
        "webhook_secret": NOTIFY_SECRET,
        "telegram_bot_token": None,
        "vk_token": None,
        "config_dir": config_dir or REPO_ROOT / "config",
    }
    return dataclasses.replace(Settings(), **{**base, **overrides})


def test_the_default_publisher_records() -> None:
    chosen = channels.publishers(settings())

    assert isinstance(chosen.default, RecordingPublisher) and chosen.default.name == "record"
    # The shipped config/publishing.toml names no channel until an operator gives the tokens.
    assert chosen.names() == {}
    assert chosen.for_channel("telegram") is chosen.default


def test_a_configured_webhook_publisher_is_built() -> None:
    chosen = channels.publishers(
        settings(publisher="webhook", publish_webhook_url="http://127.0.0.1:9/hook", publish_webhook_secret=SECRET)
    )

    assert isinstance(chosen.default, WebhookPublisher) and chosen.default.name == "webhook"


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"publish_webhook_url": "http://127.0.0.1:9/hook"},
        {"publish_webhook_secret": SECRET},
    ],
    ids=["neither", "no-secret", "no-url"],
)
def test_a_webhook_publisher_without_url_or_secret_is_refused(overrides: dict[str, str]) -> None:
    with pytest.raises(SystemExit) as refused:
        channels.publishers(settings(publisher="webhook", **overrides))

    message = str(refused.value)
    assert "APPEALS_PUBLISHER='webhook' needs" in message
    assert "APPEALS_PUBLISH_WEBHOOK_URL" in message
    assert "APPEALS_PUBLISH_WEBHOOK_SECRET" in message


def test_the_notification_secret_is_not_used_for_publishing() -> None:
    # No fallback: with only APPEALS_WEBHOOK_SECRET set, the publisher refuses to start.
    with pytest.raises(SystemExit, match="APPEALS_PUBLISH_WEBHOOK_SECRET"):
        channels.publishers(
            settings(publisher="webhook", publish_webhook_url="http://127.0.0.1:9/hook", webhook_secret=SECRET)
        )


def test_one_secret_for_both_webhooks_is_refused() -> None:
    with pytest.raises(SystemExit, match="must differ from APPEALS_WEBHOOK_SECRET"):
        channels.publishers(
            settings(
                publisher="webhook",
                publish_webhook_url="http://127.0.0.1:9/hook",
                publish_webhook_secret=SECRET,
                webhook_secret=SECRET,
            )
        )


def test_a_publish_key_id_that_cannot_be_a_header_is_refused() -> None:
    with pytest.raises(SystemExit, match="APPEALS_PUBLISH_WEBHOOK_KEY_ID"):
        channels.publishers(
            settings(
                publisher="webhook",
                publish_webhook_url="http://127.0.0.1:9/hook",
                publish_webhook_secret=SECRET,
                publish_webhook_key_id="a/b",
            )
        )


def test_an_unknown_publisher_is_refused() -> None:
    with pytest.raises(SystemExit) as refused:
        channels.publishers(settings(publisher="carrier-pigeon"))

    message = str(refused.value)
    assert "APPEALS_PUBLISHER='carrier-pigeon'" in message
    for name in ("'record'", "'webhook'", "'telegram'", "'vk'"):
        assert name in message


@pytest.mark.parametrize(
    ("publisher", "variable"), [("telegram", "APPEALS_TELEGRAM_BOT_TOKEN"), ("vk", "APPEALS_VK_TOKEN")]
)
def test_a_messenger_publisher_without_its_token_is_refused(publisher: str, variable: str) -> None:
    with pytest.raises(SystemExit, match=f"APPEALS_PUBLISHER='{publisher}' needs {variable}"):
        channels.publishers(settings(publisher=publisher))


def test_tokens_are_not_in_the_settings_repr_or_the_publishers_repr() -> None:
    configured = settings(
        telegram_bot_token="123456:telegram-secret", vk_token="vk-secret", vk_messages_token="vk-community-secret"
    )
    text = repr(configured)
    text += repr(TelegramPublisher("123456:telegram-secret")) + repr(VkPublisher("vk-secret"))

    for secret in ("telegram-secret", "vk-secret", "vk-community-secret"):
        assert secret not in text


# --- config/publishing.toml: a publisher per channel -----------------------------------------


def config_dir(tmp_path: Path, text: str | None) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    if text is not None:
        (folder / PUBLISHING_FILE).write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_publishing_file_is_valid() -> None:
    path, channels = load_channels(REPO_ROOT / "config")

    assert path.is_file()
    assert channels == {}


def test_each_channel_gets_the_publisher_the_file_names(tmp_path: Path) -> None:
    folder = config_dir(tmp_path, '[channels]\ntelegram = "telegram"\nvk = "vk"\ngovernor_account = "vk"\n')

    chosen = channels.publishers(settings(folder, telegram_bot_token="123456:token", vk_token="vk-token"))

    assert isinstance(chosen.for_channel("telegram"), TelegramPublisher)
    assert isinstance(chosen.for_channel("vk"), VkPublisher)
    assert chosen.for_channel("governor_account") is chosen.for_channel("vk")  # one publisher, built once
    assert isinstance(chosen.for_channel("website"), RecordingPublisher)
    assert chosen.names() == {"governor_account": "vk", "telegram": "telegram", "vk": "vk"}


def test_without_the_file_every_channel_goes_to_the_default(tmp_path: Path) -> None:
    chosen = channels.publishers(settings(config_dir(tmp_path, None)))

    assert chosen.names() == {} and isinstance(chosen.default, RecordingPublisher)


def test_a_channel_mapped_to_a_publisher_without_its_token_names_the_file_and_field(tmp_path: Path) -> None:
    folder = config_dir(tmp_path, '[channels]\ntelegram = "telegram"\n')

    with pytest.raises(SystemExit) as refused:
        channels.publishers(settings(folder))

    assert (
        str(refused.value)
        == f"{folder / PUBLISHING_FILE}: channels.telegram = 'telegram' needs APPEALS_TELEGRAM_BOT_TOKEN"
    )


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ('[channels]\ntelegram = "carrier-pigeon"\n', "channels.telegram", "'record', 'webhook', 'telegram' or 'vk'"),
        ('[channels]\nfax = "record"\n', "channels.fax", "Input should be"),
        ('[channel]\nvk = "vk"\n', "channel", "Extra inputs are not permitted"),
        ("[channels\n", "not valid TOML", ""),
    ],
    ids=["unknown-publisher", "unknown-channel", "misspelt-table", "broken-toml"],
)
def test_a_bad_publishing_file_is_refused_naming_the_file_and_field(
    tmp_path: Path, text: str, field: str, says: str
) -> None:
    folder = config_dir(tmp_path, text)

    with pytest.raises(ConfigError) as refused:
        channels.publishers(settings(folder))

    message = str(refused.value)
    assert message.startswith(f"{folder / PUBLISHING_FILE}: ")
    assert field in message and says in message


async def test_the_adapter_column_names_the_channels_publisher(
    env: ActivityEnvironment, pool: asyncpg.Pool, appeal: AppealInput, receiver: Receiver
) -> None:
    publishers = ChannelPublishers(RecordingPublisher(), {"vk": WebhookPublisher(receiver.url, KEY_ID, SECRET)})
    activities = PublishingActivities(pool, publishers)
    website = publication(appeal, seq=8).model_copy(update={"channel": "website"})

    assert await env.run(activities.publish_answer, publication(appeal, seq=7)) is True
    assert await env.run(activities.publish_answer, website) is True

    rows = await publication_rows(pool, appeal.workflow_id)
    assert [(r["seq"], r["adapter"], r["status"]) for r in rows] == [
        (7, "webhook", "published"),
        (8, "record", "published"),
    ]
    assert len(receiver.posts) == 1
