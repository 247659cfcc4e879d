"""Turn validation errors and Temporal's nested failures into the one line a person needs."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError
from temporalio.exceptions import FailureError

MAX_PROBLEMS = 20  # a whole batch of bad lines still fits one readable line
# How pydantic prints a ValidationError: a header, then per error the field on one line,
# the message indented under it with `[type=...]`, and a link to the docs.
_PYDANTIC_HEADER = re.compile(r"^\d+ validation errors? for \S+$")
_PREFIXES = ("Value error, ", "Assertion failed, ")


def printable(text: str) -> str:
    """`text` with line breaks, tabs and other unprintable characters written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _unprefixed(message: str) -> str:
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return message


def field_problem(error: Any) -> str:
    """One pydantic error as `field.path: message` (no input value: it may be personal data)."""
    field = ".".join(printable(str(part)) for part in error.get("loc", ()))
    message = printable(_unprefixed(str(error.get("msg", "invalid"))))
    return f"{field}: {message}" if field else message


def problems(err: ValidationError) -> list[str]:
    return [field_problem(e) for e in err.errors(include_url=False, include_input=False)]


def join(items: list[str], limit: int = MAX_PROBLEMS) -> str:
    """Problems as one line: `a; b; c`, the rest counted when there are too many."""
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def describe(err: ValidationError) -> str:
    """A ValidationError as one line, e.g. `author.name: contains a NUL character; text: ...`."""
    return join(problems(err))


def one_line(message: str) -> str:
    """Any message as one line; a pydantic dump (header, field, message, link) becomes `field: message`."""
    lines = [line for line in message.splitlines() if line.strip()]
    if len(lines) > 1 and _PYDANTIC_HEADER.match(lines[0]):
        found, field = [], ""
        for line in lines[1:]:
            if line.lstrip().startswith("For further information visit"):
                continue
            if not line.startswith(" "):
                field = line.strip()
                continue
            # The bracket holds the input value, which may be personal data: never shown.
            text = _unprefixed(line.strip().split(" [type=", 1)[0])
            found.append(f"{field}: {text}" if field else text)
        if found:
            return printable(join(found))
    return printable("; ".join(line.strip() for line in lines))


def reason(err: BaseException) -> str:
    """The innermost failure message, on one line: for a rejected Update, the validator's own words.

    A malformed action fails while decoding ("Failed decoding arguments"); the pydantic
    error that names the field is its cause, so the chain is walked to the end.
    """
    current: BaseException = err
    while isinstance(getattr(current, "cause", None), BaseException):
        current = current.cause  # type: ignore[attr-defined]
    if isinstance(current, ValidationError):
        return describe(current)
    if isinstance(current, FailureError):
        return one_line(current.message)
    return one_line(str(current))


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line (exit code 2), not usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {printable(self.prog)}: {printable(message)} (see --help)\n")


def read_text(source: str, what: str = "input") -> str:
    """A UTF-8 file or `-` for stdin; every way it can fail is a one-line `ValueError`."""
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{printable(source)}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{printable(source)}: is a directory, not a file") from None
    except OSError as err:
        raise ValueError(f"{printable(source)}: cannot read it: {printable(err.strerror or str(err))}") from None
    return decode_utf8(data, "stdin" if source == "-" else source)


def decode_utf8(data: bytes, where: str) -> str:
    """`data` as text; a byte that is not UTF-8 is named with its line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        bad = data[err.start : err.start + 1].hex()
        raise ValueError(f"{printable(where)}: line {line}, column {column}: byte 0x{bad} is not UTF-8 text") from None


def check_arguments(values: dict[str, Any]) -> None:
    """Refuse command-line arguments that are not UTF-8 (Python keeps such bytes as lone surrogates)."""
    for name, value in values.items():
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str) and any("\ud800" <= c <= "\udfff" for c in text):
                raise ValueError(f"the argument {name} contains bytes that are not UTF-8: {printable(text)}")


def unexpected(err: BaseException) -> str:
    """The one line for an error nobody foresaw; APPEALS_DEBUG=1 raises it with its traceback instead."""
    if os.environ.get("APPEALS_DEBUG"):
        raise err
    return f"error: unexpected {type(err).__name__}: {one_line(str(err))} (APPEALS_DEBUG=1 shows the traceback)"
