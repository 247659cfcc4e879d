"""The payload codec (AES-256-GCM with key ids, rotation, tamper detection) and the codec server
over real HTTP on loopback: credentials, CORS for the UI's origin only, the audit log."""

from __future__ import annotations

import base64
import logging
import stat
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from appeals.models import AppealInput
from stack import codec_server
from stack.client import DATA_CONVERTER, connect
from stack.codec import (
    ENCODING,
    KEY_ID,
    CodecKeyError,
    EncryptionCodec,
    TamperedPayloadError,
    UnknownKeyError,
    ensure_keys_file,
    keyring_from,
    new_key_line,
    parse_keys,
)
from stack.settings import Settings
from tests.conftest import free_port, make_appeal

NAME = "Аграфена Тестовая-Шифрованная"
UI = "http://localhost:8233"
TOKEN = "alice-token-0123456789abcdef"


def plain(value: Any) -> Payload:
    return DATA_CONVERTER.payload_converter.to_payloads([value])[0]


def codec(*kids: str, lines: dict[str, str] | None = None) -> EncryptionCodec:
    lines = lines or {}
    return EncryptionCodec(parse_keys(",".join(lines.get(k) or new_key_line(k) for k in kids), "test"))


# --- the codec -----------------------------------------------------------------------------------


async def test_round_trip_hides_the_content_and_names_the_key():
    c = codec("k1")
    original = plain({"name": NAME, "phone": "+7 900 000-11-22"})
    [sealed] = await c.encode([original])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert NAME.encode() not in sealed.SerializeToString() and b"json/plain" not in sealed.SerializeToString()
    assert await c.decode([sealed]) == [original]
    # The same value twice gives two different ciphertexts (a fresh nonce each time).
    [again] = await c.encode([original])
    assert again.data != sealed.data


async def test_the_projects_converter_encrypts_values_and_failure_messages():
    appeal = make_appeal(datetime.now(UTC), author={"name": NAME, "contact": "+7 900 000-11-22"})
    [sealed] = await DATA_CONVERTER.encode([appeal])
    assert NAME.encode() not in sealed.SerializeToString()
    assert sealed.metadata[KEY_ID] == b"test-session"  # conftest's key, shared with the spawned CLIs
    [back] = await DATA_CONVERTER.decode([sealed], [AppealInput])
    assert back == appeal

    failure = Failure()
    await DATA_CONVERTER.encode_failure(ApplicationError(f"cannot store {NAME}", {"who": NAME}), failure)
    assert failure.message == "Encoded failure" and not failure.stack_trace
    assert NAME.encode() not in failure.SerializeToString()
    error = await DATA_CONVERTER.decode_failure(failure)
    assert isinstance(error, ApplicationError) and error.message == f"cannot store {NAME}"
    assert error.details == ({"who": NAME},)


async def test_rotation_newest_encrypts_old_keys_still_decrypt():
    k1 = new_key_line("k1")
    old = codec("k1", lines={"k1": k1})
    [written_long_ago] = await old.encode([plain(NAME)])

    rotated = codec("k2", "k1", lines={"k1": k1})
    assert await rotated.decode([written_long_ago]) == [plain(NAME)]
    [written_now] = await rotated.encode([plain(NAME)])
    assert written_now.metadata[KEY_ID] == b"k2"

    # A worker that was not given the new key says which one it lacks.
    with pytest.raises(UnknownKeyError, match=r"key id 'k2', which is not configured \(configured: k1\)"):
        await old.decode([written_now])


async def test_tampering_is_detected():
    c = codec("k1", "k0")
    [sealed] = await c.encode([plain(NAME)])

    flipped = Payload()
    flipped.CopyFrom(sealed)
    flipped.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(TamperedPayloadError, match="failed authentication"):
        await c.decode([flipped])

    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID] = b"k0"  # another configured key: the tag does not verify
    with pytest.raises(TamperedPayloadError):
        await c.decode([relabelled])

    truncated = Payload()
    truncated.CopyFrom(sealed)
    truncated.data = sealed.data[:5]
    with pytest.raises(TamperedPayloadError):
        await c.decode([truncated])

    impostor = codec("k1")  # same id, other key material
    with pytest.raises(TamperedPayloadError, match="'k1'"):
        await impostor.decode([sealed])


