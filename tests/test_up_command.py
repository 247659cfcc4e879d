"""The README's first command, `python3 dev.py up`, from a clean data directory:
it becomes ready, takes an appeal, stops cleanly on Ctrl-C, and a second start
resumes the appeal in flight. On the first run it generates the payload key and the
codec server's credential (0600), reuses them afterwards, runs the codec server and
wires the UI to it, and prints no secret."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psutil
import pytest

from appeals.state import AppealState
from devstack.up import READY, masked
from stack.client import connect
from stack.settings import Settings
from starter import submit
from tests.conftest import free_port, make_appeal
from workflows.appeal import AppealWorkflow

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e

CODEC_VARIABLES = ("APPEALS_CODEC_KEYS", "APPEALS_CODEC_KEYS_FILE", "APPEALS_CODEC_TOKENS", "APPEALS_CODEC_TOKENS_FILE")


class Up:
    def __init__(self, data_dir: Path, port: int, ui_port: int, codec_port: int):
        self.api_port = api_port = free_port()
        self.env = os.environ | {
            "APPEALS_DATA_DIR": str(data_dir),
            "APPEALS_DEV_SERVER_PORT": str(port),
            "APPEALS_UI_PORT": str(ui_port),
            "APPEALS_CODEC_PORT": str(codec_port),
            "APPEALS_API_PORT": str(api_port),
        }
        # As on a fresh checkout: no key, no credential configured; `up` makes them.
        for name in ("TEMPORAL_ADDRESS", "APPEALS_DATABASE_URL", *CODEC_VARIABLES):
            self.env.pop(name, None)
        self.log = data_dir.parent / "up.log"

    def start(self, timeout: float = 120) -> subprocess.Popen[bytes]:
        out = self.log.open("ab")
        readies = self.log.read_text(errors="replace").count(READY) if self.log.exists() else 0
        process = subprocess.Popen([sys.executable, "dev.py", "up"], cwd=ROOT, env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while self.log.read_text(errors="replace").count(READY) == readies:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"dev.py up never became ready:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> int:
        process.send_signal(signal.SIGINT)
        return process.wait(timeout=60)


def _children_left(data_dir: Path) -> list[str]:
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            left.append(cmdline)
    return left


def _settings(data_dir: Path) -> Settings:
    """A client of this `up`: its keys are the ones `up` generated in the data directory."""
    return replace(Settings(), codec_keys=None, codec_keys_file=None, data_dir=data_dir)


async def _decode_status(url: str, authorization: str | None) -> int:
    headers = {"Authorization": authorization} if authorization else {}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/decode", data='{"payloads": []}', headers=headers) as response:
            return response.status


async def _api_status(url: str, key: str, workflow_id: str) -> str:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        async with session.get(f"{url}/appeals/{workflow_id}") as response:
            assert response.status == 200, await response.text()
            return str((await response.json())["state"]["status"])


def _codec_endpoint_of_the_ui(data_dir: Path) -> str | None:
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if str(data_dir / "temporal.db") in cmdline and "--ui-codec-endpoint" in cmdline:
            return str(cmdline[cmdline.index("--ui-codec-endpoint") + 1])
    return None


def test_printed_database_urls_never_show_the_password():
    assert masked("postgresql://appeals:s3cret@db:5432/appeals") == "postgresql://appeals:***@db:5432/appeals"
    assert masked("postgresql://db/appeals?user=a&password=s3cret&sslmode=require") == (
        "postgresql://db/appeals?user=a&password=***&sslmode=require"
    )
    plain = "postgresql://postgres@/appeals?host=/tmp/pg"
    assert masked(plain) == plain


async def test_up_starts_clean_stops_on_ctrl_c_and_resumes(tmp_path: Path):
    data_dir = tmp_path / "data"
    port, ui_port, codec_port = free_port(), free_port(), free_port()
    up = Up(data_dir, port, ui_port, codec_port)

    process = up.start()
    log = up.log.read_text()
    assert f"http://localhost:{ui_port}" in log and "starter.py submit" in log
    assert (data_dir / "temporal.db").exists() and (data_dir / "postgres" / "PG_VERSION").exists()

    # The key and the credential, generated owner-only; the log names the files, never the secrets.
    keys, tokens = data_dir / "codec-keys", data_dir / "codec-tokens"
    for secret in (keys, tokens):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    key_line = next(line for line in keys.read_text().splitlines() if not line.startswith("#"))
    token = tokens.read_text().strip().split(":", 1)[1]
    assert key_line.split(":", 1)[1] not in log and token not in log
    codec_url = f"http://localhost:{codec_port}"
    assert f"Codec server: {codec_url}" in log and str(tokens) in log and f"--codec-endpoint {codec_url}" in log
    assert _codec_endpoint_of_the_ui(data_dir) == codec_url
    assert await _decode_status(codec_url, None) == 401
    assert await _decode_status(codec_url, "Bearer not-the-token") == 401
    assert await _decode_status(codec_url, f"Bearer {token}") == 200
    # The HTTP API, with the operator key `up` made (0600): the log names its file, never the key.
    api_url, api_key_file = f"http://localhost:{up.api_port}", data_dir / "api-key"
    api_key = api_key_file.read_text().strip()
    assert stat.S_IMODE(api_key_file.stat().st_mode) == 0o600 and api_key not in log
    assert f"HTTP API:     {api_url}" in log and str(api_key_file) in log

    client = await connect(_settings(data_dir), f"127.0.0.1:{port}")
    appeal = make_appeal(datetime.now(UTC))
    assert (await submit(client, appeal, task_queue="appeals")).created
    handle = client.get_workflow_handle(appeal.workflow_id)
    for _ in range(100):
        state: AppealState = await handle.query(AppealWorkflow.get_state)
        if state.executor:
            break
        await asyncio.sleep(0.1)
    assert state.status == "awaiting_acknowledgment"
    assert await _api_status(api_url, api_key, appeal.workflow_id) == "awaiting_acknowledgment"

    assert await asyncio.to_thread(up.stop, process) == 0
    assert "stopped cleanly" in up.log.read_text()
    assert _children_left(data_dir) == []

    # The next start resumes the appeal from the same data directory, with the same key.
    key_file = keys.read_text()
    process = await asyncio.to_thread(up.start)
    try:
        assert keys.read_text() == key_file and tokens.read_text().strip().endswith(token)
        assert await _api_status(api_url, api_key, appeal.workflow_id) == "awaiting_acknowledgment"
        client = await connect(_settings(data_dir), f"127.0.0.1:{port}")
        handle = client.get_workflow_handle(appeal.workflow_id)
        state = await handle.query(AppealWorkflow.get_state)
        assert state.status == "awaiting_acknowledgment"
        assert [e.kind for e in state.timeline][:2] == ["registered", "routed"]
    finally:
        assert await asyncio.to_thread(up.stop, process) == 0
    assert _children_left(data_dir) == []
