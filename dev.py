#!/usr/bin/env python3
"""The two commands. Needs only Python >= 3.11; creates .venv and installs on first use.

python3 dev.py up      run the engine: PostgreSQL, Temporal dev server + UI, worker
python3 dev.py test    run the whole test suite (extra arguments go to pytest)

and, after editing dependencies in pyproject.toml:

python3 dev.py lock    re-pin requirements.lock and requirements-runtime.lock (keeps every pin that
                       still fits; `lock --upgrade-package NAME` or `lock --upgrade` moves pins)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"

# What `up` and `test` install: every pin, with its hashes, of the runtime dependencies, every
# extra (`embedded`, `dev`, …), the build backend and pip itself, for every platform and every
# Python the project supports (uv's universal resolution).
LOCK = ROOT / "requirements.lock"
# What the Docker image installs: the runtime dependencies and the build backend only, at the
# same versions as LOCK.
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
# The tool that writes both, pinned: the same uv resolves the same way.
UV = "uv==0.13.9"
INPUTS_LINE = "# inputs-sha256: "


def lock_inputs(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, Any]:
    """What the locks are resolved from: pyproject.toml's requirements, not its comments or tools."""
    import tomllib  # here, not at the top: on Python < 3.11 main() must get to say so

    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data["project"]
    return {
        "requires-python": project.get("requires-python", ""),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-system": data.get("build-system", {}).get("requires", []),
    }


def inputs_digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    canonical = json.dumps(lock_inputs(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def recorded_digest(lock_file: Path) -> str | None:
    """The inputs digest a lock file was made from, or None (no file, or not made by `dev.py lock`)."""
    if not lock_file.exists():
        return None
    for line in lock_file.read_text(encoding="utf-8").splitlines():
        if line.startswith(INPUTS_LINE):
            return line[len(INPUTS_LINE) :].strip()
        if line and not line.startswith("#"):
            break
    return None


def lock_is_current() -> bool:
    wanted = inputs_digest()
    return all(recorded_digest(path) == wanted for path in (LOCK, RUNTIME_LOCK))


def _check_python() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this file runs on any python3)
        sys.exit(f"Python >= 3.11 is needed, this is {sys.version.split()[0]}")


def _create_venv() -> None:
    if not PYTHON.exists():
        print("· creating .venv …", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)


def _pip() -> list[str]:
    return [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]


def _uv() -> str:
    """The pinned uv, installed into .venv on first use."""
    uv = VENV / "bin" / "uv"
    version = UV.partition("==")[2]
    if not uv.exists() or version not in subprocess.run([uv, "--version"], capture_output=True, text=True).stdout:
        print(f"· installing {UV} to write the lock files …", file=sys.stderr, flush=True)
        subprocess.run([*_pip(), UV], check=True)
    return str(uv)


def _stamp_inputs(lock_file: Path, digest: str, note: str) -> None:
    """Record what the file was resolved from, under uv's header."""
    lines = lock_file.read_text(encoding="utf-8").splitlines(keepends=True)
    header = 0
    while header < len(lines) and lines[header].startswith("#"):
        header += 1
    ours = [
        f"# {note}\n",
        "# Resolved for every platform and every Python >= requires-python (uv --universal), with the\n",
        "# hashes of every wheel and sdist of each pin. Do not edit: change pyproject.toml, then run\n",
        '# `python3 dev.py lock` (README, "Two commands").\n',
        f"{INPUTS_LINE}{digest}\n",
    ]
    lock_file.write_text("".join(lines[:header] + ours + lines[header:]), encoding="utf-8")


def lock(uv_args: list[str]) -> None:
    """Resolve pyproject.toml into requirements.lock and requirements-runtime.lock with uv."""
    _check_python()
    _create_venv()
    uv = _uv()
    inputs, digest = lock_inputs(), inputs_digest()  # before resolving: a later edit makes the lock stale
    oldest = re.search(r"\d+\.\d+", inputs["requires-python"])
    build: list[str] = inputs["build-system"]
    compile_ = [uv, "pip", "compile", "--quiet", "--universal", "--generate-hashes"]
    compile_ += ["--python-version", oldest.group() if oldest else "3.11"]
    compile_ += ["--custom-compile-command", "python3 dev.py lock"]
    print("· resolving pyproject.toml into the lock files …", file=sys.stderr, flush=True)
    # Every extra, the build backend (the project installs with --no-build-isolation) and pip.
    everything = "\n".join([*build, "pip"]) + "\n"
    full = [*compile_, "pyproject.toml", "-", "--all-extras", "-o", LOCK.name, *uv_args]
    subprocess.run(full, input=everything, text=True, cwd=ROOT, check=True)
    # The image's subset, held to the same versions.
    runtime = [*compile_, "pyproject.toml", "-", "-c", LOCK.name, "-o", RUNTIME_LOCK.name]
    subprocess.run(runtime, input="\n".join(build) + "\n", text=True, cwd=ROOT, check=True)
    _stamp_inputs(LOCK, digest, "For dev.py and CI: the runtime dependencies, every extra, the build backend and pip.")
    _stamp_inputs(RUNTIME_LOCK, digest, "For the Docker image: the runtime dependencies and the build backend.")
    print(f"· wrote {LOCK.name} and {RUNTIME_LOCK.name}: commit them with pyproject.toml", file=sys.stderr)


def _wanted() -> str:
    """The install stamp: the project's metadata and the exact pins."""
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", LOCK):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create .venv and install exactly requirements.lock plus the project, when either changed."""
    _check_python()
    if not lock_is_current():
        if os.environ.get("CI") or os.environ.get("APPEALS_LOCKED"):
            sys.exit(
                f"{LOCK.name} is out of date with pyproject.toml's dependencies: "
                "run `python3 dev.py lock` and commit the lock files with pyproject.toml"
            )
        print("· pyproject.toml's dependencies changed: re-pinning (python3 dev.py lock) …", file=sys.stderr)
        lock([])
    if STAMP.exists() and STAMP.read_text() == _wanted():
        return
    _create_venv()
    print("· installing dependencies from requirements.lock (first run takes a minute) …", file=sys.stderr, flush=True)
    subprocess.run([*_pip(), "--require-hashes", "-r", str(LOCK)], check=True)
    # The project itself: its dependencies are all in the lock, and so is its build backend.
    subprocess.run([*_pip(), "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
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
    if command == "lock":
        lock(rest)
        return
    if command not in ("up", "test"):
        sys.exit(__doc__)
    ensure_environment()
    os.chdir(ROOT)
    if command == "up":
        argv = [str(PYTHON), "-m", "devstack.up", *rest]
    else:
        ensure_browser()
        argv = [str(PYTHON), "-m", "pytest", *rest]
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
