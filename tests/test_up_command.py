"""The README's first command, `python3 dev.py up`, from a clean data directory:
it becomes ready, takes an appeal, stops cleanly on Ctrl-C, and a second start
resumes the appeal in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from appeals.state import AppealState
from stack.client import connect
from stack.settings import Settings
from stack.up import READY
from starter import submit
from tests.conftest import free_port, make_appeal
from workflows.appeal import AppealWorkflow

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


class Up:
    def __init__(self, data_dir: Path, port: int, ui_port: int):
        self.env = os.environ | {
            "APPEALS_DATA_DIR": str(data_dir),
            "APPEALS_DEV_SERVER_PORT": str(port),
            "APPEALS_UI_PORT": str(ui_port),
        }
        for name in ("TEMPORAL_ADDRESS", "APPEALS_DATABASE_URL"):
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


async def test_up_starts_clean_stops_on_ctrl_c_and_resumes(tmp_path: Path):
    data_dir = tmp_path / "data"
    port, ui_port = free_port(), free_port()
    up = Up(data_dir, port, ui_port)

    process = up.start()
    log = up.log.read_text()
    assert f"http://localhost:{ui_port}" in log and "starter.py submit" in log
    assert (data_dir / "temporal.db").exists() and (data_dir / "postgres" / "PG_VERSION").exists()

    client = await connect(Settings(), f"127.0.0.1:{port}")
    appeal = make_appeal(datetime.now(UTC))
    assert (await submit(client, appeal, task_queue="appeals")).created
    handle = client.get_workflow_handle(appeal.workflow_id)
    for _ in range(100):
        state: AppealState = await handle.query(AppealWorkflow.get_state)
        if state.executor:
            break
        await asyncio.sleep(0.1)
    assert state.status == "awaiting_acknowledgment"

    assert await asyncio.to_thread(up.stop, process) == 0
    assert "stopped cleanly" in up.log.read_text()
    assert _children_left(data_dir) == []

    # The next start resumes the appeal from the same data directory.
    process = await asyncio.to_thread(up.start)
    try:
        client = await connect(Settings(), f"127.0.0.1:{port}")
        handle = client.get_workflow_handle(appeal.workflow_id)
        state = await handle.query(AppealWorkflow.get_state)
        assert state.status == "awaiting_acknowledgment"
        assert [e.kind for e in state.timeline][:2] == ["registered", "routed"]
    finally:
        assert await asyncio.to_thread(up.stop, process) == 0
    assert _children_left(data_dir) == []
