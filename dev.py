#!/usr/bin/env python3
"""The two commands. Needs only Python >= 3.11; creates .venv and installs on first use.

python3 dev.py up      run the engine: PostgreSQL, Temporal dev server + UI, worker
python3 dev.py test    run the whole test suite (extra arguments go to pytest)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"


def _wanted() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    """Create .venv and install the project with its binaries, when pyproject changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file runs on any python3)
        sys.exit(f"Python >= 3.11 is needed, this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == _wanted():
        return
    if not PYTHON.exists():
        print("· creating .venv …", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("· installing dependencies (first run takes a minute) …", file=sys.stderr, flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[embedded,dev]"], check=True)
    STAMP.write_text(_wanted())


def ensure_browser() -> None:
    """The HTML report is checked in a real headless Chromium: Debian's package, installed once."""
    if shutil.which("chromium") or not shutil.which("apt-get"):
        return
    print("· installing Chromium for the report's browser check (once) …", file=sys.stderr, flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "env": os.environ | {"DEBIAN_FRONTEND": "noninteractive"}}
    subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)  # type: ignore[call-overload]
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, **quiet)  # type: ignore[call-overload]


def main() -> None:
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command not in ("up", "test"):
        sys.exit(__doc__)
    ensure_environment()
    os.chdir(ROOT)
    if command == "up":
        argv = [str(PYTHON), "-m", "stack.up", *rest]
    else:
        ensure_browser()
        argv = [str(PYTHON), "-m", "pytest", *rest]
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
