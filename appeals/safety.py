"""What every input must be to be stored and shown: the rules, written once.

The models in `appeals.models` and `appeals.incidents` build their fields from the
types here, so the starter, the CLI, the workflow and any HTTP API refuse the same
inputs with the same words, naming the field. Nothing here reads the clock: the
workflow re-validates its inputs on every replay. `received_at_problem` takes `now`
as an argument for exactly that reason.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, AwareDatetime, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

# C0 controls except \t and \n (\r is normalised away first), DEL, C1 controls, and lone
# surrogates, which cannot be encoded to UTF-8. PostgreSQL refuses NUL in text and jsonb.
_CONTROL = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uD800-\uDFFF]")
NO_CONTROL_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
"""The same rule as a JSON Schema `pattern`, for intake services in other languages."""

# Characters that show nothing on their own: format characters (zero-width space and
# joiners, word joiner, BOM, soft hyphen, bidi controls), combining marks with no base,
# separators, and the blank letters that some fonts draw as nothing.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
_EARLIEST_INSTANT = datetime(EARLIEST.year, 1, 1, tzinfo=UTC)
_AFTER_LATEST_INSTANT = datetime(LATEST.year + 1, 1, 1, tzinfo=UTC)

RECEIVED_AT_MAX_AHEAD = timedelta(days=1)
"""How far a source's clock may run ahead of ours before received_at is a wrong timestamp."""

URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+(?:[/?#]\S*)?$"


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def storable(value: str) -> str:
    """Refuse what PostgreSQL, a terminal or a log line cannot take; \\r\\n and \\r become \\n."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    found = _CONTROL.search(value)
    if found is None:
        return value
    char, at = found.group(), found.start() + 1
    if char == "\x00":
        raise PydanticCustomError("nul_character", "contains a NUL character (at character {at})", {"at": at})
    if "\ud800" <= char <= "\udfff":
        raise PydanticCustomError(
            "unpaired_surrogate",
            "contains an unpaired surrogate {codepoint} (at character {at}), which is not valid Unicode",
            {"codepoint": _codepoint(char), "at": at},
        )
    raise PydanticCustomError(
        "control_character",
        "contains the control character {codepoint} (at character {at})",
        {"codepoint": _codepoint(char), "at": at},
    )


def is_visible(char: str) -> bool:
    return not (char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES)


def visible_count(value: str, enough: int | None = None) -> int:
    """How many characters of `value` show something (counting stops at `enough`)."""
    count = 0
    for char in value:
        if is_visible(char):
            count += 1
            if enough is not None and count >= enough:
                break
    return count


def has_visible(value: str | None) -> bool:
    return bool(value) and visible_count(value or "", 1) > 0


def visible(at_least: int = 1) -> AfterValidator:
    """A validator: the text must show at least `at_least` characters, not only blanks."""

    def check(value: str) -> str:
        if visible_count(value, at_least) >= at_least:
            return value
        if at_least == 1 or not has_visible(value):
            raise PydanticCustomError(
                "no_visible_text", "is empty: it has no visible characters (only spaces or invisible ones)"
            )
        raise PydanticCustomError(
            "too_few_visible_characters", "needs at least {at_least} visible characters", {"at_least": at_least}
        )

    return AfterValidator(check)


@dataclass(frozen=True)
class SchemaPattern:
    """Puts a `pattern` into the JSON Schema only; the validators above say it in words."""

    pattern: str

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        result = handler(schema)
        result["pattern"] = self.pattern
        return result


def one_line(value: str) -> str:
    """A name, a contact or a login is one line: a line break there smuggles a header into an
    e-mail or a forged entry into a log, so it is refused, not stripped."""
    for char, name in (("\n", "line break"), ("\t", "tab")):
        at = value.find(char)
        if at >= 0:
            raise PydanticCustomError(
                "not_one_line",
                "must be one line: it contains a {what} (at character {at})",
                {"what": name, "at": at + 1},
            )
    return value


STORABLE = AfterValidator(storable)
ONE_LINE = AfterValidator(one_line)
VISIBLE = visible()
NO_CONTROL = SchemaPattern(NO_CONTROL_PATTERN)
ONE_LINE_PATTERN = r"^[^\u0000-\u001F\u007F-\u009F]*$"
"""No control character at all, line breaks and tabs included, as a JSON Schema `pattern`."""

Line = Annotated[str, Field(min_length=1, max_length=500), STORABLE, ONE_LINE, VISIBLE, SchemaPattern(ONE_LINE_PATTERN)]
"""A required short text: a name, a login, a category, an address."""
Text = Annotated[str, Field(min_length=1, max_length=20_000), STORABLE, VISIBLE, NO_CONTROL]
"""A required long text: the appeal, an answer, the citizen's reply."""
Reason = Annotated[
    str,
    Field(min_length=10, max_length=2000, description="At least 10 visible characters"),
    STORABLE,
    visible(10),
    NO_CONTROL,
]
"""Why: at least 10 visible characters."""
Note = Annotated[str, Field(max_length=2000), STORABLE, NO_CONTROL]
"""An optional remark: storable, may be blank."""


def _date_in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise PydanticCustomError(
            "date_out_of_range",
            "{value} is outside {earliest}..{latest}",
            {"value": value.isoformat(), "earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )
    return value


def _instant_in_range(value: datetime) -> datetime:
    if not _EARLIEST_INSTANT <= value < _AFTER_LATEST_INSTANT:
        raise PydanticCustomError(
            "datetime_out_of_range",
            "{value} is outside {earliest}..{latest}",
            {"value": value.isoformat(), "earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )
    return value


SaneDate = Annotated[
    date,
    AfterValidator(_date_in_range),
    Field(description=f"A date from {EARLIEST.isoformat()} to {LATEST.isoformat()}"),
]
SaneInstant = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]
"""An instant with a UTC offset, from 2000-01-01 to the end of 2099 (UTC)."""


def received_at_problem(
    received_at: datetime, now: datetime, *, ahead: timedelta = RECEIVED_AT_MAX_AHEAD
) -> str | None:
    """What is wrong with `received_at` as of `now`, or None: the checks that need a clock.

    The starter calls it with the wall clock (and a stricter `ahead`); the workflow with
    `workflow.now()`, so that a replay gives the same answer.
    """
    if received_at < _EARLIEST_INSTANT or received_at >= _AFTER_LATEST_INSTANT:
        return f"received_at: {received_at.isoformat()} is outside {EARLIEST.isoformat()}..{LATEST.isoformat()}"
    if received_at > now + ahead:
        return f"received_at: {received_at.isoformat()} is in the future (now {now.isoformat()})"
    return None


def _url(value: str) -> str:
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise PydanticCustomError("url_invalid", "is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise PydanticCustomError("url_scheme", "must be an http:// or https:// link")
    if not host or any(c.isspace() for c in value):
        raise PydanticCustomError("url_invalid", "must be an http(s) link with a host and no spaces")
    if parts.username is not None or parts.password is not None:
        raise PydanticCustomError("url_credentials", "must not carry a user name or password")
    return value


Url = Annotated[str, Field(min_length=1, max_length=2000), STORABLE, AfterValidator(_url), SchemaPattern(URL_PATTERN)]
"""An attachment link: http or https with a host; javascript:, data:, file: and the like are refused."""


def pattern_checked(pattern: str, message: str) -> AfterValidator:
    """A validator for `pattern` (a full match) that says `message` instead of the regex."""
    compiled = re.compile(pattern.removeprefix("^").removesuffix("$"))

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise PydanticCustomError("pattern_mismatch", message)
        return value

    return AfterValidator(check)


class UndecodablePayload(ValueError):
    """A payload no converter can read (an unknown encoding, bytes that are not JSON): raised
    instead of the SDK's generic errors so that a workflow can fail at once on it."""
