"""Property: whatever the models accept, PostgreSQL stores and reads back unchanged.

Hypothesis feeds control characters (NUL, C0, DEL, C1), zero-width and other invisible
characters, lone surrogates and boundary dates through the models that every door shares
(AppealInput, every action, the citizen's reply). Each example ends in one of two ways:
- the model refuses with a ValidationError whose every error names a field of the model; or
- the model accepts, the value survives the JSON round trip that Temporal gives it, it keeps the
  promises of issue 8 (no NUL, control character or lone surrogate; required text visible; an
  instant from 2000 to 2099; a date from 2000 to 2099; http(s) links only), and the real
  `record_event` activity stores it on PostgreSQL so that it reads back equal.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as tally
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from temporalio.testing import ActivityEnvironment

from activities.storage import StorageActivities
from appeals.models import ACTIONS, AppealInput, AppealStatus, CitizenReply
from appeals.records import AppealEvent, Projection

NOW = datetime.now(UTC).replace(microsecond=0)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AFTER_LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# --- Characters and texts -----------------------------------------------------------------------

CONTROL = st.one_of(
    st.integers(0x00, 0x1F).map(chr),
    st.sampled_from(["\x00", "\x7f", "\x80", "\x85", "\x9b", "\x9f", "\r", "\r\n"]),
)
INVISIBLE = st.sampled_from(
    [
        "\u200b",  # zero-width space
        "\u200c",  # zero-width non-joiner
        "\u200d",  # zero-width joiner
        "\u2060",  # word joiner
        "\ufeff",  # BOM
        "\u00ad",  # soft hyphen
        "\u202e",  # right-to-left override
        "\u2028",  # line separator
        "\u3164",  # Hangul filler
        "\u0301",  # a combining mark with no base
        "\u00a0",  # no-break space
        " ",
        "\t",
        "\n",
    ]
)
SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
VISIBLE = st.characters(categories=["L", "N", "P", "S"])
HOSTILE_CHAR = st.one_of(VISIBLE, VISIBLE, CONTROL, INVISIBLE, SURROGATE)


def hostile_text(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    """Mostly short texts mixing visible and hostile characters, sometimes only hostile ones."""
    mixed = st.lists(HOSTILE_CHAR, min_size=min_size, max_size=max_size).map("".join)
    only_hostile = st.lists(st.one_of(CONTROL, INVISIBLE, SURROGATE), min_size=1, max_size=8).map("".join)
    plain = st.text(VISIBLE, min_size=max(min_size, 1), max_size=max_size)
    return st.one_of(mixed, only_hostile, plain)


REASONISH = st.one_of(hostile_text(0, 40), st.just("Нужен ответ министерства."), hostile_text(10, 40))
OPTIONAL = st.one_of(st.none(), hostile_text())

# --- Instants and dates -------------------------------------------------------------------------

ZONES: st.SearchStrategy[Any] = st.sampled_from(
    [UTC, timezone(timedelta(hours=5)), timezone(timedelta(hours=-14)), timezone(timedelta(hours=14)), None]
)
BOUNDARY_INSTANTS = st.sampled_from(
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, 3, tzinfo=timezone(timedelta(hours=5))),  # before year 1 in UTC
        datetime(1900, 3, 1, 9, tzinfo=timezone(timedelta(hours=3))),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2000, 1, 1, 4, 59, 59, tzinfo=timezone(timedelta(hours=5))),  # 1999 in UTC
        NOW,
        NOW + timedelta(days=1),
        NOW + timedelta(days=1, seconds=1),
        datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2100, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-14))),  # beyond 9999 in UTC
        datetime(2026, 11, 29, 9, 0),  # naive
    ]
)
INSTANTS = st.one_of(
    BOUNDARY_INSTANTS,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES),
)
# Sent as a datetime, as ISO text (what JSON carries) or as a number (a Unix timestamp).
RECEIVED_AT = st.one_of(
    INSTANTS,
    INSTANTS.map(lambda d: d.isoformat()),
    st.sampled_from([0, -1, 946684800, 4102444800, 10**11]),
)
DATES = st.one_of(
    st.sampled_from(
        [date(1, 1, 1), date(1999, 12, 31), date(2000, 1, 1), date(2099, 12, 31), date(2100, 1, 1), date(9999, 12, 31)]
    ),
    st.dates(),
    st.sampled_from(["2026-02-30", "0000-01-01", "soon"]),
)
URLS = st.one_of(
    st.sampled_from(
        [
            "https://vk.com/photo-1_456239017",
            "http://gorodperm.ru/a.jpg",
            "HTTPS://EXAMPLE.ORG/x",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "//evil.example/x",
            "https://user:secret@example.org/",
            "https://",
            "vbscript:msgbox",
        ]
    ),
    st.builds(lambda a, b: f"{a}://{b}", st.sampled_from(["http", "https", "ftp", "javascript"]), hostile_text(1, 12)),
)

# --- What "accepted" must mean ------------------------------------------------------------------


def _forbidden(char: str) -> bool:
    """NUL, C0 (but \\t and \\n), DEL, C1, lone surrogates."""
    return (unicodedata.category(char) in ("Cc", "Cs")) and char not in "\t\n"


def _visible(text: str) -> bool:
    return any(
        not c.isspace()
        and unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me")
        and c not in "\u115f\u1160\u2800\u3164\uffa0"
        for c in text
    )


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return []


REQUIRED_TEXT = {"text", "by", "reason", "question", "original", "to.role", "to.address", "category", "municipality"}


def assert_keeps_the_promises(model: BaseModel) -> None:
    """What the issue promises of anything the door lets in."""
    dumped = model.model_dump(mode="python")
    for path, text in _strings(dumped):
        bad = [f"U+{ord(c):04X}" for c in text if _forbidden(c)]
        assert not bad, f"{type(model).__name__}.{path} accepted with {bad}: {text!r}"
        if path in REQUIRED_TEXT or path.startswith("author.") or path.startswith("reasons["):
            assert _visible(text), f"{type(model).__name__}.{path} accepted with no visible character: {text!r}"
        if path.endswith(".url") or path == "url":
            assert text.lower().startswith(("http://", "https://")), f"{path}: accepted the link {text!r}"
    for name, value in dumped.items():
        if isinstance(value, datetime):
            assert value.tzinfo is not None, f"{name}: a naive instant was accepted"
            assert EARLIEST <= value < AFTER_LATEST, f"{name}: accepted the instant {value.isoformat()}"
        elif isinstance(value, date):
            assert date(2000, 1, 1) <= value <= date(2099, 12, 31), f"{name}: accepted the date {value.isoformat()}"


def assert_refusal_names_fields(err: ValidationError, model: type[BaseModel]) -> None:
    """Every error names a field: by its location, or (a check across fields) in its message."""
    for error in err.errors():
        if error["loc"]:
            assert error["loc"][0] in model.model_fields, f"{model.__name__}: refused an unknown field {error['loc']}"
        else:
            named = [f for f in model.model_fields if f in error["msg"]]
            assert named, f"{model.__name__}: a refusal names no field: {error['msg']}"


def round_trip(model: BaseModel) -> None:
    """What Temporal does to every input: JSON out, validated back in, the same model."""
    again = type(model).model_validate_json(model.model_dump_json())
    assert again == model, f"{type(model).__name__} changes on the JSON round trip: {model!r} → {again!r}"


# --- Storage ------------------------------------------------------------------------------------


async def store(pool: asyncpg.Pool, event: AppealEvent) -> None:
    written = await ActivityEnvironment().run(StorageActivities(pool).record_event, event)
    assert written is True, f"event {event.seq} of {event.workflow_id} was not written"


async def read_back_event(pool: asyncpg.Pool, event: AppealEvent) -> None:
    row = await pool.fetchrow(
        "SELECT kind, occurred_at, summary, data FROM appeal_events WHERE workflow_id = $1 AND seq = $2",
        event.workflow_id,
        event.seq,
    )
    assert row is not None
    assert (row["kind"], row["occurred_at"], row["summary"]) == (event.kind, event.at, event.summary)
    assert row["data"] == event.model_dump(mode="json")["data"]


def registration(appeal: AppealInput) -> AppealEvent:
    """As the workflow's `register` step builds it."""
    return AppealEvent(
        workflow_id=appeal.workflow_id,
        seq=1,
        kind="registered",
        at=NOW,
        summary=f"registered from {appeal.channel}",
        data={},
        projection=Projection(
            status=AppealStatus.registered, category=appeal.category, municipality=appeal.municipality
        ),
        appeal=appeal,
    )


