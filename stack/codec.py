"""Payload encryption for every client and worker: AES-256-GCM, a key id on every payload.

An encrypted payload carries `encoding: binary/encrypted` and `encryption-key-id: <kid>` in
its metadata; its data is a 12-byte random nonce followed by the ciphertext and tag of the
original payload (serialised, metadata included). The key id is authenticated too.

Keys are "kid:base64" entries of 32 random bytes, newest first: the newest encrypts, all of
them decrypt, so a key is rotated by putting a new one in front and restarting the workers.
They come from APPEALS_CODEC_KEYS, or the file APPEALS_CODEC_KEYS_FILE names, or the file
`dev.py up` generates in its data directory; never from the repository.

    python codec_server.py new-key       # a fresh "kid:base64" line for a key file
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from stack.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEYS_FILE = "codec-keys"  # in the data directory, when nothing else is configured
_AAD = b"appeals-codec-v1:"
_NONCE = 12
_KID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class CodecKeyError(ValueError):
    """The keys are missing or malformed, or a payload cannot be decrypted with them."""


class UnknownKeyError(CodecKeyError):
    pass


class TamperedPayloadError(CodecKeyError):
    pass


@dataclass(frozen=True)
class Keyring:
    """Key ids in order, newest first, and their AES-256-GCM keys. Never printed."""

    ids: tuple[str, ...]
    _keys: dict[str, AESGCM]

    @property
    def current(self) -> str:
        return self.ids[0]

    def __repr__(self) -> str:
        return f"Keyring(ids={self.ids!r})"

    def cipher(self, kid: str) -> AESGCM:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyError(
                f"payload was encrypted with key id {kid!r}, which is not configured "
                f"(configured: {', '.join(self.ids)}); add that key after the newest one to read it"
            ) from None


def parse_keys(text: str, source: str) -> Keyring:
    """`kid:base64` entries separated by commas or lines, newest first; `#` starts a comment."""
    ids: list[str] = []
    keys: dict[str, AESGCM] = {}
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].split(","):
            entry = entry.strip()
            if not entry:
                continue
            kid, sep, encoded = entry.partition(":")
            kid = kid.strip()
            if not sep or not _KID.fullmatch(kid):
                raise CodecKeyError(f"{source}: each key is 'kid:base64' with a key id of letters, digits, '._-'")
            if kid in keys:
                raise CodecKeyError(f"{source}: key id {kid!r} appears twice")
            keys[kid] = AESGCM(_decode_key(encoded.strip(), kid, source))
            ids.append(kid)
    if not ids:
        raise CodecKeyError(f"{source}: no key in it")
    return Keyring(tuple(ids), keys)


def _decode_key(encoded: str, kid: str, source: str) -> bytes:
    padded = encoded + "=" * (-len(encoded) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(padded.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            continue
        if len(raw) == 32:
            return raw
    raise CodecKeyError(f"{source}: key {kid!r} is not 32 bytes of base64 (AES-256)")


def keyring_from(settings: Settings) -> Keyring:
    """The configured keys: APPEALS_CODEC_KEYS, else APPEALS_CODEC_KEYS_FILE, else the data dir's file."""
    if settings.codec_keys:
        return parse_keys(settings.codec_keys, "APPEALS_CODEC_KEYS")
    path = settings.codec_keys_file or settings.data_dir / KEYS_FILE
    if settings.codec_keys_file is None and not path.exists():
        raise CodecKeyError(
            "no payload encryption key is configured: set APPEALS_CODEC_KEYS or APPEALS_CODEC_KEYS_FILE, "
            f"or run `python3 dev.py up` once to generate {path}"
        )
    try:
        return parse_keys(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as err:
        raise CodecKeyError(f"cannot read the payload encryption keys from {path}: {err}") from None


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the newest key; decrypts with the key its id names.

    Payloads that are not encrypted pass `decode` unchanged: the replay fixtures recorded before
    encryption, and starts from tools that do not encode (which the README asks to encode).
    """

    def __init__(self, keys: Keyring | Callable[[], Keyring]):
        self._keyring = keys if isinstance(keys, Keyring) else None
        self._load = None if isinstance(keys, Keyring) else keys

    @property
    def keyring(self) -> Keyring:
        """Loaded on first use, so importing a module never needs the keys."""
        if self._keyring is None:
            assert self._load is not None
            self._keyring = self._load()
        return self._keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        kid = self.keyring.current
        nonce = os.urandom(_NONCE)
        sealed = self.keyring.cipher(kid).encrypt(nonce, payload.SerializeToString(), _AAD + kid.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self.keyring.cipher(kid)
        try:
            plain = cipher.decrypt(payload.data[:_NONCE], payload.data[_NONCE:], _AAD + kid.encode())
        except (InvalidTag, ValueError):  # altered, or cut short (no room for the nonce)
            raise TamperedPayloadError(
                f"a payload encrypted with key id {kid!r} failed authentication: it was altered, "
                "or the key configured under that id is not the one that encrypted it"
            ) from None
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def key_ids(payloads: Iterable[Payload]) -> list[str]:
    """The key ids the payloads are encrypted with ("plain" for unencrypted ones); for audit logs."""
    found = {
        p.metadata[KEY_ID].decode("utf-8", "replace") if p.metadata.get("encoding") == ENCODING else "plain"
        for p in payloads
    }
    return sorted(found)


def new_key_line(kid: str | None = None) -> str:
    """A fresh `kid:base64` entry: 32 random bytes under a dated key id."""
    kid = kid or f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"
    if not _KID.fullmatch(kid):
        raise CodecKeyError(f"key id {kid!r}: use letters, digits and '._-' only")
    return f"{kid}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def ensure_keys_file(settings: Settings) -> tuple[str, bool]:
    """`dev.py up`: where the keys come from, and whether a key file was just generated.

    With nothing configured, `<data_dir>/codec-keys` is created (0600) with one new key on the
    first run and reused afterwards; every tool run from this checkout finds it there.
    """
    if settings.codec_keys:
        return "APPEALS_CODEC_KEYS", False
    if settings.codec_keys_file:
        return str(settings.codec_keys_file), False
    path = settings.data_dir / KEYS_FILE
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return str(path), False
    header = "# Payload encryption keys, newest first (kid:base64). Losing them loses the appeals' data.\n"
    write_secret(path, header + new_key_line() + "\n")
    return str(path), True


def write_secret(path: Path, content: str) -> None:
    """Create `path` readable by its owner only (0600); never overwrite an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(content)


_PAYLOAD = Payload.DESCRIPTOR.full_name


async def decode_message(message: Message, codec: PayloadCodec) -> None:
    """Decode, in place, every payload anywhere inside a protobuf message (a history, a describe
    response): for reading recorded histories and for checking what was stored."""
    for field, value in message.ListFields():
        entry = field.message_type
        if field.type != FieldDescriptor.TYPE_MESSAGE or entry is None:
            continue
        if entry.GetOptions().map_entry:
            value_type = entry.fields_by_name["value"].message_type
            if value_type is None:
                continue
            children, is_payload = list(value.values()), value_type.full_name == _PAYLOAD
        else:
            children = list(value) if field.is_repeated else [value]
            is_payload = entry.full_name == _PAYLOAD
        if is_payload:
            for old, new in zip(children, await codec.decode(children), strict=True):
                if new is not old:
                    old.CopyFrom(new)
        else:
            for child in children:
                await decode_message(child, codec)
