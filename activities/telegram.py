"""The Telegram Bot API publisher: the answer as a reply to the citizen's message.

The appeal's `external_id` says where the citizen wrote: `<chat id>:<message id>`, e.g.
`123456789:42` for a private chat; a group's or channel's negative chat id takes the
prefix `tg` (an external id starts with a letter or digit): `tg-1001234567890:42`. The
answer goes by `sendMessage` with `reply_parameters` pointing at that message (still sent
if the citizen deleted it), in parts of at most 4,096 characters, attachments as links.

The bot token (APPEALS_TELEGRAM_BOT_TOKEN) is part of every request's URL, so no URL is
ever logged or kept: a failure is "Telegram 403 Forbidden: the bot was blocked by the
user", "Telegram 429 Too Many Requests", "timeout". 429 is waited out as
`parameters.retry_after` asks (in place when short, otherwise by Temporal's retry);
400, 401, 403 and 404 are permanent; the rest is retried. The sent message ids are kept
in the publication's receipt: `{"message_ids": [...]}`.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import aiohttp

from activities.delivery import Receipt
from activities.messengers import INLINE_WAIT, MESSAGE_LIMIT, answer_text, patiently, post, split_text
from activities.notifiers import DeliveryError, PermanentDeliveryError, RateLimited, TransientDeliveryError
from appeals.records import Publication

DEFAULT_API_URL = "https://api.telegram.org"
TARGET = re.compile(r"(?:tg)?(-?[0-9]{1,20}):([0-9]{1,15})")
PERMANENT_CODES = (400, 401, 403, 404)
# Telegram's descriptions that say what to fix, in our words; any other description is not kept.
KNOWN_DESCRIPTIONS = {
    "chat not found": "chat not found",
    "bot was blocked by the user": "the bot was blocked by the user",
    "user is deactivated": "the user is deactivated",
    "bot was kicked": "the bot was removed from the chat",
    "bot is not a member": "the bot is not a member of the chat",
    "not enough rights": "the bot may not write in the chat",
    "have no rights to send": "the bot may not write in the chat",
    "message is too long": "message is too long",
    "message text is empty": "message text is empty",
    "unauthorized": "the bot token is not valid",
}


class ChatMigrated(Exception):
    """The group became a supergroup with a new chat id; send there instead."""

    def __init__(self, chat_id: int) -> None:
        super().__init__("chat migrated")
        self.chat_id = chat_id


def parse_target(external_id: str) -> tuple[int, int]:
    """(chat id, message id) from an external id `<chat id>:<message id>` or `tg<chat id>:<message id>`."""
    found = TARGET.fullmatch(external_id)
    if not found:
        raise PermanentDeliveryError(
            "the appeal's external id is not a Telegram message: write <chat id>:<message id>, e.g. tg-100123:42"
        )
    return int(found.group(1)), int(found.group(2))


def _phrase(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def describe_error(status: int, body: Any) -> DeliveryError | ChatMigrated:
    """What a failed Bot API call means: in our words, with the code and at most a known cause."""
    answer: dict[str, Any] = body if isinstance(body, dict) else {}
    error_code = answer.get("error_code")
    code = error_code if isinstance(error_code, int) else status
    found = answer.get("parameters")
    parameters: dict[str, Any] = found if isinstance(found, dict) else {}
    migrated = parameters.get("migrate_to_chat_id")
    if isinstance(migrated, int):
        return ChatMigrated(migrated)
    reason = f"Telegram {_phrase(code)}"
    if code == 429:
        retry_after = parameters.get("retry_after")
        return RateLimited(reason, float(retry_after) if isinstance(retry_after, int | float) else None)
    description = str(answer.get("description") or "").lower()
    known = next((ours for theirs, ours in KNOWN_DESCRIPTIONS.items() if theirs in description), None)
    if known:
        reason = f"{reason}: {known}"
    if code in PERMANENT_CODES:
        return PermanentDeliveryError(reason)
    return TransientDeliveryError(reason)


class TelegramPublisher:
    name = "telegram"

    def __init__(
        self, token: str, api_url: str = DEFAULT_API_URL, *, timeout: float = 10.0, inline_wait: float = INLINE_WAIT
    ) -> None:
        if not token or any(c.isspace() or c == "/" for c in token):
            raise ValueError("a Telegram bot token looks like 123456:ABC-DEF…, with no spaces or slashes")
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._inline_wait = inline_wait

    def __repr__(self) -> str:
        return "TelegramPublisher()"  # never the token

    async def call(self, session: aiohttp.ClientSession, method: str, payload: dict[str, Any]) -> Any:
        """One Bot API call; returns `result`, or raises a DeliveryError (or ChatMigrated)."""
        status, body = await post(session, f"{self._api_url}/bot{self._token}/{method}", json=payload)
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        if status < 300 and not isinstance(body, dict):
            raise TransientDeliveryError("Telegram answered with something other than the Bot API's JSON")
        raise describe_error(status, body)

    async def _send(self, session: aiohttp.ClientSession, chat_id: int, reply_to: int, text: str) -> Any:
        payload = {
            "chat_id": chat_id,
            "text": text,
            "reply_parameters": {"message_id": reply_to, "allow_sending_without_reply": True},
            "link_preview_options": {"is_disabled": True},
        }
        return await patiently(lambda: self.call(session, "sendMessage", payload), inline_wait=self._inline_wait)

    async def publish(self, publication: Publication, receipt: Receipt) -> None:
        chat_id, reply_to = parse_target(publication.external_id)
        migrated = receipt.get("migrated_to_chat_id")
        if isinstance(migrated, int):
            chat_id = migrated
        parts = split_text(answer_text(publication), MESSAGE_LIMIT)
        sent: list[Any] = receipt.setdefault("message_ids", [])
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            for part in parts[len(sent) :]:
                try:
                    result = await self._send(session, chat_id, reply_to, part)
                except ChatMigrated as moved:
                    chat_id = receipt["migrated_to_chat_id"] = moved.chat_id
                    try:
                        result = await self._send(session, chat_id, reply_to, part)
                    except ChatMigrated:
                        raise PermanentDeliveryError("Telegram 400 Bad Request: the chat moved twice") from None
                sent.append(result.get("message_id") if isinstance(result, dict) else None)