@pytest.fixture(scope="module")
def anchor() -> AppealInput:
    return AppealInput.model_validate(
        {
            "channel": "website",
            "external_id": f"prop-{uuid.uuid4().hex}",
            "text": "Обращение, к которому пишутся события свойства.",
            "author": {"name": "Проверка"},
            "received_at": (NOW - timedelta(hours=1)).isoformat(),
        }
    )


# --- The properties -----------------------------------------------------------------------------


PLAIN_APPEAL: dict[str, Any] = {
    "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
    "name": "Мария Иванова",
    "handle": "id123456",
    "contact": "+7 912 000-00-00",
    "category": "snow_removal",
    "municipality": "Пермь",
    "address": "Пермь, ул. Ленина, 50",
    "received_at": (NOW - timedelta(hours=2)).isoformat(),
    "url": "https://vk.com/photo-1_456239017",
}
HOSTILE_APPEAL: dict[str, st.SearchStrategy[Any]] = {
    "text": st.one_of(hostile_text(), st.just("x" * 20_000), st.just("x" * 20_001)),
    "name": OPTIONAL,
    "handle": OPTIONAL,
    "contact": OPTIONAL,
    "category": OPTIONAL,
    "municipality": OPTIONAL,
    "address": OPTIONAL,
    "received_at": RECEIVED_AT,
    "url": URLS,
}


