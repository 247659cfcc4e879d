"""Limits: the request body size cap, and a token bucket per API key.

The bucket is checked right after the key, before the body is parsed and before anything
starts: a 429 never drops an appeal that was accepted, and a retry is safe (starting an
appeal is idempotent by its workflow id). Each copy of the API keeps its own buckets.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Bucket:
    tokens: float
    at: float


@dataclass
class Buckets:
    """`per_minute` requests a minute on average per key, bursts of up to `burst`."""

    per_minute: int
    burst: int
    _buckets: dict[str, Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token for `key`: 0 when there was one, else the seconds until there is."""
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self._buckets.setdefault(key, Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate if rate > 0 else math.inf


async def _refuse(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error, "problems": []}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: a request body over `max_body` bytes gets 413 before the app sees it.

    A declared Content-Length over the cap is refused without reading; otherwise the body is
    read up to the cap and handed on whole."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_large = f"the request body is larger than {self.max_body} bytes (APPEALS_API_MAX_BODY)"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _refuse(send, 413, too_large if declared.isdigit() else "a bad Content-Length header")
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _refuse(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
