"""Webhook signatures: how the engine signs a POST, and how a receiver verifies it.

Pure functions (no I/O, no clock: `now` is passed in), so a receiver may copy this
file as it is. Scheme `v1`, three headers next to the body:

    X-Appeals-Key-Id:    which secret signed it (receivers keep several while rotating)
    X-Appeals-Timestamp: unix seconds when it was sent
    X-Appeals-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

A receiver accepts a request only if the key id is one it knows, the timestamp is
within the window (5 minutes either way by default) and the signature matches,
compared in constant time. Repeats inside the window are dropped by the
Idempotency-Key header, which the engine keeps the same on every retry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

KEY_ID_HEADER = "X-Appeals-Key-Id"
TIMESTAMP_HEADER = "X-Appeals-Timestamp"
SIGNATURE_HEADER = "X-Appeals-Signature"
SCHEME = "v1"
WINDOW_SECONDS = 300
KEY_ID_PATTERN = r"[A-Za-z0-9._-]{1,64}"


class SignatureError(ValueError):
    """The request is not verifiably from the engine; `reason` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def sign(key_id: str, secret: str, body: bytes, now: float) -> dict[str, str]:
    """The three signature headers for `body` sent at `now` (unix seconds)."""
    if not re.fullmatch(KEY_ID_PATTERN, key_id):
        raise ValueError(f"a key id is 1-64 letters, digits, '.', '_' or '-', not {key_id!r}")
    timestamp = str(int(now))
    return {
        KEY_ID_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret_by_key_id: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    window: float = WINDOW_SECONDS,
) -> str:
    """Check a received webhook; return the key id that signed it, or raise SignatureError.

    `headers` may be any mapping (header names are matched case-insensitively); `body`
    is the raw bytes as received, before any JSON parsing; `now` is unix seconds.
    """
    found = {name.lower(): value for name, value in headers.items()}

    def header(name: str) -> str:
        value = found.get(name.lower(), "").strip()
        if not value:
            raise SignatureError(f"missing {name}")
        return value

    key_id = header(KEY_ID_HEADER)
    timestamp = header(TIMESTAMP_HEADER)
    offered = header(SIGNATURE_HEADER)
    secret = secret_by_key_id.get(key_id)
    if not secret:
        raise SignatureError("unknown key id")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureError("timestamp is not unix seconds")
    age = now - int(timestamp)
    if age > window:
        raise SignatureError("stale timestamp")
    if age < -window:
        raise SignatureError("timestamp in the future")
    expected = signature(secret, timestamp, body).encode()
    # Several signatures may be offered, comma-separated; one valid v1 signature is enough.
    candidates = [s.strip() for s in offered.split(",") if s.strip().startswith(f"{SCHEME}=")]
    if not candidates:
        raise SignatureError(f"no {SCHEME} signature")
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode(), expected)
    if not matched:
        raise SignatureError("bad signature")
    return key_id
