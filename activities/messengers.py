"""What the Telegram and VK publishers share: the answer's text in parts, the HTTP call, rate limits.

An answer may be longer than one message (20,000 characters against Telegram's and VK's
4,096), so it goes out in parts cut at paragraph, line or word boundaries. The cut is
deterministic: a retry cuts the same text the same way, and the receipt's list of sent
ids says which parts already went, so each part goes once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from activities.notifiers import RateLimited, TransientDeliveryError, describe_failure
from appeals.records import Publication

T = TypeVar("T")
# Both APIs cap one message at 4,096 characters; counted in UTF-16 code units, as Telegram does.
MESSAGE_LIMIT = 4096
# A rate limit shorter than this is waited out inside the attempt; a longer one ends the attempt and
# Temporal retries no sooner than the API asked.
INLINE_WAIT = 5.0
INLINE_TRIES = 3


def answer_text(publication: Publication) -> str:
    """The answer, then one line per attachment: its name (if any) and its link."""
    links = []
    for attachment in publication.attachments:
        url = str(attachment.get("url") or "").strip()
        if not url:
            continue
        name = " ".join(str(attachment.get("name") or "").split())
        links.append(f"{name}: {url}" if name else url)
    text = publication.text.strip()
    return text + "\n\n" + "\n".join(links) if links else text


def _units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _fits(text: str, limit: int) -> int:
    """The longest prefix of `text`, in characters, that is at most `limit` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += _units(ch)
        if units > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut `text` into parts of at most `limit` UTF-16 units, preferring paragraph, line and word breaks."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        fit = _fits(rest, limit)
        if fit >= len(rest):
            parts.append(rest)
            break
        cut = fit
        for separator in ("\n\n", "\n", " "):
            at = rest.rfind(separator, 0, fit + 1)
            if at > fit // 2:
                cut = at
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


async def post(
    session: aiohttp.ClientSession,
    url: str,
    *,
    json: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """POST and read a JSON answer: (HTTP status, parsed body or None). A network failure is transient."""
    try:
        async with session.post(url, json=json, data=data) as response:
            status = response.status
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        # `from None`: the original error quotes the URL, and a Telegram URL holds the bot's token.
        raise TransientDeliveryError(describe_failure(err)) from None
    return status, body


async def patiently(
    call: Callable[[], Awaitable[T]], *, inline_wait: float = INLINE_WAIT, tries: int = INLINE_TRIES
) -> T:
    """Run `call`, waiting out short rate limits in place; a long one is raised for Temporal to wait out."""
    waited = 0.0
    for attempt in range(1, tries + 1):
        try:
            return await call()
        except RateLimited as limited:
            delay = limited.retry_after if limited.retry_after is not None else 1.0
            if attempt == tries or waited + delay > inline_wait:
                raise
            await asyncio.sleep(delay)
            waited += delay
    raise AssertionError("unreachable")  # pragma: no cover
