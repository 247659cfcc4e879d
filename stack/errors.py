"""Turn Temporal's nested failures into the one message a person needs."""

from __future__ import annotations

from temporalio.exceptions import FailureError


def reason(err: BaseException) -> str:
    """The innermost failure message: for a rejected Update, the validator's own words.

    A malformed action fails while decoding ("Failed decoding arguments"); the pydantic
    error that names the field is its cause, so the chain is walked to the end.
    """
    current: BaseException = err
    while isinstance(getattr(current, "cause", None), BaseException):
        current = current.cause  # type: ignore[attr-defined]
    if isinstance(current, FailureError):
        return current.message
    return str(current)
