"""The README's curl session ("The HTTP API" → "With curl"), run as it is with bash and curl
against the served API; the status after each command must be the one the README shows."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.api_support import Api, api
from tests.conftest import ROOT, make_appeal

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash"),
]
__all__ = ["api"]  # the fixture
EXAMPLE_ID = "appeal-vk-wall-123456_789"


def curl_session() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The HTTP API") :]
    section = section[section.index("### With curl") :]
    return section[section.index("```bash\n") + len("```bash\n") : section.index("\n```", section.index("```bash"))]


async def test_the_readme_curl_session_answers_as_the_readme_says(api: Api, tmp_path: Path):
    session = curl_session()
    shown = [int(m) for m in re.findall(r"^#.* (\d{3})$", session, flags=re.MULTILINE)]
    assert len(shown) >= 7, "the README shows a status after each command"
    # The example files, with fresh ids and times: the dev server is shared by the whole test run.
    received = datetime.now(UTC) - timedelta(minutes=5)
    one = make_appeal(received, external_id=f"wall-{uuid.uuid4().hex[:10]}", municipality="Пермь")
    batch = [make_appeal(received) for _ in range(4)]
    (tmp_path / "appeal.json").write_text(one.model_dump_json(), encoding="utf-8")
    (tmp_path / "appeals.jsonl").write_text("\n".join(a.model_dump_json() for a in batch) + "\n", encoding="utf-8")
    script = (
        session.replace("@examples/appeal.json", f"@{tmp_path / 'appeal.json'}")
        .replace("@examples/appeals.jsonl", f"@{tmp_path / 'appeals.jsonl'}")
        .replace(EXAMPLE_ID, one.workflow_id)
    )
    env = os.environ | {"API": api.url, "KEY": api.operator_key}
    command = ["bash", "-euo", "pipefail", "-c", script]
    # In a thread: the API under test serves from this event loop.
    done = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    answers = [line.rsplit(" ", 1) for line in done.stdout.splitlines() if line.strip()]
    assert [int(code) for _, code in answers] == shown, done.stdout
    bodies = [json.loads(body) for body, _ in answers]
    assert bodies[0]["outcome"] == "created" and bodies[1]["outcome"] == "already_submitted"
    view = next(b for b in bodies if "zone" in b)
    assert view["zone"] == "Asia/Yekaterinburg" and view["state"]["appeal"]["received_at"].endswith("+05:00")
    assert bodies[-1]["counts"]["created"] == 4