async def test_unencrypted_payloads_pass_decode_unchanged():
    """Histories recorded before encryption still replay (tests/histories/)."""
    original = plain({"text": "recorded before encryption"})
    assert await codec("k1").decode([original]) == [original]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no key"),
        ("k1", "'kid:base64'"),
        ("bad id!:" + base64.b64encode(b"x" * 32).decode(), "'kid:base64'"),
        ("k1:not-base64-at-all", "not 32 bytes"),
        ("k1:" + base64.b64encode(b"short").decode(), "not 32 bytes"),
        (new_key_line("k1") + "," + new_key_line("k1"), "appears twice"),
    ],
)
def test_malformed_keys_are_refused_clearly(text: str, message: str):
    with pytest.raises(CodecKeyError, match=message) as caught:
        parse_keys(text, "APPEALS_CODEC_KEYS")
    assert str(caught.value).startswith("APPEALS_CODEC_KEYS: ")


def test_keys_from_a_file_with_comments_and_urlsafe_base64(tmp_path: Path):
    raw = b"\xfb" * 32
    (tmp_path / "keys").write_text(
        "# rotated 2026-05\nk2:" + base64.urlsafe_b64encode(raw).decode().rstrip("=") + "\n" + new_key_line("k1") + "\n"
    )
    settings = replace(Settings(), codec_keys=None, codec_keys_file=tmp_path / "keys")
    ring = keyring_from(settings)
    assert ring.ids == ("k2", "k1") and ring.current == "k2"
    assert "k2" in repr(ring) and base64.b64encode(raw).decode() not in repr(ring)


