"""The VK publisher against a loopback VK API (tests/channel_fakes.py), with real PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
import pytest_asyncio
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.messengers import split_text
from activities.notifiers import TransientDeliveryError
from activities.publishing import ChannelPublishers, PublishingActivities, RecordingPublisher
from activities.vk import API_VERSION, MessageTarget, VkPublisher, WallTarget, parse_target
from tests.channel_fakes import ANSWER, FakeVkApi, fake_vk_api, publication, register, row, unique_number

TOKEN = "vk1.a.user-secret-token"
COMMUNITY_TOKEN = "vk1.a.community-secret-token"
GROUP = 123456


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeVkApi]:
    async with fake_vk_api(TOKEN, COMMUNITY_TOKEN) as fake:
        yield fake


def activities(pool: asyncpg.Pool, api: FakeVkApi, token: str = TOKEN) -> PublishingActivities:
    vk = VkPublisher(token, api.url, messages_token=COMMUNITY_TOKEN, group_id=-GROUP, timeout=5, inline_wait=2)
    return PublishingActivities(pool, ChannelPublishers(RecordingPublisher(), {"vk": vk}))


@pytest.mark.parametrize(
    ("external_id", "target"),
    [
        ("wall-123456:789", WallTarget(-123456, 789)),
        ("wall42:7", WallTarget(42, 7)),
        ("wall-123456:789:1011", WallTarget(-123456, 789, 1011)),
        ("msg2000000001:42", MessageTarget(2000000001, 42)),
        ("msg777", MessageTarget(777)),
    ],
)
def test_the_external_id_says_where_the_citizen_wrote(external_id: str, target: object) -> None:
    assert parse_target(external_id) == target


@pytest.mark.parametrize("external_id", ["post-abc", "wall-1_2", "wall:1", "msg", "photo-1:2"])
def test_an_external_id_that_is_not_a_vk_post_or_message_is_refused(external_id: str) -> None:
    with pytest.raises(Exception, match=r"not a VK post or message: write wall<owner>:<post> or msg<peer>:<message>"):
        parse_target(external_id)


async def test_the_answer_is_a_comment_under_the_post_published_once(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi
) -> None:
    post = unique_number()
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{post}:55")
    pub = publication(appeal)

    first = await env.run(activities(pool, api).publish_answer, pub)
    again = await env.run(activities(pool, api).publish_answer, pub)

    assert (first, again) == (True, False)
    [request] = api.requests
    assert request["access_token"] == TOKEN and request["v"] == API_VERSION == "5.199"
    assert (request["owner_id"], request["post_id"], request["reply_to_comment"]) == (f"-{GROUP}", str(post), "55")
    assert request["from_group"] == str(GROUP)
    assert request["message"] == f"{ANSWER}\n\nакт вывоза снега.pdf: https://files.example/act-1.pdf"
    assert len(request["guid"]) == 32
    stored = await row(pool, pub)
    assert (stored["status"], stored["attempts"], stored["adapter"]) == ("published", 1, "vk")
    assert stored["receipt"] == {"comment_ids": [9001]}


async def test_a_message_answers_the_conversation_with_the_community_token(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi
) -> None:
    peer = 2_000_000_000 + unique_number()
    appeal = await register(env, pool, "vk", f"msg{peer}:42")
    pub = publication(appeal, attachments=[])

    assert await env.run(activities(pool, api).publish_answer, pub) is True

    [request] = api.requests
    assert request["access_token"] == COMMUNITY_TOKEN
    assert (request["peer_id"], request["reply_to"], request["message"]) == (str(peer), "42", ANSWER)
    assert 0 <= int(request["random_id"]) < 2**31
    assert (await row(pool, pub))["receipt"] == {"message_ids": [9001]}


async def test_too_many_requests_per_second_is_waited_out_in_place(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi
) -> None:
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{unique_number()}")
    pub = publication(appeal)
    api.failures = [6]

    assert await env.run(activities(pool, api).publish_answer, pub) is True

    assert len(api.requests) == 2 and len(api.created) == 1
    assert (await row(pool, pub))["attempts"] == 1


@pytest.mark.parametrize(
    ("code", "reason", "delay"),
    [(9, "VK error 9: flood control", 60), (29, "VK error 29: rate limit reached", 900)],
)
async def test_a_longer_limit_asks_temporal_to_wait(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi, code: int, reason: str, delay: int
) -> None:
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{unique_number()}")
    pub = publication(appeal)
    api.failures = [code]

    with pytest.raises(ApplicationError) as limited:
        await env.run(activities(pool, api).publish_answer, pub)

    assert limited.value.type == "RateLimited" and not limited.value.non_retryable
    assert limited.value.next_retry_delay == timedelta(seconds=delay)
    assert limited.value.message == reason
    assert (await row(pool, pub))["last_error"] == reason

    assert await env.run(activities(pool, api).publish_answer, pub) is True
    assert len(api.created) == 1


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (15, "VK error 15: access denied"),
        (212, "VK error 212: access to the post's comments denied"),
        (901, "VK error 901: the user has not allowed messages from the community"),
        (14, "VK error 14: captcha needed"),
        (4242, "VK error 4242"),
    ],
)
async def test_a_refusal_is_permanent_without_vks_words(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi, code: int, reason: str
) -> None:
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{unique_number()}")
    pub = publication(appeal)
    api.failures = [code]

    with pytest.raises(ApplicationError) as refused:
        await env.run(activities(pool, api).publish_answer, pub)

    assert refused.value.type == "PermanentDeliveryError" and refused.value.non_retryable
    assert refused.value.message == reason
    stored = await row(pool, pub)
    assert stored["last_error"] == reason and "VK says" not in stored["last_error"]
    assert api.created == []


@pytest.mark.parametrize(
    ("failure", "reason"), [(10, "VK error 10: internal server error"), ((503, "busy"), "VK HTTP 503")]
)
async def test_a_server_error_is_retried(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi, failure: int | tuple[int, str], reason: str
) -> None:
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{unique_number()}")
    pub = publication(appeal)
    api.failures = [failure]

    with pytest.raises(TransientDeliveryError) as failed:
        await env.run(activities(pool, api).publish_answer, pub)
    assert str(failed.value) == reason
    assert await env.run(activities(pool, api).publish_answer, pub) is True

    assert len(api.created) == 1


async def test_a_lost_answer_is_retried_and_vk_drops_the_repeat_by_its_guid(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi
) -> None:
    # VK made the comment but the answer was lost on the way: the retry carries the same guid.
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{unique_number()}")
    pub = publication(appeal)
    api.lose_answer_once = True

    with pytest.raises(TransientDeliveryError, match=r"^VK HTTP 502$"):
        await env.run(activities(pool, api).publish_answer, pub)
    assert await env.run(activities(pool, api).publish_answer, pub) is True

    assert len(api.requests) == 2 and api.requests[0]["guid"] == api.requests[1]["guid"]
    assert len(api.created) == 1
    assert (await row(pool, pub))["receipt"] == {"comment_ids": [9001]}


async def test_a_bad_token_is_permanent_and_never_stored_or_logged(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi, caplog: pytest.LogCaptureFixture
) -> None:
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{unique_number()}")
    pub = publication(appeal)
    revoked = "vk1.a.revoked-secret-token"

    with caplog.at_level(logging.DEBUG), pytest.raises(ApplicationError) as refused:
        await env.run(activities(pool, api, token=revoked).publish_answer, pub)

    assert refused.value.message == "VK error 5: authorization failed: the token is not valid"
    stored = await row(pool, pub)
    for text in (refused.value.message, stored["last_error"], caplog.text, repr(stored)):
        for secret in (revoked, TOKEN, COMMUNITY_TOKEN, "secret-token"):
            assert secret not in text


async def test_a_long_answer_goes_in_parts_each_with_its_own_guid(
    env: ActivityEnvironment, pool: asyncpg.Pool, api: FakeVkApi
) -> None:
    appeal = await register(env, pool, "vk", f"wall-{GROUP}:{unique_number()}")
    text = "\n".join(f"{n}. Работы по уборке снега выполнены в полном объёме, двор очищен. " * 30 for n in range(4))
    pub = publication(appeal, text=text, attachments=[])
    parts = split_text(text)
    assert len(parts) >= 2

    assert await env.run(activities(pool, api).publish_answer, pub) is True

    assert [c["message"] for c in api.created] == parts
    assert len({c["guid"] for c in api.created}) == len(parts)
    assert (await row(pool, pub))["receipt"] == {"comment_ids": list(range(9001, 9001 + len(parts)))}