@st.composite
def appeal_fields(draw: st.DrawFn) -> dict[str, Any]:
    """A valid appeal with one to three of its fields made hostile."""
    victims = draw(st.sets(st.sampled_from(sorted(HOSTILE_APPEAL)), min_size=1, max_size=3))
    chosen = {k: draw(HOSTILE_APPEAL[k]) if k in victims else v for k, v in PLAIN_APPEAL.items()}
    author = {k: chosen[k] for k in ("name", "handle", "contact") if chosen[k] is not None}
    return {
        "channel": "vk",
        "external_id": f"prop-{uuid.uuid4().hex}",
        "text": chosen["text"],
        "author": author,
        "received_at": chosen["received_at"],
        "category": chosen["category"],
        "municipality": chosen["municipality"],
        "address": chosen["address"],
        "attachments": [{"url": chosen["url"]}],
    }


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(fields=appeal_fields())
async def test_an_appeal_is_refused_naming_the_field_or_stored_as_it_reads(
    pool: asyncpg.Pool, fields: dict[str, Any]
) -> None:
    try:
        appeal = AppealInput.model_validate(fields)
    except ValidationError as err:
        assert_refusal_names_fields(err, AppealInput)
        tally(f"refused: {err.errors()[0]['type']}")
        return
    tally("accepted and stored")
    assert_keeps_the_promises(appeal)
    round_trip(appeal)
    stored = registration(appeal)
    await store(pool, stored)
    row = await pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", appeal.workflow_id)
    assert row is not None
    assert row["text"] == appeal.text
    assert row["author"] == appeal.author.model_dump(mode="json", exclude_none=True)
    assert row["received_at"] == appeal.received_at
    assert (row["category"], row["municipality"], row["address"]) == (
        appeal.category,
        appeal.municipality,
        appeal.address,
    )
    await read_back_event(pool, stored)


def _action_fields(name: str, s: list[str | None], day: Any, url: str) -> dict[str, Any]:
    by, first, second = s
    reason = first
    fields: dict[str, dict[str, Any]] = {
        "acknowledge": {"by": by, "note": second},
        "answer": {
            "by": by,
            "text": first,
            "kind": "not_competent",
            "responsible": second,
            "attachments": [{"url": url, "name": second}],
        },
        "interim_answer": {"by": by, "text": first},
        "declare_white_spot": {"by": by, "reason": reason, "committed_date": day},
        "move_commitment": {"by": by, "reason": reason, "new_date": day},
        "extend": {"by": by, "days": 10, "reason": reason},
        "pause": {"by": by, "reason": reason},
        "resume": {"by": by, "note": second},
        "refute": {"by": by, "reason": reason},
        "rate": {"by": by, "score": 4, "comment": second},
        "repin_policy": {"by": by},
        "reclassify": {"by": by, "category": first, "municipality": second},
        "redirect": {"by": by, "to": {"role": "executor", "address": first}, "reason": second},
        "moderate": {"by": by, "accept": False, "reasons": [first]},
        "ask_citizen": {"by": by, "question": reason},
        "mark_not_appeal": {"by": by, "reason": reason},
        "mark_duplicate": {"by": by, "original": f"appeal-vk-{first}"},
        "citizen_replied": {"text": first},
    }
    return fields[name]


MODELS: dict[str, type[BaseModel]] = {**ACTIONS, "citizen_replied": CitizenReply}
_seq = iter(range(2, 10**9))


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(MODELS)),
    texts=st.lists(
        st.one_of(st.sampled_from(["ivanov", "Нужен ответ министерства по смете.", None]), REASONISH),
        min_size=3,
        max_size=3,
    ),
    day=st.one_of(st.just(NOW.date() + timedelta(days=30)), DATES),
    url=st.one_of(st.just("https://gorodperm.ru/photo/1.jpg"), URLS),
)
async def test_an_action_is_refused_naming_the_field_or_its_event_reads_back_equal(
    pool: asyncpg.Pool, anchor: AppealInput, name: str, texts: list[str | None], day: Any, url: str
) -> None:
    model = MODELS[name]
    fields = {k: v for k, v in _action_fields(name, texts, day, url).items() if v is not None}
    try:
        action = model.model_validate(fields)
    except ValidationError as err:
        assert_refusal_names_fields(err, model)
        tally(f"refused: {err.errors()[0]['type']}")
        return
    tally(f"accepted and stored: {name}")
    assert_keeps_the_promises(action)
    round_trip(action)
    if await pool.fetchval("SELECT count(*) FROM appeals WHERE workflow_id = $1", anchor.workflow_id) == 0:
        await store(pool, registration(anchor))
    data = action.model_dump(mode="json")  # what the workflow records of an action, and more
    by = data.get("by", "the citizen")
    details = " — ".join(str(v) for k, v in data.items() if isinstance(v, str) and k != "by")
    event = AppealEvent(
        workflow_id=anchor.workflow_id,
        seq=next(_seq),
        kind=f"{name}_done",
        at=NOW,
        summary=f"{name} by {by}: {details}",
        data=data,
        projection=Projection(status=AppealStatus.in_progress),
    )
    await store(pool, event)
    await read_back_event(pool, event)
