"""The Telegram publisher against a loopback Bot API (tests/channel_fakes.py), with real PostgreSQL,
and once through the whole workflow on the time-skipping server."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.messengers import split_text
from activities.notifiers import TransientDeliveryError
from activities.publishing import ChannelPublishers, PublishingActivities, RecordingPublisher
from activities.telegram import TelegramPublisher, parse_target
from stack import channels
from stack.settings import REPO_ROOT, Settings
from tests.channel_fakes import ANSWER, FakeBotApi, fake_bot_api, publication, register, row, unique_number
from tests.conftest import eventually, make_appeal, running_worker
from tests.scenarios import ANSWER_TEXT, answer_and_publish, start, to_monday_morning

TOKEN = "7012345678:AAH-secret-bot-token_xyz"


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with fake_bot_api(TOKEN) as fake:
        yield fake


def activities(pool: asyncpg.Pool, api: FakeBotApi, token: str = TOKEN) -> PublishingActivities:
    telegram = TelegramPublisher(token, api.url, timeout=5, inline_wait=2)
    return PublishingActivities(pool, ChannelPublishers(RecordingPublisher(), {"telegram": telegram}))


def assert_no_secret(text: str, api: FakeBotApi) -> None:
    for leak in (TOKEN, "secret-bot-token", "/bot", api.url, "127.0.0.1"):
        assert leak not in text, f"{leak!r} leaked into {text!r}"


async def test_the_answer_replies_to_the_citizens_message_once(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi
) -> None:
    chat = unique_number()
    appeal = await register(env, pool, "telegram", f"{chat}:42")
    pub = publication(appeal)

    first = await env.run(activities(pool, api).publish_answer, pub)
    again = await env.run(activities(pool, api).publish_answer, pub)

    assert (first, again) == (True, False)
    [sent] = api.sent
    assert sent["chat_id"] == chat
    assert sent["reply_parameters"] == {"message_id": 42, "allow_sending_without_reply": True}
    assert sent["text"] == f"{ANSWER}\n\nакт вывоза снега.pdf: https://files.example/act-1.pdf"
    stored = await row(pool, pub)
    assert (stored["status"], stored["attempts"], stored["adapter"]) == ("published", 1, "telegram")
    assert stored["receipt"] == {"message_ids": [501]}


async def test_a_group_chat_is_written_with_the_tg_prefix(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi
) -> None:
    chat = -1_000_000_000_000 - unique_number()
    appeal = await register(env, pool, "telegram", f"tg{chat}:7")

    assert await env.run(activities(pool, api).publish_answer, publication(appeal, attachments=[])) is True

    [sent] = api.sent
    assert (sent["chat_id"], sent["reply_parameters"]["message_id"], sent["text"]) == (chat, 7, ANSWER)


@pytest.mark.parametrize("external_id", ["post-abc", "42", "tg:42", "123:abc", "@channel:1"])
def test_an_external_id_that_is_not_a_telegram_message_is_refused(external_id: str) -> None:
    with pytest.raises(Exception, match=r"not a Telegram message: write <chat id>:<message id>"):
        parse_target(external_id)


async def test_a_short_rate_limit_is_waited_out_within_the_attempt(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi
) -> None:
    appeal = await register(env, pool, "telegram", f"{unique_number()}:1")
    pub = publication(appeal)
    api.fail(429, "Too Many Requests: retry after 1", retry_after=1)

    assert await env.run(activities(pool, api).publish_answer, pub) is True

    assert len(api.requests) == 2 and len(api.sent) == 1
    stored = await row(pool, pub)
    assert (stored["status"], stored["attempts"]) == ("published", 1)


async def test_a_long_rate_limit_asks_temporal_to_wait_as_long_and_then_delivers_once(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi
) -> None:
    appeal = await register(env, pool, "telegram", f"{unique_number()}:1")
    pub = publication(appeal)
    api.fail(429, "Too Many Requests: retry after 30", retry_after=30)

    with pytest.raises(ApplicationError) as limited:
        await env.run(activities(pool, api).publish_answer, pub)

    assert limited.value.type == "RateLimited" and not limited.value.non_retryable
    assert limited.value.next_retry_delay == timedelta(seconds=30)
    assert limited.value.message == "Telegram 429 Too Many Requests"
    stored = await row(pool, pub)
    assert (stored["status"], stored["last_error"]) == ("pending", "Telegram 429 Too Many Requests")
    assert api.sent == []

    assert await env.run(activities(pool, api).publish_answer, pub) is True
    assert len(api.sent) == 1


@pytest.mark.parametrize(
    ("code", "description", "reason"),
    [
        (403, "Forbidden: bot was blocked by the user", "Telegram 403 Forbidden: the bot was blocked by the user"),
        (400, "Bad Request: chat not found", "Telegram 400 Bad Request: chat not found"),
        (403, "Forbidden: user is deactivated", "Telegram 403 Forbidden: the user is deactivated"),
        (400, "Bad Request: can't parse entities in message text for Мария", "Telegram 400 Bad Request"),
    ],
    ids=["blocked", "no-chat", "deactivated", "unknown-description"],
)
async def test_a_refusal_is_permanent_with_a_short_reason(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi, code: int, description: str, reason: str
) -> None:
    appeal = await register(env, pool, "telegram", f"{unique_number()}:5")
    pub = publication(appeal)
    api.fail(code, description)

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities(pool, api).publish_answer, pub)

    assert refused.value.type == "PermanentDeliveryError" and refused.value.non_retryable
    assert refused.value.message == reason
    stored = await row(pool, pub)
    assert (stored["status"], stored["last_error"]) == ("pending", reason)
    assert "Мария" not in stored["last_error"]


async def test_a_server_error_is_retried(env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi) -> None:
    appeal = await register(env, pool, "telegram", f"{unique_number()}:5")
    pub = publication(appeal)
    api.fail(502, "Bad Gateway")

    with pytest.raises(TransientDeliveryError, match=r"^Telegram 502 Bad Gateway$"):
        await env.run(activities(pool, api).publish_answer, pub)
    assert await env.run(activities(pool, api).publish_answer, pub) is True

    assert len(api.sent) == 1


async def test_the_token_is_never_in_an_error_a_row_or_the_log(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    appeal = await register(env, pool, "telegram", f"{unique_number()}:5")
    wrong, unreachable = publication(appeal, seq=7), publication(appeal, seq=8)

    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ApplicationError) as refused:
            await env.run(activities(pool, api, token="7012345678:AAH-secret-bot-token_old").publish_answer, wrong)
        publisher = TelegramPublisher(TOKEN, "http://127.0.0.1:1", timeout=2)
        with pytest.raises(TransientDeliveryError) as failed:
            await env.run(PublishingActivities(pool, ChannelPublishers(publisher)).publish_answer, unreachable)

    assert refused.value.message == "Telegram 401 Unauthorized: the bot token is not valid"
    assert str(failed.value) == "connection refused"
    assert failed.value.__context__ is None and failed.value.__cause__ is None  # not the library's error with the URL
    for text in (
        refused.value.message,
        str(failed.value),
        repr(failed.value),
        (await row(pool, wrong))["last_error"],
        (await row(pool, unreachable))["last_error"],
        caplog.text,
    ):
        assert_no_secret(text, api)


async def test_a_long_answer_goes_in_parts_and_a_retry_sends_only_the_rest(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi
) -> None:
    appeal = await register(env, pool, "telegram", f"{unique_number()}:9")
    paragraphs = [f"Пункт {n}. " + "Работы по уборке снега выполнены в полном объёме. " * 40 for n in range(1, 6)]
    pub = publication(appeal, text="\n\n".join(paragraphs), attachments=[])
    parts = split_text(pub.text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    api.fail(500, "Internal Server Error", after=1)  # the second part fails once

    with pytest.raises(TransientDeliveryError):
        await env.run(activities(pool, api).publish_answer, pub)
    stored = await row(pool, pub)
    assert stored["status"] == "pending" and stored["receipt"] == {"message_ids": [501]}

    assert await env.run(activities(pool, api).publish_answer, pub) is True

    assert [s["text"] for s in api.sent] == parts
    assert (await row(pool, pub))["receipt"] == {"message_ids": [501, 502, 503]}


async def test_a_group_that_became_a_supergroup_is_followed(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi
) -> None:
    appeal = await register(env, pool, "telegram", f"tg-{unique_number()}:3")
    pub = publication(appeal)
    api.fail(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=-1001234567890)

    assert await env.run(activities(pool, api).publish_answer, pub) is True

    [sent] = api.sent
    assert sent["chat_id"] == -1001234567890
    assert (await row(pool, pub))["receipt"] == {"message_ids": [501], "migrated_to_chat_id": -1001234567890}


async def test_configured_by_settings_and_publishing_toml(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeBotApi, tmp_path: Path
) -> None:
    # What an operator does: the token and the URL in the environment, the channel in the file.
    (tmp_path / "publishing.toml").write_text('[channels]\ntelegram = "telegram"\n', encoding="utf-8")
    settings = dataclasses.replace(
        Settings(), config_dir=tmp_path, publisher="record", telegram_bot_token=TOKEN, telegram_api_url=api.url
    )
    chosen = PublishingActivities(pool, channels.publishers(settings))
    telegram = await register(env, pool, "telegram", f"{unique_number()}:11")
    website = await register(env, pool, "website", f"site-{unique_number()}")

    assert await env.run(chosen.publish_answer, publication(telegram)) is True
    assert await env.run(chosen.publish_answer, publication(website)) is True

    assert len(api.sent) == 1 and api.sent[0]["reply_parameters"]["message_id"] == 11
    assert (await row(pool, publication(website)))["adapter"] == "record"


async def test_an_appeal_from_telegram_is_answered_in_its_chat(
    ts_env, pool: asyncpg.Pool, task_queue: str, api: FakeBotApi, tmp_path: Path
) -> None:
    # The worker as `worker.py` builds it: the shipped config with the telegram line switched on.
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    (config / "publishing.toml").write_text('[channels]\ntelegram = "telegram"\n', encoding="utf-8")
    settings = dataclasses.replace(
        Settings(), config_dir=config, telegram_bot_token=TOKEN, telegram_api_url=api.url, publisher="record"
    )
    chat = unique_number()
    async with running_worker(ts_env.client, pool, task_queue, settings):
        monday = await to_monday_morning(ts_env)
        appeal = make_appeal(monday, channel="telegram", external_id=f"{chat}:77", author={"handle": "maria_perm"})
        handle = await start(ts_env.client, task_queue, appeal)
        await answer_and_publish(handle)
        published = "SELECT receipt FROM publications WHERE workflow_id = $1 AND status = 'published'"
        receipt = await eventually(lambda: pool.fetchval(published, handle.id))
        await handle.terminate("test over")

    [sent] = api.sent
    assert (sent["chat_id"], sent["reply_parameters"]["message_id"]) == (chat, 77)
    assert sent["text"].startswith(ANSWER_TEXT.strip())
    assert receipt == {"message_ids": [501]}
