"""The hostile-input case table: what goes in through which door, and what must come out.

Each case names its entry point, its class of hostility and what the issue demands of it:

- REFUSE: refused clearly: one line, naming the field or the reason, no traceback, exit code 2
  for our CLIs; nothing started, nothing half-stored; for a signal, a `signal_refused` entry in
  the appeal's timeline (and its appeal_events row).
- ACCEPT: accepted correctly: the appeal exists once as a workflow and a row with the content
  stored, or the action's event is stored with its content.
- EITHER: one of the two, judged by the same rules (e.g. a control character may be refused,
  or stripped where harmless and the rest stored).

Placeholders, replaced per case by the runner (tests/test_hostile_inputs.py):
  EXT            in payloads and raw JSON: the case's own unique external id
  {wf}           the target appeal (a fresh appeal, routed, after the case's `setup` Updates)
  {other}        another routed appeal (a real original for mark_duplicate)
  {file} {dir}   a file holding `file_content`, a directory
  {incident} {inc_category} {inc_address}   a unique incident id and the target appeal's place
  {soon}         a date 30 days ahead (a valid commitment)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

REFUSE, ACCEPT, EITHER = "refuse", "accept", "either"

EXT = "HXEXT"
DIRECTORY = b"<a directory>"  # file_content meaning "give a directory instead of a file"

NOW = datetime.now(UTC).replace(microsecond=0)
FRESH = (NOW - timedelta(minutes=10)).isoformat()
SOON = (NOW + timedelta(days=30)).date().isoformat()
ZW = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM

# Resubmission must be reported, not swallowed: words the report may use.
REPORTED = ("differ", "changed", "changes", "new content", "conflict")


@dataclass(frozen=True)
class Case:
    name: str
    entry: str  # library | library_construct | starter_cli | appealctl | temporal_cli | update | signal
    klass: str
    expect: str
    mentions: tuple[str, ...] = ()  # a refusal must name one of these (case-insensitive)
    # library, library_construct, temporal_cli: the appeal as sent (dict with EXT, or raw str/bytes)
    payload: Any = None
    # CLIs
    argv: tuple[str, ...] = ()
    stdin: bytes | None = None
    file_content: bytes | None = None
    batch: tuple[dict[str, Any], ...] = ()  # the appeals a batch file holds, to verify on acceptance
    # temporal CLI
    workflow_type: str = "AppealWorkflow"
    workflow_id: str = "appeal-vk-" + EXT
    extra_flags: tuple[str, ...] = ()
    # Updates and signals: `args` is a JSON value sent as-is, or `raw` exact JSON bytes
    setup: tuple[tuple[str, Any], ...] = ()
    action: str = ""
    args: Any = None
    raw: bytes | None = None
    accept_kind: str | None = None  # the event an accepted action or signal records
    accept_data: dict[str, Any] = field(default_factory=dict)  # ... with these data fields
    # An appeal submitted first (resubmission cases); `reported` demands the report of a change.
    original: dict[str, Any] | None = None
    reported: bool = False
    # appealctl incident open: the target appeal is at the incident's place; what it must show then
    target_place: bool = False
    linked_outcome: str | None = None  # "linked" or "refused"
    needs_target: bool = False  # appealctl: create {wf}
    needs_other: bool = False


def appeal(**overrides: Any) -> dict[str, Any]:
    """A valid appeal with the case's external id; an override of None drops the field."""
    fields: dict[str, Any] = {
        "channel": "vk",
        "external_id": EXT,
        "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
        "author": {"name": "Мария Иванова", "handle": "id123456", "contact": "+7 912 000-00-00"},
        "received_at": FRESH,
        "category": "snow_removal",
        "municipality": "Пермь",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def author(**overrides: Any) -> dict[str, Any]:
    fields = {"name": "Мария Иванова", "handle": "id123456"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def js(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()


def attach(url: str) -> list[dict[str, str]]:
    return [{"url": url, "kind": "photo"}]


# --- The starter library: parse_appeal + submit ---------------------------------------------


def _library() -> list[Case]:
    L, R, A, E = "library", REFUSE, ACCEPT, EITHER
    cases = [
        Case("valid appeal", L, "valid", A, payload=appeal()),
        Case("NUL in text", L, "NUL", E, ("text", "nul"), payload=appeal(text="Снег\x00не вывозят")),
        Case("NUL in author name", L, "NUL", E, ("name", "nul"), payload=appeal(author=author(name="Ма\x00рия"))),
        Case("NUL in municipality", L, "NUL", E, ("municipality", "nul"), payload=appeal(municipality="Пермь\x00")),
        Case("NUL in external_id", L, "NUL", R, ("external_id",), payload=appeal(external_id=EXT + "\x00")),
        Case("ANSI escape in text", L, "control", E, ("text", "control"), payload=appeal(text="Снег \x1b[31mкрасный")),
        Case("C0 controls in text", L, "control", E, ("text", "control"), payload=appeal(text="Снег\x01\x02\x07")),
        Case("DEL and C1 in text", L, "control", E, ("text", "control"), payload=appeal(text="Снег\x7f\x85\x9b")),
        Case(
            "CRLF injection in contact",
            L,
            "control",
            E,
            ("contact", "control"),
            payload=appeal(author=author(contact="+7 900\r\nBcc: all@example.org")),
        ),
        Case("bidi override in text", L, "control", E, ("text",), payload=appeal(text="Снег \u202eтеннис")),
        Case("zero-width-only text", L, "zero-width", R, ("text",), payload=appeal(text=ZW * 3)),
        Case("BOM and word joiner text", L, "zero-width", R, ("text",), payload=appeal(text="\ufeff\u2060")),
        Case(
            "zero-width-only author",
            L,
            "zero-width",
            R,
            ("author", "name"),
            payload=appeal(author={"name": "\u200b\u200b"}),
        ),
        Case("zero-width category", L, "zero-width", R, ("category",), payload=appeal(category="\u200b")),
        Case("whitespace-only text", L, "zero-width", R, ("text",), payload=appeal(text="   \n\t  ")),
        Case(
            "text with some zero-width",
            L,
            "zero-width",
            A,
            payload=appeal(text="Снег\u200b не вывозят\u200d во дворе"),
        ),
        Case("lone surrogate in text", L, "surrogate", E, ("text", "surrogate"), payload=appeal(text="Снег\ud800")),
        Case(
            "lone surrogate escape in JSON",
            L,
            "surrogate",
            E,
            ("text", "surrogate", "unicode", "json"),
            payload=json.dumps(appeal(text="Снег\udc00 двор")),
        ),
        Case("text at the limit (20000)", L, "long", A, payload=appeal(text="с" * 20_000)),
        Case("text over the limit (20001)", L, "long", R, ("text",), payload=appeal(text="с" * 20_001)),
        Case("text of a million", L, "long", R, ("text",), payload=appeal(text="с" * 1_000_000)),
        Case("external_id of 201", L, "long", R, ("external_id",), payload=appeal(external_id=EXT + "x" * 201)),
        Case("address of 501", L, "long", R, ("address",), payload=appeal(address="у" * 501)),
        Case("external_id with a space", L, "bad id", R, ("external_id",), payload=appeal(external_id=EXT + " 1")),
        Case(
            "external_id with path",
            L,
            "bad id",
            R,
            ("external_id",),
            payload=appeal(external_id="../" + EXT),
        ),
        Case("unknown channel", L, "wrong type", R, ("channel",), payload=appeal(channel="myspace")),
        Case("channel a number", L, "wrong type", R, ("channel",), payload=appeal(channel=5)),
        Case("text a number", L, "wrong type", R, ("text",), payload=appeal(text=12345)),
        Case("author a string", L, "wrong type", R, ("author",), payload=appeal(author="Мария")),
        Case("author empty", L, "missing", R, ("author",), payload=appeal(author={})),
        Case("priority unknown", L, "wrong type", R, ("priority",), payload=appeal(priority="urgent")),
        Case(
            "latitude 91",
            L,
            "wrong type",
            R,
            ("coordinates", "lat"),
            payload=appeal(coordinates={"lat": 91, "lon": 56}),
        ),
        Case(
            "latitude NaN",
            L,
            "wrong type",
            R,
            ("coordinates", "lat"),
            payload=appeal(coordinates={"lat": "NaN", "lon": 56}),
        ),
        Case("missing text", L, "missing", R, ("text",), payload=appeal(text=None)),
        Case("missing received_at", L, "missing", R, ("received_at",), payload=appeal(received_at=None)),
        Case("extra field", L, "extra", R, ("admin", "extra"), payload=appeal(admin=True)),
        Case("year 1", L, "date", R, ("received_at",), payload=appeal(received_at="0001-01-01T00:00:00Z")),
        Case(
            "year 1 with offset",
            L,
            "date",
            R,
            ("received_at",),
            payload=appeal(received_at="0001-01-01T00:00:00+05:00"),
        ),
        Case("year 1900", L, "date", R, ("received_at",), payload=appeal(received_at="1900-03-01T09:00:00+03:00")),
        Case("epoch 0", L, "date", R, ("received_at",), payload=appeal(received_at="1970-01-01T00:00:00Z")),
        Case("epoch 0 as a number", L, "date", R, ("received_at",), payload=appeal(received_at=0)),
        Case("timestamp 1e20", L, "date", R, ("received_at",), payload=appeal(received_at=10**20)),
        Case("1999-12-31 23:59:59", L, "date", R, ("received_at",), payload=appeal(received_at="1999-12-31T23:59:59Z")),
        Case("2000-01-01 00:00", L, "date", E, ("received_at",), payload=appeal(received_at="2000-01-01T00:00:00Z")),
        Case("year 2100", L, "date", R, ("received_at",), payload=appeal(received_at="2100-01-01T09:00:00+05:00")),
        Case(
            "year 9999 overflowing UTC",
            L,
            "date",
            R,
            ("received_at",),
            payload=appeal(received_at="9999-12-31T23:59:59-05:00"),
        ),
        Case(
            "two days ahead",
            L,
            "date",
            R,
            ("received_at", "future"),
            payload=appeal(received_at=(NOW + timedelta(days=2)).isoformat()),
        ),
        Case("naive datetime", L, "date", R, ("received_at",), payload=appeal(received_at="2026-11-29T09:00:00")),
        Case("date without time", L, "date", R, ("received_at",), payload=appeal(received_at="2026-11-29")),
        Case("received_at 'now'", L, "date", R, ("received_at",), payload=appeal(received_at="now")),
        Case("javascript: URL", L, "URL", R, ("url",), payload=appeal(attachments=attach("javascript:alert(1)"))),
        Case(
            "JaVaScRiPt: URL",
            L,
            "URL",
            R,
            ("url",),
            payload=appeal(attachments=attach("JaVaScRiPt:alert(document.cookie)")),
        ),
        Case(
            "javascript: behind a space",
            L,
            "URL",
            R,
            ("url",),
            payload=appeal(attachments=attach("  javascript:alert(1)")),
        ),
        Case(
            "data: URL",
            L,
            "URL",
            R,
            ("url",),
            payload=appeal(attachments=attach("data:text/html,<script>alert(1)</script>")),
        ),
        Case("file: URL", L, "URL", R, ("url",), payload=appeal(attachments=attach("file:///etc/passwd"))),
        Case("scheme-relative URL", L, "URL", R, ("url",), payload=appeal(attachments=attach("//evil.example/x"))),
        Case(
            "https attachment",
            L,
            "URL",
            A,
            payload=appeal(attachments=attach("https://vk.com/photo-1_456239017")),
        ),
        Case("JSON null", L, "wrong type", R, ("appeal", "input", "object", "dict", "valid"), payload="null"),
        Case("JSON array", L, "wrong type", R, ("appeal", "input", "object", "dict", "valid"), payload="[]"),
        Case("truncated JSON", L, "wrong type", R, ("json",), payload='{"channel": "vk", "text": '),
        Case(
            "invalid UTF-8 bytes",
            L,
            "invalid UTF-8",
            R,
            ("utf", "unicode", "json"),
            payload=b'{"channel": "vk", "text": "\xff\xfe"}',
        ),
        Case(
            "resubmitted, same content",
            L,
            "resubmission",
            A,
            payload=appeal(),
            original=appeal(),
        ),
        Case(
            "resubmitted, different content",
            L,
            "resubmission",
            A,
            payload=appeal(text="Снег так и не вывезли, теперь и лёд на тротуаре."),
            original=appeal(),
            reported=True,
        ),
    ]
    # An intake service that builds the model without validating it (model_construct): the
    # workflow must still refuse fast, or `submit` must.
    C = "library_construct"
    cases += [
        Case("unvalidated NUL text", C, "NUL", R, ("text", "nul"), payload=appeal(text="Снег\x00")),
        Case(
            "unvalidated year 1",
            C,
            "date",
            R,
            ("received_at",),
            payload=appeal(received_at=datetime(1, 1, 1, tzinfo=UTC)),
        ),
        Case("unvalidated zero-width text", C, "zero-width", R, ("text",), payload=appeal(text=ZW)),
        Case(
            "unvalidated javascript: URL",
            C,
            "URL",
            R,
            ("url",),
            payload=appeal(attachments=attach("javascript:alert(1)")),
        ),
    ]
    return cases


# --- The starter CLI --------------------------------------------------------------------------


def _starter_cli() -> list[Case]:
    S, R, A, E = "starter_cli", REFUSE, ACCEPT, EITHER

    def file(value: dict[str, Any]) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode()

    other = appeal(external_id=EXT + "-2", text="Яма на дороге у школы № 5, колесо пробито.")
    return [
        Case("submit a file", S, "valid", A, argv=("submit", "{file}"), file_content=file(appeal()), batch=(appeal(),)),
        Case("submit stdin", S, "valid", A, argv=("submit", "-"), stdin=file(appeal()), batch=(appeal(),)),
        Case(
            "NUL escaped in JSON",
            S,
            "NUL",
            E,
            ("text", "nul"),
            argv=("submit", "{file}"),
            file_content=file(appeal(text="Снег\x00")),
            batch=(appeal(text="Снег\x00"),),
        ),
        Case(
            "raw NUL byte in JSON",
            S,
            "NUL",
            R,
            ("json", "control", "text"),
            argv=("submit", "{file}"),
            file_content=file(appeal()).replace("Третий".encode(), b"\x00"),
        ),
        Case(
            "invalid UTF-8 file",
            S,
            "invalid UTF-8",
            R,
            ("utf-8", "utf8"),
            argv=("submit", "{file}"),
            file_content=b'{"channel": "vk", "text": "\xc3\x28 \xff"}',
        ),
        Case(
            "invalid UTF-8 on stdin",
            S,
            "invalid UTF-8",
            R,
            ("utf-8", "utf8"),
            argv=("submit", "-"),
            stdin=b'{"text": "\xfe\xfe"}',
        ),
        Case("a directory", S, "file", R, ("directory",), argv=("submit", "{dir}")),
        Case("an empty file", S, "file", R, ("empty", "json", "input"), argv=("submit", "{file}"), file_content=b""),
        Case(
            "a blank file",
            S,
            "file",
            R,
            ("empty", "json", "input"),
            argv=("submit", "{file}"),
            file_content=b"  \n\t\n",
        ),
        Case("no such file", S, "file", R, ("no such file",), argv=("submit", "{tmp}/missing.json")),
        Case(
            "a JSON array",
            S,
            "wrong type",
            R,
            ("object", "dict", "appeal", "valid"),
            argv=("submit", "{file}"),
            file_content=b"[1, 2]",
        ),
        Case(
            "trailing garbage",
            S,
            "wrong type",
            R,
            ("json", "trailing"),
            argv=("submit", "{file}"),
            file_content=file(appeal()) + b" xyz",
        ),
        Case(
            "missing text",
            S,
            "missing",
            R,
            ("text",),
            argv=("submit", "{file}"),
            file_content=file(appeal(text=None)),
        ),
        Case(
            "two missing fields",
            S,
            "missing",
            R,
            ("text", "author"),
            argv=("submit", "{file}"),
            file_content=file(appeal(text=None, author=None)),
        ),
        Case(
            "year 1900",
            S,
            "date",
            R,
            ("received_at",),
            argv=("submit", "{file}"),
            file_content=file(appeal(received_at="1900-01-01T00:00:00+03:00")),
        ),
        Case(
            "naive datetime",
            S,
            "date",
            R,
            ("received_at",),
            argv=("submit", "{file}"),
            file_content=file(appeal(received_at="2026-11-29 09:00")),
        ),
        Case(
            "javascript: URL",
            S,
            "URL",
            R,
            ("url",),
            argv=("submit", "-"),
            stdin=file(appeal(attachments=attach("javascript:alert(1)"))),
        ),
        Case(
            "zero-width text",
            S,
            "zero-width",
            R,
            ("text",),
            argv=("submit", "-"),
            stdin=file(appeal(text=ZW)),
        ),
        Case(
            "5 MB of text",
            S,
            "long",
            R,
            ("text",),
            argv=("submit", "{file}"),
            file_content=file(appeal(text="щ" * 2_500_000)),
        ),
        Case(
            "UTF-8 BOM before the JSON",
            S,
            "file",
            E,
            ("json", "bom"),
            argv=("submit", "{file}"),
            file_content=b"\xef\xbb\xbf" + file(appeal()),
            batch=(appeal(),),
        ),
        Case(
            "resubmitted, same content",
            S,
            "resubmission",
            A,
            argv=("submit", "-"),
            stdin=file(appeal()),
            batch=(appeal(),),
            original=appeal(),
        ),
        Case(
            "resubmitted, different content",
            S,
            "resubmission",
            A,
            argv=("submit", "-"),
            stdin=file(appeal(text="Теперь и лёд на тротуаре, никто не чистит.")),
            batch=(appeal(text="Теперь и лёд на тротуаре, никто не чистит."),),
            original=appeal(),
            reported=True,
        ),
        Case(
            "batch of two",
            S,
            "valid",
            A,
            argv=("batch", "{file}"),
            file_content=file(appeal()) + b"\n" + file(other) + b"\n",
            batch=(appeal(), other),
        ),
        Case(
            "batch with one bad line",
            S,
            "missing",
            R,
            ("line 2",),
            argv=("batch", "{file}"),
            file_content=file(appeal()) + b"\n" + file(appeal(external_id=EXT + "-2", text=None)) + b"\n",
            batch=(appeal(), appeal(external_id=EXT + "-2")),
        ),
        Case(
            "batch with two versions of one id",
            S,
            "resubmission",
            EITHER,
            ("line 2", "twice", "duplicate", *REPORTED),
            argv=("batch", "{file}"),
            file_content=file(appeal()) + b"\n" + file(appeal(text="Другая версия того же поста.")) + b"\n",
            batch=(appeal(), appeal(text="Другая версия того же поста.")),
            reported=True,
        ),
        Case(
            "batch with a JSON array line",
            S,
            "wrong type",
            R,
            ("line 1",),
            argv=("batch", "{file}"),
            file_content=b"[]\n",
        ),
        Case(
            "batch invalid UTF-8",
            S,
            "invalid UTF-8",
            R,
            ("utf-8", "utf8"),
            argv=("batch", "{file}"),
            file_content=file(appeal()) + b"\n\x80\x81\n",
        ),
        Case("batch a directory", S, "file", R, ("directory",), argv=("batch", "{dir}")),
        Case("batch an empty file", S, "file", E, ("empty", "no appeal"), argv=("batch", "{file}"), file_content=b""),
    ]


# --- appealctl --------------------------------------------------------------------------------


def _appealctl() -> list[Case]:
    P, R, A, E = "appealctl", REFUSE, ACCEPT, EITHER
    ack: dict[str, Any] = {"accept_kind": "acknowledged", "needs_target": True}
    cases = [
        Case(
            "act acknowledge",
            P,
            "valid",
            A,
            argv=("act", "{wf}", "acknowledge", "by=ivanov"),
            accept_data={"by": "ivanov"},
            **ack,
        ),
        Case("act acknowledge without by", P, "missing", R, ("by",), argv=("act", "{wf}", "acknowledge"), **ack),
        Case(
            "act acknowledge NUL by",
            P,
            "NUL",
            E,
            ("by", "nul"),
            argv=("act", "{wf}", "acknowledge", "--input", '{"by": "iva\\u0000nov"}'),
            accept_data={"by": "ivanov"},
            **ack,
        ),
        Case(
            "act acknowledge escape in by",
            P,
            "control",
            E,
            ("by", "control"),
            argv=("act", "{wf}", "acknowledge", "by=\x1b[2Jivanov"),
            accept_data={"by": "[2Jivanov"},
            **ack,
        ),
        Case(
            "act acknowledge zero-width by",
            P,
            "zero-width",
            R,
            ("by",),
            argv=("act", "{wf}", "acknowledge", "by=\u200b\u200b"),
            **ack,
        ),
        Case(
            "act acknowledge 600-char by",
            P,
            "long",
            R,
            ("by",),
            argv=("act", "{wf}", "acknowledge", "by=" + "я" * 600),
            **ack,
        ),
        Case(
            "act acknowledge twice",
            P,
            "twice",
            R,
            ("already acknowledged",),
            argv=("act", "{wf}", "acknowledge", "by=petrov"),
            setup=(("acknowledge", {"by": "ivanov"}),),
            **ack,
        ),
        Case(
            "act acknowledge extra field",
            P,
            "extra",
            R,
            ("extra", "evil"),
            argv=("act", "{wf}", "acknowledge", "by=ivanov", "evil=1"),
            **ack,
        ),
        Case(
            "act --input not JSON",
            P,
            "wrong type",
            R,
            ("json",),
            argv=("act", "{wf}", "acknowledge", "--input", "{by: ivanov"),
            **ack,
        ),
        Case(
            "act --input a JSON array",
            P,
            "wrong type",
            R,
            ("object", "dict", "valid", "input"),
            argv=("act", "{wf}", "acknowledge", "--input", "[1, 2]"),
            **ack,
        ),
        Case(
            "act unknown action",
            P,
            "bad id",
            R,
            ("unknown action",),
            argv=("act", "{wf}", "approve", "by=ivanov"),
            needs_target=True,
        ),
        Case(
            "act on a missing appeal",
            P,
            "bad id",
            R,
            ("not found", "no appeal", "does not exist", "not exist"),
            argv=("act", "appeal-vk-" + EXT + "-missing", "acknowledge", "by=ivanov"),
        ),
        Case(
            "act on an empty id",
            P,
            "bad id",
            R,
            ("workflow", "id", "appeal"),
            argv=("act", "", "acknowledge", "by=ivanov"),
        ),
        Case(
            "act on a closed appeal",
            P,
            "closed",
            R,
            ("closed", "completed", "clos"),
            argv=("act", "{wf}", "acknowledge", "by=ivanov"),
            setup=(("mark_not_appeal", {"by": "operator", "reason": "Реклама, не обращение."}), ("wait_closed", None)),
            **ack,
        ),
        Case(
            "act mark_duplicate of a missing original",
            P,
            "non-existent original",
            R,
            ("original",),
            argv=("act", "{wf}", "mark_duplicate", "by=operator", "original=appeal-vk-" + EXT + "-nope"),
            needs_target=True,
        ),
        Case(
            "act mark_duplicate original 'appeal-'",
            P,
            "bad id",
            R,
            ("original",),
            argv=("act", "{wf}", "mark_duplicate", "by=operator", "original=appeal-"),
            needs_target=True,
        ),
        Case(
            "act mark_duplicate of itself",
            P,
            "bad id",
            R,
            ("original", "itself"),
            argv=("act", "{wf}", "mark_duplicate", "by=operator", "original={wf}"),
            needs_target=True,
        ),
        Case(
            "act mark_duplicate of a real original",
            P,
            "valid",
            A,
            argv=("act", "{wf}", "mark_duplicate", "by=operator", "original={other}"),
            accept_kind="closed",
            needs_target=True,
            needs_other=True,
        ),
        Case(
            "act extend days=abc",
            P,
            "wrong type",
            R,
            ("days",),
            argv=("act", "{wf}", "extend", "by=ivanov", "days=abc", "reason=Нужен запрос в министерство."),
            needs_target=True,
        ),
        Case(
            "act white spot in 9999",
            P,
            "date",
            R,
            ("committed_date",),
            argv=(
                "act",
                "{wf}",
                "declare_white_spot",
                "by=ivanov",
                "committed_date=9999-12-31",
                "reason=Нужна новая норма закона.",
            ),
            needs_target=True,
        ),
        Case(
            "act white spot in year 1",
            P,
            "date",
            R,
            ("committed_date",),
            argv=(
                "act",
                "{wf}",
                "declare_white_spot",
                "by=ivanov",
                "committed_date=0001-01-01",
                "reason=Нужна новая норма закона.",
            ),
            needs_target=True,
        ),
        Case(
            "act white spot on 2026-02-30",
            P,
            "date",
            R,
            ("committed_date",),
            argv=(
                "act",
                "{wf}",
                "declare_white_spot",
                "by=ivanov",
                "committed_date=2026-02-30",
                "reason=Нужна новая норма закона.",
            ),
            needs_target=True,
        ),
        Case(
            "act answer with a javascript: attachment",
            P,
            "URL",
            R,
            ("url",),
            argv=(
                "act",
                "{wf}",
                "answer",
                "--input",
                json.dumps(
                    {
                        "by": "ivanov",
                        "text": "Снег вывезен 30 ноября, двор очищен.",
                        "attachments": attach("javascript:alert(1)"),
                    }
                ),
            ),
            needs_target=True,
        ),
        # Incidents
        Case(
            "incident open, commitment in 2031",
            P,
            "date",
            E,
            ("committed_date", "2031"),
            argv=(
                "incident",
                "open",
                "--id",
                "{incident}",
                "--title",
                "Нет отопления",
                "--category",
                "{inc_category}",
                "--address",
                "{inc_address}",
                "--committed-date",
                "2031-06-01",
                "--reason",
                "Замена теплотрассы целиком.",
            ),
            target_place=True,
            linked_outcome="refused",
            needs_target=True,
        ),
        Case(
            "incident open, commitment in the past",
            P,
            "date",
            E,
            ("committed_date", "2020"),
            argv=(
                "incident",
                "open",
                "--id",
                "{incident}",
                "--title",
                "Нет отопления",
                "--category",
                "{inc_category}",
                "--address",
                "{inc_address}",
                "--committed-date",
                "2020-01-15",
                "--reason",
                "Замена теплотрассы целиком.",
            ),
            target_place=True,
            linked_outcome="refused",
            needs_target=True,
        ),
        Case(
            "incident open, commitment in 9999",
            P,
            "date",
            R,
            ("committed_date", "committed-date"),
            argv=(
                "incident",
                "open",
                "--id",
                "{incident}",
                "--title",
                "Нет отопления",
                "--category",
                "heating",
                "--address",
                "Пермь, ул. Мира, 1",
                "--committed-date",
                "9999-12-31",
            ),
        ),
        Case(
            "incident open, commitment in year 1",
            P,
            "date",
            R,
            ("committed_date", "committed-date"),
            argv=(
                "incident",
                "open",
                "--id",
                "{incident}",
                "--title",
                "Нет отопления",
                "--category",
                "heating",
                "--address",
                "Пермь, ул. Мира, 1",
                "--committed-date",
                "0001-01-01",
            ),
        ),
        Case(
            "incident open, commitment not a date",
            P,
            "date",
            R,
            ("committed-date", "committed_date"),
            argv=(
                "incident",
                "open",
                "--id",
                "{incident}",
                "--title",
                "Яма",
                "--category",
                "roads",
                "--address",
                "Пермь",
                "--committed-date",
                "soon",
            ),
        ),
        Case(
            "incident open, bad id",
            P,
            "bad id",
            R,
            ("incident_id", "id"),
            argv=("incident", "open", "--id", "bad id!", "--title", "Яма", "--category", "roads", "--address", "Пермь"),
        ),
        Case(
            "incident open, zero-width title",
            P,
            "zero-width",
            R,
            ("title",),
            argv=(
                "incident",
                "open",
                "--id",
                "{incident}",
                "--title",
                "\u200b\u2060",
                "--category",
                "roads",
                "--address",
                "Пермь",
            ),
        ),
        Case(
            "incident open with a valid commitment",
            P,
            "valid",
            A,
            argv=(
                "incident",
                "open",
                "--id",
                "{incident}",
                "--title",
                "Нет отопления в доме",
                "--category",
                "{inc_category}",
                "--address",
                "{inc_address}",
                "--committed-date",
                "{soon}",
                "--reason",
                "Замена участка теплотрассы.",
            ),
            target_place=True,
            linked_outcome="linked",
            needs_target=True,
        ),
        Case(
            "incident link without appeal- prefix",
            P,
            "bad id",
            R,
            ("workflow_id", "appeal"),
            argv=("incident", "link", "{incident}", "vk-123"),
        ),
        Case(
            "incident link to a missing incident",
            P,
            "bad id",
            R,
            ("no incident", "not found"),
            argv=("incident", "link", "{incident}", "appeal-vk-" + EXT),
        ),
        Case(
            "incident show a missing incident",
            P,
            "bad id",
            R,
            ("no incident", "not found"),
            argv=("incident", "show", "{incident}"),
        ),
        # Reports
        Case(
            "report --from after --to",
            P,
            "range",
            R,
            ("from", "to"),
            argv=("report", "--from", "2026-12-01", "--to", "2026-11-01"),
        ),
        Case(
            "report from year 1 to 9999",
            P,
            "overflow",
            E,
            ("from", "to", "range", "year", "date"),
            argv=("report", "--from", "0001-01-01", "--to", "9999-12-31"),
        ),
        Case(
            "report on 2026-02-30",
            P,
            "date",
            R,
            ("from", "2026-02-30"),
            argv=("report", "--from", "2026-02-30", "--to", "2026-03-01"),
        ),
        Case("report for November", P, "valid", A, argv=("report", "--from", "2026-11-01", "--to", "2026-11-30")),
        Case(
            "report --csv into a directory",
            P,
            "file",
            R,
            ("directory", "csv"),
            argv=("report", "--from", "2026-11-01", "--to", "2026-11-30", "--csv", "{dir}"),
        ),
        # Deadlines
        Case(
            "deadline for a valid duration",
            P,
            "valid",
            A,
            argv=("deadline", "--start", "2026-12-30T17:00+05:00", "--duration", "8 working hours"),
        ),
        Case(
            "deadline 100 million days",
            P,
            "overflow",
            R,
            ("duration", "too", "range", "year"),
            argv=("deadline", "--start", "2026-12-30T17:00+05:00", "--duration", "100000000 calendar days"),
        ),
        Case(
            "deadline 1e308 days",
            P,
            "overflow",
            R,
            ("duration", "too", "range"),
            argv=("deadline", "--start", "2026-12-30T17:00+05:00", "--duration", "1e308 calendar days"),
        ),
        Case(
            "deadline from 9999-12-31",
            P,
            "overflow",
            R,
            ("start", "year", "range", "9999"),
            argv=("deadline", "--start", "9999-12-31T23:00+00:00", "--duration", "1 calendar day"),
        ),
        Case(
            "deadline from year 1",
            P,
            "date",
            E,
            ("start", "year", "range", "0001"),
            argv=("deadline", "--start", "0001-01-01T00:00+00:00", "--duration", "8 working hours"),
        ),
        Case(
            "deadline naive start",
            P,
            "date",
            R,
            ("offset", "start"),
            argv=("deadline", "--start", "2026-12-30T17:00", "--duration", "8 working hours"),
        ),
        Case(
            "deadline negative duration",
            P,
            "wrong type",
            R,
            ("duration", "-5"),
            argv=("deadline", "--start", "2026-12-30T17:00+05:00", "--duration", "-5 working hours"),
        ),
        Case(
            "deadline duration garbage",
            P,
            "wrong type",
            R,
            ("duration", "garbage"),
            argv=("deadline", "--start", "2026-12-30T17:00+05:00", "--duration", "garbage"),
        ),
        Case(
            "deadline unknown policy",
            P,
            "bad id",
            R,
            ("policy", "nope"),
            argv=("deadline", "--start", "2026-12-30T17:00+05:00", "--policy", "nope"),
        ),
        Case(
            "deadline unknown municipality",
            P,
            "bad id",
            E,
            ("municipality", "Атлантида"),
            argv=(
                "deadline",
                "--start",
                "2026-12-30T17:00+05:00",
                "--duration",
                "1 working day",
                "--municipality",
                "Атлантида",
            ),
        ),
        # Submission through appealctl
        Case(
            "submit invalid UTF-8",
            P,
            "invalid UTF-8",
            R,
            ("utf-8", "utf8"),
            argv=("submit", "{file}"),
            file_content=b"\xff\xff\xff",
        ),
        Case("submit a directory", P, "file", R, ("directory",), argv=("submit", "{dir}")),
    ]
    return cases


# --- Raw `temporal workflow start` with plain JSON --------------------------------------------


def _temporal_cli() -> list[Case]:
    T, R, A, E = "temporal_cli", REFUSE, ACCEPT, EITHER

    def raw(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    return [
        Case("valid start", T, "valid", A, payload=raw(appeal())),
        Case("missing text", T, "missing", R, ("text",), payload=raw(appeal(text=None))),
        Case("text a number", T, "wrong type", R, ("text",), payload=raw(appeal(text=5))),
        Case("year 1", T, "date", R, ("received_at",), payload=raw(appeal(received_at="0001-01-01T00:00:00Z"))),
        Case("year 1900", T, "date", R, ("received_at",), payload=raw(appeal(received_at="1900-01-01T00:00:00Z"))),
        Case("epoch 0", T, "date", R, ("received_at",), payload=raw(appeal(received_at="1970-01-01T00:00:00Z"))),
        Case("year 2100", T, "date", R, ("received_at",), payload=raw(appeal(received_at="2100-06-01T00:00:00Z"))),
        Case(
            "year 9999",
            T,
            "date",
            R,
            ("received_at",),
            payload=raw(appeal(received_at="9999-12-31T23:59:59+00:00")),
        ),
        Case(
            "two days ahead",
            T,
            "date",
            E,
            ("received_at",),
            payload=raw(appeal(received_at=(NOW + timedelta(days=2)).isoformat())),
        ),
        Case("naive datetime", T, "date", R, ("received_at",), payload=raw(appeal(received_at="2026-11-29T09:00:00"))),
        Case("NUL in text", T, "NUL", E, ("text", "nul"), payload=raw(appeal(text="Снег\x00"))),
        Case(
            "lone surrogate in text",
            T,
            "surrogate",
            E,
            ("text", "surrogate", "unicode", "json"),
            payload=json.dumps(appeal(text="Снег\ud800"), ensure_ascii=True),
        ),
        Case("zero-width text", T, "zero-width", R, ("text",), payload=raw(appeal(text=ZW))),
        Case("extra field", T, "extra", R, ("extra", "admin"), payload=raw(appeal(admin=True))),
        Case(
            "javascript: URL",
            T,
            "URL",
            R,
            ("url",),
            payload=raw(appeal(attachments=attach("javascript:alert(1)"))),
        ),
        Case("input null", T, "wrong type", R, ("appeal", "input", "valid", "object", "none"), payload="null"),
        Case("input an array", T, "wrong type", R, ("appeal", "input", "valid", "object", "list"), payload="[]"),
        Case("input {}", T, "missing", R, ("channel", "text", "field required", "missing"), payload="{}"),
        Case(
            "two inputs",
            T,
            "wrong type",
            R,
            ("argument", "input", "arg"),
            payload=raw(appeal()),
            extra_flags=("--input", '"second"'),
        ),
        Case(
            "workflow id not the appeal's",
            T,
            "bad id",
            R,
            ("workflow id",),
            payload=raw(appeal()),
            workflow_id="appeal-vk-" + EXT + "-other",
        ),
        Case(
            "unknown payload encoding",
            T,
            "wrong type",
            R,
            ("encoding", "payload", "decod", "convert"),
            payload=raw(appeal()),
            extra_flags=("--input-meta", "encoding=binary/x-unknown"),
        ),
        Case("not JSON at all", T, "wrong type", R, ("json", "input", "invalid"), payload="{channel: vk"),
        Case(
            "unknown workflow type",
            T,
            "bad id",
            R,
            ("NoSuchWorkflow", "type", "registered"),
            payload=raw(appeal()),
            workflow_type="NoSuchWorkflow",
        ),
        Case(
            "incident in 9999",
            T,
            "date",
            R,
            ("committed_date",),
            payload=raw(
                {
                    "incident_id": EXT,
                    "title": "Нет воды",
                    "category": "water",
                    "address": "Пермь, ул. Мира, 2",
                    "opened_by": "operator",
                    "committed_date": "9999-12-31",
                }
            ),
            workflow_type="IncidentWorkflow",
            workflow_id="incident-" + EXT,
        ),
        Case(
            "incident input {}",
            T,
            "missing",
            R,
            ("incident_id", "title", "missing", "required"),
            payload="{}",
            workflow_type="IncidentWorkflow",
            workflow_id="incident-" + EXT,
        ),
    ]


# --- Temporal Updates with raw arguments ------------------------------------------------------


def _updates() -> list[Case]:
    U, R, A, E = "update", REFUSE, ACCEPT, EITHER
    reason = "Нужен ответ министерства по смете."
    ack = "acknowledge"
    wsp = "declare_white_spot"

    def ws(day: str) -> dict[str, Any]:
        return {"by": "ivanov", "reason": reason, "committed_date": day}

    answer = {"by": "ivanov", "text": "Снег вывезен 30 ноября, двор очищен, фото приложено."}
    return [
        Case(
            "acknowledge",
            U,
            "valid",
            A,
            action=ack,
            args={"by": "ivanov"},
            accept_kind="acknowledged",
            accept_data={"by": "ivanov"},
        ),
        Case("acknowledge {}", U, "missing", R, ("by",), action=ack, args={}),
        Case("acknowledge by a number", U, "wrong type", R, ("by",), action=ack, args={"by": 5}),
        Case("acknowledge by a list", U, "wrong type", R, ("by",), action=ack, args={"by": ["a"]}),
        Case("acknowledge extra field", U, "extra", R, ("evil", "extra"), action=ack, args={"by": "x", "evil": 1}),
        Case(
            "acknowledge null",
            U,
            "wrong type",
            R,
            ("acknowledge", "input", "valid", "none", "object"),
            action=ack,
            args=None,
        ),
        Case(
            "acknowledge a bare string",
            U,
            "wrong type",
            R,
            ("acknowledge", "input", "valid", "object"),
            action=ack,
            args="ivanov",
        ),
        Case(
            "acknowledge NUL by",
            U,
            "NUL",
            E,
            ("by", "nul"),
            action=ack,
            args={"by": "iva\x00nov"},
            accept_kind="acknowledged",
            accept_data={"by": "ivanov"},
        ),
        Case(
            "acknowledge C1 control by",
            U,
            "control",
            E,
            ("by", "control"),
            action=ack,
            args={"by": "iva\x9bnov"},
            accept_kind="acknowledged",
            accept_data={"by": "ivanov"},
        ),
        Case("acknowledge zero-width by", U, "zero-width", R, ("by",), action=ack, args={"by": ZW}),
        Case(
            "acknowledge lone surrogate by",
            U,
            "surrogate",
            E,
            ("by", "surrogate", "json"),
            action=ack,
            raw=b'{"by": "iva\\ud800nov"}',
            accept_kind="acknowledged",
            accept_data={"by": "ivanov"},
        ),
        Case("acknowledge by of 10000", U, "long", R, ("by",), action=ack, args={"by": "я" * 10_000}),
        Case(
            "acknowledge note of 2001",
            U,
            "long",
            R,
            ("note",),
            action=ack,
            args={"by": "x", "note": "я" * 2001},
        ),
        Case(
            "acknowledge of 6 MB",
            U,
            "long",
            R,
            ("note", "larger than max", "too large", "size"),
            action=ack,
            args={"by": "x", "note": "я" * 3_000_000},
        ),
        Case(
            "acknowledge twice",
            U,
            "twice",
            R,
            ("already acknowledged",),
            action=ack,
            args={"by": "petrov"},
            setup=((ack, {"by": "ivanov"}),),
        ),
        Case(
            "acknowledge a closed appeal",
            U,
            "closed",
            R,
            ("closed", "completed", "clos"),
            action=ack,
            args={"by": "ivanov"},
            setup=(("mark_not_appeal", {"by": "operator", "reason": "Реклама, не обращение."}), ("wait_closed", None)),
        ),
        Case(
            "answer a closed appeal",
            U,
            "closed",
            R,
            ("clos", "completed"),
            action="answer",
            args=answer,
            setup=(("mark_duplicate", {"by": "operator", "original": "{other}"}), ("wait_closed", None)),
        ),
        Case("unknown update", U, "bad id", R, ("approve",), action="approve", args={"by": "ivanov"}),
        Case(
            "mark_duplicate of a missing original",
            U,
            "non-existent original",
            R,
            ("original",),
            action="mark_duplicate",
            args={"by": "operator", "original": "appeal-vk-" + EXT + "-nope"},
        ),
        Case(
            "mark_duplicate 'appeal-'",
            U,
            "bad id",
            R,
            ("original",),
            action="mark_duplicate",
            args={"by": "operator", "original": "appeal-"},
        ),
        Case(
            "mark_duplicate with spaces",
            U,
            "bad id",
            R,
            ("original",),
            action="mark_duplicate",
            args={"by": "operator", "original": "appeal-vk- 1 OR 1=1"},
        ),
        Case(
            "mark_duplicate of a real original",
            U,
            "valid",
            A,
            action="mark_duplicate",
            args={"by": "operator", "original": "{other}"},
            accept_kind="closed",
        ),
        Case("white spot in 9999", U, "date", R, ("committed_date",), action=wsp, args=ws("9999-12-31")),
        Case("white spot in year 1", U, "date", R, ("committed_date",), action=wsp, args=ws("0001-01-01")),
        Case("white spot in 2031", U, "date", R, ("committed_date",), action=wsp, args=ws("2031-06-01")),
        Case("white spot on 2026-02-30", U, "date", R, ("committed_date",), action=wsp, args=ws("2026-02-30")),
        Case(
            "white spot, zero-width reason",
            U,
            "zero-width",
            R,
            ("reason",),
            action=wsp,
            args={"by": "ivanov", "reason": ZW * 4, "committed_date": SOON},
        ),
        Case(
            "white spot, valid",
            U,
            "valid",
            A,
            action=wsp,
            args=ws(SOON),
            accept_kind="white_spot_declared",
            accept_data={"by": "ivanov", "committed_date": SOON},
        ),
        Case(
            "extend 10**30 days",
            U,
            "overflow",
            R,
            ("days",),
            action="extend",
            args={"by": "x", "days": 10**30, "reason": reason},
        ),
        Case(
            "extend -1 days",
            U,
            "wrong type",
            R,
            ("days",),
            action="extend",
            args={"by": "x", "days": -1, "reason": reason},
        ),
        Case(
            "answer with javascript: attachment",
            U,
            "URL",
            R,
            ("url",),
            action="answer",
            args={**answer, "attachments": attach("javascript:alert(1)")},
        ),
        Case(
            "answer with data: attachment",
            U,
            "URL",
            R,
            ("url",),
            action="answer",
            args={**answer, "attachments": attach("data:text/html;base64,PHNjcmlwdD4=")},
        ),
        Case(
            "answer with https attachment",
            U,
            "valid",
            A,
            action="answer",
            args={**answer, "attachments": attach("https://gorodperm.ru/photo/1.jpg")},
            accept_kind="answered",
            accept_data={"by": "ivanov", "attachments": 1},
        ),
        Case(
            "answer zero-width text",
            U,
            "zero-width",
            R,
            ("text", "empty"),
            action="answer",
            args={"by": "ivanov", "text": ZW},
        ),
        Case(
            "answer NUL text",
            U,
            "NUL",
            E,
            ("text", "nul"),
            action="answer",
            args={"by": "ivanov", "text": "Снег вывезен\x00 30 ноября."},
            accept_kind="answered",
            accept_data={"by": "ivanov"},
        ),
        Case("rate 6", U, "wrong type", R, ("score",), action="rate", args={"by": "citizen", "score": 6}),
        Case(
            "redirect to a NUL address",
            U,
            "NUL",
            E,
            ("address", "nul"),
            action="redirect",
            args={"by": "ivanov", "to": {"role": "executor", "address": "roads\x00@perm.ru"}, "reason": reason},
            accept_kind="redirected",
        ),
        Case(
            "moderate with nothing to moderate",
            U,
            "wrong type",
            R,
            ("moderation",),
            action="moderate",
            args={"by": "m", "accept": True},
        ),
        Case(
            "reclassify to zero-width",
            U,
            "zero-width",
            R,
            ("category",),
            action="reclassify",
            args={"by": "op", "category": "\u200b"},
        ),
        Case(
            "pause with control chars",
            U,
            "control",
            E,
            ("reason", "control"),
            action="pause",
            args={"by": "ivanov", "reason": "Ждём ответа\x1b[0m от жителя"},
            accept_kind="paused",
        ),
        Case(
            "ask_citizen with NUL",
            U,
            "NUL",
            E,
            ("question", "nul"),
            action="ask_citizen",
            args={"by": "ivanov", "question": "Уточните\x00 номер подъезда."},
            accept_kind="question_asked",
        ),
        Case("resume when not paused", U, "twice", R, ("not paused",), action="resume", args={"by": "ivanov"}),
        Case(
            "move a commitment never declared",
            U,
            "wrong type",
            R,
            ("commitment",),
            action="move_commitment",
            args={"by": "ivanov", "new_date": SOON, "reason": reason},
        ),
    ]


# --- Signals: malformed, forged, impossible dates ---------------------------------------------


def _signals() -> list[Case]:
    G, R, A, E = "signal", REFUSE, ACCEPT, EITHER
    reply = "citizen_replied"
    join = "join_incident"
    ask = (("ask_citizen", {"by": "ivanov", "question": "Уточните, пожалуйста, номер подъезда."}),)

    def joining(day: Any, **extra: Any) -> dict[str, Any]:
        return {"incident_id": "heat-" + EXT, "title": "Нет отопления", "committed_date": day, **extra}

    return [
        Case(
            "reply",
            G,
            "valid",
            A,
            action=reply,
            args={"text": "Подъезд 3."},
            accept_kind="citizen_message",
            accept_data={"text": "Подъезд 3."},
        ),
        Case(
            "reply with NUL",
            G,
            "NUL",
            E,
            ("text", "nul"),
            action=reply,
            args={"text": "Подъезд\x003"},
            accept_kind="citizen_message",
            accept_data={"text": "Подъезд3"},
        ),
        Case("reply {}", G, "missing", R, ("text",), action=reply, args={}),
        Case("reply text a number", G, "wrong type", R, ("text",), action=reply, args={"text": 5}),
        Case(
            "reply a bare string",
            G,
            "wrong type",
            R,
            ("citizenreply", "input", "valid", "object", "dict"),
            action=reply,
            args="Подъезд 3",
        ),
        Case(
            "reply null",
            G,
            "wrong type",
            R,
            ("citizenreply", "input", "valid", "object", "none"),
            action=reply,
            args=None,
        ),
        Case("reply zero-width", G, "zero-width", R, ("text",), action=reply, args={"text": ZW}),
        Case("reply of 30000", G, "long", R, ("text",), action=reply, args={"text": "я" * 30_000}),
        Case(
            "reply extra field",
            G,
            "extra",
            R,
            ("extra", "admin"),
            action=reply,
            args={"text": "Подъезд 3.", "admin": True},
        ),
        Case(
            "reply lone surrogate",
            G,
            "surrogate",
            E,
            ("text", "surrogate", "json"),
            action=reply,
            raw=b'{"text": "\\udfff"}',
            accept_kind="citizen_message",
        ),
        Case(
            "reply while waiting",
            G,
            "valid",
            A,
            action=reply,
            args={"text": "Подъезд 3, квартира 12."},
            setup=ask,
            accept_kind="resumed",
            accept_data={"text": "Подъезд 3, квартира 12."},
        ),
        Case(
            "reply with NUL while waiting",
            G,
            "NUL",
            E,
            ("text", "nul"),
            action=reply,
            args={"text": "Подъезд\x00 3"},
            setup=ask,
            accept_kind="resumed",
            accept_data={"text": "Подъезд 3"},
        ),
        Case(
            "join, commitment in 9999",
            G,
            "date",
            R,
            ("9999", "committed_date"),
            action=join,
            args=joining("9999-12-31"),
        ),
        Case(
            "join, commitment in year 1",
            G,
            "date",
            R,
            ("0001", "committed_date"),
            action=join,
            args=joining("0001-01-01"),
        ),
        Case("join, commitment in the past", G, "date", R, ("2020", "future"), action=join, args=joining("2020-01-15")),
        Case(
            "join, commitment in 2031",
            G,
            "date",
            R,
            ("2031", "ahead", "beyond"),
            action=join,
            args=joining("2031-06-01"),
        ),
        Case("join, commitment 'soon'", G, "wrong type", R, ("committed_date",), action=join, args=joining("soon")),
        Case(
            "join, incident id a number",
            G,
            "wrong type",
            R,
            ("incident_id",),
            action=join,
            args={"incident_id": 5, "title": "x"},
        ),
        Case("join {}", G, "missing", R, ("incident_id", "title"), action=join, args={}),
        Case(
            "join, NUL in title",
            G,
            "NUL",
            E,
            ("title", "nul"),
            action=join,
            args=joining(None, title="Нет\x00 отопления"),
            accept_kind="linked_to_incident",
        ),
        Case(
            "join, valid commitment",
            G,
            "valid",
            A,
            action=join,
            args=joining(SOON),
            accept_kind="linked_to_incident",
            accept_data={"committed_date": SOON},
        ),
        Case("incident answer {}", G, "missing", R, ("incident_id", "answer"), action="incident_answered", args={}),
        Case(
            "incident answer with NUL",
            G,
            "NUL",
            E,
            ("text", "nul"),
            action="incident_answered",
            args={"incident_id": "heat-" + EXT, "answer": {"by": "ivanov", "text": "Отопление\x00 дали."}},
            accept_kind="answered",
        ),
        Case(
            "incident answer with javascript:",
            G,
            "URL",
            R,
            ("url",),
            action="incident_answered",
            args={
                "incident_id": "heat-" + EXT,
                "answer": {"by": "ivanov", "text": "Отопление дали.", "attachments": attach("javascript:alert(1)")},
            },
        ),
        Case(
            "incident answer, zero-width text",
            G,
            "zero-width",
            R,
            ("text",),
            action="incident_answered",
            args={"incident_id": "heat-" + EXT, "answer": {"by": "ivanov", "text": ZW}},
        ),
        Case(
            "resubmitted with new content",
            G,
            "resubmission",
            A,
            action="resubmitted",
            args=appeal(text="Снег так и не вывезли, и теперь гололёд."),
            accept_kind="resubmitted",
            accept_data={"content": {"text": "Снег так и не вывезли, и теперь гололёд."}},
        ),
        Case("resubmitted {}", G, "missing", R, ("text", "channel"), action="resubmitted", args={}),
        Case(
            "resubmitted for another appeal",
            G,
            "bad id",
            R,
            ("appeal", "not this"),
            action="resubmitted",
            args=appeal(external_id=EXT + "-someone-else"),
        ),
        Case("unknown signal", G, "bad id", R, ("approve", "unknown", "signal"), action="approve", args={"by": "x"}),
    ]


CASES: list[Case] = _library() + _starter_cli() + _appealctl() + _temporal_cli() + _updates() + _signals()


def unique_names() -> bool:
    keys = [(c.entry, c.name) for c in CASES]
    return len(keys) == len(set(keys))


def today_utc() -> date:
    return NOW.date()
