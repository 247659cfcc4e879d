"""Loopback stand-ins for the Telegram Bot API and the VK API, following their documented shapes.

Telegram: `POST /bot<token>/sendMessage` with a JSON body; the answer is
`{"ok": true, "result": {<Message>}}` or `{"ok": false, "error_code": N, "description": "…",
"parameters": {"retry_after": N | "migrate_to_chat_id": N}}` with the HTTP status equal to the code.

VK: `POST /method/<name>` with form fields (`access_token`, `v` and the method's parameters);
HTTP 200 with `{"response": …}` or `{"error": {"error_code": N, "error_msg": "…",
"request_params": [...]}}`. Like VK, a second comment with the same `guid` or a second message
with the same `random_id` is not created again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp import web
from temporalio.testing import ActivityEnvironment

from activities.storage import StorageActivities
from appeals.models import AppealInput, AppealStatus
from appeals.records import AppealEvent, Projection, Publication

RECEIVED = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
ANSWER = "Здравствуйте! Снег во дворе дома на ул. Ленина, 50 вывезен сегодня."
ATTACHMENTS = [{"name": "акт вывоза снега.pdf", "url": "https://files.example/act-1.pdf", "kind": "file"}]


async def register(env: ActivityEnvironment, pool: asyncpg.Pool, channel: str, external_id: str) -> AppealInput:
    """A registered appeal from `channel` with a unique suffix-free `external_id`."""
    appeal = AppealInput.model_validate(
        {
            "channel": channel,
            "external_id": external_id,
            "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
            "author": {"name": "Мария Иванова", "handle": "maria_perm"},
            "received_at": RECEIVED.isoformat(),
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


def unique_number() -> int:
    return uuid.uuid4().int % 10**9 + 1


def publication(appeal: AppealInput, seq: int = 7, text: str = ANSWER, attachments: Any = None) -> Publication:
    return Publication(
        workflow_id=appeal.workflow_id,
        seq=seq,
        channel=appeal.channel.value,
        external_id=appeal.external_id,
        recipient=appeal.author.handle or "",
        text=text,
        attachments=ATTACHMENTS if attachments is None else attachments,
    )


async def row(pool: asyncpg.Pool, publication: Publication) -> asyncpg.Record:
    found = await pool.fetchrow(
        "SELECT * FROM publications WHERE workflow_id = $1 AND seq = $2", publication.workflow_id, publication.seq
    )
    assert found is not None
    return found


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)  # the server's own log would show the bot's URL
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@dataclass
class FakeBotApi:
    """The Bot API's sendMessage. `failures` are answered, in order, before anything is sent."""

    token: str
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Failures answered once as many messages have been sent: {sent so far: (status, body)}.
    failures_after: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    next_id: int = 500

    async def send_message(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self.error(401, "Unauthorized")
        if not request.content_type == "application/json":
            return self.error(400, "Bad Request: message text is empty")
        payload = await request.json()
        self.requests.append(payload)
        if self.failures or len(self.sent) in self.failures_after:
            status, body = self.failures.pop(0) if self.failures else self.failures_after.pop(len(self.sent))
            return web.json_response(body, status=status)
        text, reply = payload.get("text"), payload.get("reply_parameters") or {}
        if not isinstance(payload.get("chat_id"), int | str) or not isinstance(text, str) or not text:
            return self.error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return self.error(400, "Bad Request: message is too long")
        if "message_id" in reply and not isinstance(reply["message_id"], int):
            return self.error(400, "Bad Request: invalid reply parameters")
        self.next_id += 1
        self.sent.append(payload)
        message = {
            "message_id": self.next_id,
            "date": 1_796_000_000,
            "chat": {"id": payload["chat_id"], "type": "private"},
            "text": text,
        }
        if "message_id" in reply:
            message["reply_to_message"] = {"message_id": reply["message_id"]}
        return web.json_response({"ok": True, "result": message})

    @staticmethod
    def error(code: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    def fail(self, code: int, description: str, *, after: int | None = None, **parameters: Any) -> None:
        """Answer the next request (or the first once `after` messages are sent) with this error."""
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        if after is None:
            self.failures.append((code, body))
        else:
            self.failures_after[after] = (code, body)


@asynccontextmanager
async def fake_bot_api(token: str) -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi(token)
    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", api.send_message)
    async with serve(app) as url:
        api.url = url
        yield api


@dataclass
class FakeVkApi:
    """wall.createComment and messages.send. `failures` are answered, in order, before anything is done."""

    tokens: set[str]
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    comments: dict[str, int] = field(default_factory=dict)  # guid -> comment id
    messages: dict[str, int] = field(default_factory=dict)  # random_id -> message id
    created: list[dict[str, str]] = field(default_factory=list)
    failures: list[int | tuple[int, str]] = field(default_factory=list)  # VK error codes, or (HTTP status, text)
    lose_answer_once: bool = False  # do the work, then answer 502 as a failing proxy would
    next_id: int = 9000

    async def method(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(form)
        name = request.match_info["name"]
        params = [{"key": "method", "value": name}, {"key": "oauth", "value": "1"}]
        if form.get("access_token") not in self.tokens:
            return self.error(5, "User authorization failed: invalid access_token (4).", params)
        if form.get("v") != "5.199":
            return self.error(8, "Invalid request: versions below 5.0 are no longer supported", params)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, tuple):
                return web.Response(status=failure[0], text=failure[1])
            return self.error(failure, f"VK says error {failure} (with details for {form.get('owner_id')})", params)
        if name == "wall.createComment":
            if not form.get("message") or "owner_id" not in form or "post_id" not in form:
                return self.error(100, "One of the parameters specified was missing or invalid", params)
            answer: Any = {"comment_id": self._create(self.comments, form["guid"], form), "parents_stack": []}
        elif name == "messages.send":
            if "random_id" not in form or "peer_id" not in form:
                return self.error(100, "One of the parameters specified was missing or invalid: random_id", params)
            answer = self._create(self.messages, form["random_id"], form)
        else:
            return self.error(3, "Unknown method passed", params)
        if self.lose_answer_once:
            self.lose_answer_once = False
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        return web.json_response({"response": answer})

    def _create(self, seen: dict[str, int], key: str, form: dict[str, str]) -> int:
        if key not in seen:  # VK drops a repeat with the same guid / random_id
            self.next_id += 1
            seen[key] = self.next_id
            self.created.append(form)
        return seen[key]

    @staticmethod
    def error(code: int, message: str, params: list[dict[str, str]]) -> web.Response:
        return web.json_response({"error": {"error_code": code, "error_msg": message, "request_params": params}})


@asynccontextmanager
async def fake_vk_api(*tokens: str) -> AsyncIterator[FakeVkApi]:
    api = FakeVkApi(set(tokens))
    app = web.Application()
    app.router.add_post("/method/{name}", api.method)
    async with serve(app) as url:
        api.url = url
        yield api
