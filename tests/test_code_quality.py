"""The conventions are enforced, not hoped for: ruff and mypy run with the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPED = [
    "appeals",
    "activities",
    "stack",
    "workflows",
    "worker.py",
    "starter.py",
    "appealctl.py",
    "codec_server.py",
    "api",
    "api_server.py",
    "devstack",
    "tools",
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean():
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    result = _run("mypy", *TYPED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_domain_package_does_no_io():
    """appeals/ is shared by the workflow sandbox: no database, no worker, no network."""
    forbidden = ("asyncpg", "aiohttp", "temporalio.worker", "temporalio.client", "structlog")
    for path in (ROOT / "appeals").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for module in forbidden:
            assert f"import {module}" not in source and f"from {module}" not in source, f"{path.name} imports {module}"
