"""Process exit for command-line entry points."""

from __future__ import annotations

import os
import sys


def exit_now(code: int) -> None:
    """Flush and exit without interpreter teardown.

    The Temporal SDK's Rust runtime threads can abort CPython's finalization
    ("PyGILState_Release ... must be current", temporalio/sdk-python#300), which
    would turn a clean exit into SIGABRT. Everything the program owns is already
    closed when this is called.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
