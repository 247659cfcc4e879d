"""The VK API publisher: the answer as a comment under the citizen's post, or as a message.

The appeal's `external_id` says where the citizen wrote (VK's own `wall-1_2` has an
underscore, which an external id may not hold, so a colon stands for it):

- `wall<owner id>:<post id>`, e.g. `wall-123456:789` (a post on a community's wall):
  `wall.createComment` under that post;
- `wall<owner id>:<post id>:<comment id>`: a reply to the citizen's comment under a post;
- `msg<peer id>` or `msg<peer id>:<message id>`, e.g. `msg2000000001:42`: `messages.send`
  to that conversation, replying to that message.

Requests are form POSTs to `<APPEALS_VK_API_URL>/method/<name>` with `access_token` and
the pinned API version `v`, never the token in a URL. Each part carries a key derived from
the publication's idempotency key (`guid` for a comment, `random_id` for a message), so VK
itself drops a part sent twice. Errors 6, 9 and 29 (request rate, flood control, the daily
limit) are waited out; 1 and 10 are retried; every other error (the token, access, privacy,
a deleted post) is permanent. A failure is "VK error 15: access denied": the code and our
words, never VK's message or the request. The receipt keeps the ids VK returned:
`{"comment_ids": [...]}` or `{"message_ids": [...]}`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp

from activities.delivery import Receipt
from activities.messengers import INLINE_WAIT, MESSAGE_LIMIT, answer_text, patiently, post, split_text
from activities.notifiers import DeliveryError, PermanentDeliveryError, RateLimited, TransientDeliveryError
from appeals.records import Publication

DEFAULT_API_URL = "https://api.vk.com"
API_VERSION = "5.199"  # pinned: a new version may change the answers' shapes; upgrading is a reviewed change
WALL = re.compile(r"wall(-?[0-9]{1,20}):([0-9]{1,20})(?::([0-9]{1,20}))?")
MESSAGE = re.compile(r"msg(-?[0-9]{1,20})(?::([0-9]{1,20}))?")
# Rate limits and how long to wait (seconds) when VK does not say: 6 per second, 9 flood control, 29 per day.
RATE_LIMITS = {6: 1.0, 9: 60.0, 29: 900.0}
TRANSIENT = (1, 10)
ERRORS = {
    1: "unknown error",
    5: "authorization failed: the token is not valid",
    6: "too many requests per second",
    7: "permission denied",
    8: "invalid request",
    9: "flood control",
    10: "internal server error",
    14: "captcha needed",
    15: "access denied",
    17: "validation required",
    18: "page deleted or blocked",
    27: "community token is not valid",
    28: "application token is not valid",
    29: "rate limit reached",
    30: "profile is private",
    100: "invalid parameter",
    113: "invalid user id",
    203: "access to the community denied",
    210: "access to the wall post denied",
    211: "access to the wall's comments denied",
    212: "access to the post's comments denied",
    213: "no access to comments",
    222: "links are forbidden",
    223: "too many replies",
    900: "the user blacklisted the community",
    901: "the user has not allowed messages from the community",
    902: "the user's privacy settings forbid the message",
    914: "message is too long",
    917: "no access to the chat",
}


@dataclass(frozen=True)
class WallTarget:
    owner_id: int
    post_id: int
    reply_to_comment: int | None = None


@dataclass(frozen=True)
class MessageTarget:
    peer_id: int
    reply_to: int | None = None


def parse_target(external_id: str) -> WallTarget | MessageTarget:
    if found := WALL.fullmatch(external_id):
        comment = found.group(3)
        return WallTarget(int(found.group(1)), int(found.group(2)), int(comment) if comment else None)
    if found := MESSAGE.fullmatch(external_id):
        message = found.group(2)
        return MessageTarget(int(found.group(1)), int(message) if message else None)
    raise PermanentDeliveryError(
        "the appeal's external id is not a VK post or message: write wall<owner>:<post> or msg<peer>:<message>"
    )


def describe_error(status: int, body: Any) -> DeliveryError:
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("error_code") if isinstance(error, dict) else None
    if not isinstance(code, int):
        if status >= 300:
            return TransientDeliveryError(f"VK HTTP {status}")
        return TransientDeliveryError("VK answered with something other than the API's JSON")
    reason = f"VK error {code}: {ERRORS[code]}" if code in ERRORS else f"VK error {code}"
    if code in RATE_LIMITS:
        return RateLimited(reason, RATE_LIMITS[code])
    if code in TRANSIENT:
        return TransientDeliveryError(reason)
    return PermanentDeliveryError(reason)


def part_key(idempotency_key: str, part: int) -> str:
    return hashlib.sha256(f"{idempotency_key}#{part}".encode()).hexdigest()


class VkPublisher:
    name = "vk"

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        messages_token: str | None = None,
        group_id: int | None = None,
        timeout: float = 10.0,
        inline_wait: float = INLINE_WAIT,
    ) -> None:
        if not token:
            raise ValueError("a VK publisher needs an access token")
        self._token = token
        self._messages_token = messages_token or token
        self._group_id = abs(group_id) if group_id else None
        self._api_url = api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._inline_wait = inline_wait

    def __repr__(self) -> str:
        return "VkPublisher()"  # never the token

    async def call(self, session: aiohttp.ClientSession, method: str, token: str, params: dict[str, Any]) -> Any:
        """One API call; returns `response`, or raises a DeliveryError."""
        form = {k: str(v) for k, v in params.items() if v is not None}
        form |= {"access_token": token, "v": API_VERSION}
        status, body = await post(session, f"{self._api_url}/method/{method}", data=form)
        if status < 300 and isinstance(body, dict) and "response" in body:
            return body["response"]
        raise describe_error(status, body)

    def _request(self, target: WallTarget | MessageTarget, text: str, key: str) -> tuple[str, str, dict[str, Any]]:
        if isinstance(target, WallTarget):
            params = {
                "owner_id": target.owner_id,
                "post_id": target.post_id,
                "reply_to_comment": target.reply_to_comment,
                "from_group": self._group_id,
                "message": text,
                "guid": key[:32],
            }
            return "wall.createComment", self._token, params
        params = {
            "peer_id": target.peer_id,
            "reply_to": target.reply_to,
            "random_id": int(key[:8], 16) & 0x7FFFFFFF,  # int32; VK drops a second message with it
            "message": text,
            "dont_parse_links": 1,
        }
        return "messages.send", self._messages_token, params

    async def publish(self, publication: Publication, receipt: Receipt) -> None:
        target = parse_target(publication.external_id)
        ids_key = "comment_ids" if isinstance(target, WallTarget) else "message_ids"
        sent: list[Any] = receipt.setdefault(ids_key, [])
        parts = split_text(answer_text(publication), MESSAGE_LIMIT)
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            for number, part in enumerate(parts):
                if number < len(sent):
                    continue
                method, token, params = self._request(target, part, part_key(publication.idempotency_key, number))
                call = partial(self.call, session, method, token, params)
                response = await patiently(call, inline_wait=self._inline_wait)
                sent.append(_returned_id(response))


def _returned_id(response: Any) -> Any:
    """wall.createComment answers {"comment_id": N, ...}; messages.send with peer_id answers N."""
    if isinstance(response, dict):
        return response.get("comment_id", response.get("message_id"))
    return response if isinstance(response, int) else None