def test_up_generates_the_key_file_once_owner_only(tmp_path: Path):
    settings = replace(Settings(), codec_keys=None, codec_keys_file=None, data_dir=tmp_path / "data")
    with pytest.raises(CodecKeyError, match="no payload encryption key is configured"):
        keyring_from(settings)

    where, generated = ensure_keys_file(settings)
    path = tmp_path / "data" / "codec-keys"
    assert (where, generated) == (str(path), True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = keyring_from(settings)
    content = path.read_text()

    path.chmod(0o644)
    assert ensure_keys_file(settings) == (str(path), False)  # reused, and tightened
    assert path.read_text() == content and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keyring_from(settings).ids == first.ids

    configured = replace(settings, codec_keys=new_key_line("env"))
    assert ensure_keys_file(configured) == ("APPEALS_CODEC_KEYS", False)


async def test_a_client_without_a_key_is_a_one_line_error(tmp_path: Path):
    settings = replace(Settings(), codec_keys=None, codec_keys_file=None, data_dir=tmp_path)
    with pytest.raises(ConnectionError, match="no payload encryption key is configured") as caught:
        await connect(settings, "127.0.0.1:1")
    assert "\n" not in str(caught.value)


# --- the codec server ----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[str, EncryptionCodec]]:
    c = codec("k2", "k1")
    creds = codec_server.parse_tokens(f"alice:{TOKEN}\nbob:bob-token-0123456789abcdef", "test")
    port = free_port()
    runner = await codec_server.start(codec_server.build_app(c, creds, [UI]), "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}", c
    finally:
        await runner.cleanup()


def body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def payloads_of(text: str) -> list[Payload]:
    return list(json_format.Parse(text, Payloads()).payloads)


async def post(url: str, data: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.post(url, data=data, headers=headers) as response:
        return response.status, await response.text(), dict(response.headers)


async def test_codec_server_decodes_only_with_the_right_credential(server, caplog):
    url, c = server
    caplog.set_level(logging.INFO, logger="appeals.codec_server")
    [sealed] = await c.encode([plain({"name": NAME})])
    json_headers = {"Content-Type": "application/json", "X-Namespace": "default"}

    status, _, _ = await post(f"{url}/decode", body(sealed), **json_headers)
    assert status == 401
    status, _, _ = await post(f"{url}/decode", body(sealed), **json_headers, Authorization="Bearer wrong-token-xyz")
    assert status == 401
    status, _, _ = await post(f"{url}/decode", body(sealed), **json_headers, Authorization=TOKEN)  # no scheme
    assert status == 401

    status, text, _ = await post(f"{url}/decode", body(sealed), **json_headers, Authorization=f"Bearer {TOKEN}")
    assert status == 200
    assert payloads_of(text) == [plain({"name": NAME})]

    # The CLI's templated endpoint, and /encode (for starts and signals from the UI or CLI).
    status, text, _ = await post(f"{url}/default/encode", body(plain(NAME)), Authorization=f"Bearer {TOKEN}")
    assert status == 200
    [encoded] = payloads_of(text)
    assert encoded.metadata[KEY_ID] == b"k2" and await c.decode([encoded]) == [plain(NAME)]

    # Who decoded what, never the content nor the token.
    decoded = [r for r in caplog.records if "codec decode" in r.getMessage() and "refused" not in r.getMessage()]
    assert len(decoded) == 1
    line = decoded[0].getMessage()
    assert "'who': 'alice'" in line and "'namespace': 'default'" in line and "'payloads': 1" in line
    assert "'key_ids': ['k2']" in line
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 3 and any("missing credential" in r for r in refused)
    assert any("wrong credential" in r for r in refused)
    assert NAME not in caplog.text and TOKEN not in caplog.text and "wrong-token" not in caplog.text


async def test_codec_server_answers_cors_for_the_ui_origin_only(server):
    url, c = server
    preflight = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }
    async with aiohttp.ClientSession() as session:
        async with session.options(f"{url}/decode", headers=preflight) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == UI
            assert response.headers["Access-Control-Allow-Credentials"] == "true"
            allowed = response.headers["Access-Control-Allow-Headers"].lower()
            assert {"content-type", "x-namespace", "authorization"} <= {h.strip() for h in allowed.split(",")}
            assert response.headers["Access-Control-Allow-Methods"] == "POST"
        async with session.options(f"{url}/decode", headers=preflight | {"Origin": "https://evil.example"}) as response:
            assert response.status == 403
            assert "Access-Control-Allow-Origin" not in response.headers

    [sealed] = await c.encode([plain(NAME)])
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    # The UI's page may read the answer, and its 401s too; another site's page may not.
    status, _, headers = await post(f"{url}/decode?preserveStorageRefs=true", body(sealed), **auth, Origin=UI)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == UI
    status, _, headers = await post(f"{url}/decode", body(sealed), Origin=UI)
    assert status == 401 and headers["Access-Control-Allow-Origin"] == UI
    status, _, headers = await post(f"{url}/decode", body(sealed), **auth, Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"


async def test_the_ui_signs_in_with_a_session_cookie(server):
    url, c = server
    [sealed] = await c.encode([plain(NAME)])
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{url}/login") as response:
            assert response.status == 200 and "default-src 'none'" in response.headers["Content-Security-Policy"]
        async with session.post(f"{url}/login", data={"token": "wrong-token-xyz-000"}) as response:
            assert response.status == 401 and "Set-Cookie" not in response.headers
        async with session.post(f"{url}/login", data={"token": TOKEN}) as response:
            assert response.status == 200
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie

        decode = f"{url}/decode"
        async with session.post(decode, data=body(sealed), headers={"Origin": UI}) as response:
            assert response.status == 200
            assert payloads_of(await response.text()) == [plain(NAME)]
        # The cookie counts only from the UI's origin.
        async with session.post(decode, data=body(sealed), headers={"Origin": "http://localhost:9999"}) as response:
            assert response.status == 401
        async with session.post(decode, data=body(sealed)) as response:
            assert response.status == 401

    for forged in ("alice.99999999999." + "0" * 64, "alice.²³." + "0" * 64, "аlice.99999999999.ж", "alice"):
        cookie = f"{codec_server.COOKIE}={forged}"
        status, _, _ = await post(f"{url}/decode", body(sealed), Origin=UI, Cookie=cookie.encode().decode("latin-1"))
        assert status == 401, forged


async def test_codec_server_refuses_bodies_that_are_not_payloads(server):
    url, _ = server
    status, text, _ = await post(f"{url}/decode", "not json", Authorization=f"Bearer {TOKEN}")
    assert status == 400 and "payloads" in text


async def test_codec_server_reports_an_unknown_key_without_content(server):
    url, _ = server
    [foreign] = await codec("k9").encode([plain(NAME)])
    status, text, _ = await post(f"{url}/decode", body(foreign), Authorization=f"Bearer {TOKEN}")
    assert status == 422 and "'k9'" in text and NAME not in text


def test_the_codec_server_never_runs_without_a_credential(tmp_path: Path):
    settings = replace(Settings(), codec_tokens=None, codec_tokens_file=None, data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="needs a credential"):
        codec_server.credentials_from(settings)
    with pytest.raises(ValueError, match="16"):
        codec_server.parse_tokens("alice:short", "APPEALS_CODEC_TOKENS")
    path = codec_server.ensure_tokens_file(settings)
    assert path == str(tmp_path / "codec-tokens") and stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    [cred] = codec_server.credentials_from(settings)
    assert cred.name == "operator" and cred.secret not in repr(cred)
    assert codec_server.cors_origins(settings) == [f"http://localhost:{settings.ui_port}"]
