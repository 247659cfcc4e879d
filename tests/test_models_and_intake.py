"""Intake validation, workflow ids, batches and the exported JSON Schemas (pure, no I/O but tmp files)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from appeals.models import (
    EXTERNAL_ID_PATTERN,
    Acknowledge,
    AppealInput,
    Channel,
    SubmitAnswer,
    appeal_workflow_id,
)
from starter import InvalidAppeal, parse_appeal, parse_batch, write_schemas

REPO_ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid appeal as an intake service would send it; overrides replace or (None) drop fields."""
    fields: dict[str, Any] = {
        "channel": "vk",
        "external_id": "wall-123456_789",
        "text": "Третий день не вывозят снег во дворе дома на ул. Ленина, 50.",
        "author": {"name": "Мария Иванова", "handle": "id123456"},
        "received_at": "2026-11-29T09:00:00+05:00",
        "category": "snow_removal",
        "municipality": "Пермь",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def problems_of(data: dict[str, Any] | str, *, now: datetime = NOW) -> list[str]:
    with pytest.raises(InvalidAppeal) as refused:
        parse_appeal(data, now=now)
    return refused.value.problems


# --- parse_appeal --------------------------------------------------------------------------


def test_a_valid_appeal_parses_and_keeps_its_fields() -> None:
    appeal = parse_appeal(payload(), now=NOW)

    assert appeal.channel is Channel.vk
    assert appeal.external_id == "wall-123456_789"
    assert appeal.received_at == datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    assert appeal.author.handle == "id123456"
    assert appeal.priority == "normal"


def test_json_text_and_bytes_parse_like_a_dict() -> None:
    as_text = json.dumps(payload(), ensure_ascii=False)

    assert parse_appeal(as_text, now=NOW) == parse_appeal(payload(), now=NOW)
    assert parse_appeal(as_text.encode(), now=NOW) == parse_appeal(payload(), now=NOW)


@pytest.mark.parametrize(
    ("overrides", "field", "hint"),
    [
        ({"channel": "myspace"}, "channel", "'vk'"),
        ({"external_id": "post 42"}, "external_id", "pattern"),
        ({"external_id": "-leading-dash"}, "external_id", "pattern"),
        ({"external_id": "x" * 201}, "external_id", "pattern"),
        ({"text": ""}, "text", "at least 1 character"),
        ({"text": "   \n\t "}, "text", "at least 1 character"),
        ({"author": {}}, "author", "at least one of name, handle or contact"),
        ({"author": {"name": " "}}, "author.name", "at least 1 character"),
        ({"received_at": "2026-11-29T09:00:00"}, "received_at", "timezone"),
        ({"received_at": "yesterday"}, "received_at", "datetime"),
        ({"coordinates": {"lat": 91, "lon": 56}}, "coordinates.lat", "less than or equal to 90"),
        ({"priority": "urgent"}, "priority", "'high'"),
        ({"likes": 10}, "likes", "Extra inputs are not permitted"),
    ],
)
def test_each_bad_field_is_named(overrides: dict[str, Any], field: str, hint: str) -> None:
    problems = problems_of(payload(**overrides))

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{field}: "), problems
    assert hint in problems[0]


def test_missing_required_fields_are_all_named() -> None:
    problems = problems_of({"channel": "vk"})

    named = sorted(p.split(":", 1)[0] for p in problems)
    assert named == ["author", "external_id", "received_at", "text"]
    assert all("Field required" in p for p in problems)


def test_several_bad_fields_are_reported_together() -> None:
    problems = problems_of(payload(channel="fax", text="", surprise=True))

    assert {p.split(":", 1)[0] for p in problems} == {"channel", "text", "surprise"}


def test_the_error_message_lists_every_problem_on_one_line() -> None:
    with pytest.raises(InvalidAppeal) as refused:
        parse_appeal(payload(channel="fax", text=""), now=NOW)

    message = str(refused.value)
    assert message.startswith("appeal refused: channel: ")
    assert "; text: " in message
    assert "\n" not in message and "errors.pydantic.dev" not in message


def test_broken_json_is_refused_with_a_problem() -> None:
    problems = problems_of('{"channel": "vk",')

    assert len(problems) == 1
    assert "JSON" in problems[0]


def test_received_at_far_in_the_future_is_refused() -> None:
    tomorrow = (NOW + timedelta(days=1)).isoformat()

    problems = problems_of(payload(received_at=tomorrow))

    assert len(problems) == 1
    assert problems[0].startswith("received_at: ")
    assert "in the future" in problems[0]


def test_received_at_just_past_the_allowed_clock_skew_is_refused() -> None:
    problems = problems_of(payload(received_at=(NOW + timedelta(minutes=5, seconds=1)).isoformat()))

    assert problems[0].startswith("received_at: ")


@pytest.mark.parametrize("ahead", [timedelta(minutes=1), timedelta(minutes=5), timedelta(0)])
def test_a_source_clock_slightly_ahead_is_tolerated(ahead: timedelta) -> None:
    received = NOW + ahead

    appeal = parse_appeal(payload(received_at=received.isoformat()), now=NOW)

    assert appeal.received_at == received


def test_the_future_check_compares_instants_not_wall_clocks() -> None:
    # 14:30 in Perm (UTC+5) is 09:30 UTC: in the past relative to 10:00 UTC.
    appeal = parse_appeal(payload(received_at="2026-11-29T14:30:00+05:00"), now=NOW)

    assert appeal.received_at < NOW


def test_the_model_itself_does_not_depend_on_the_clock() -> None:
    # Workflows re-validate inputs on replay, so the future check lives in intake only.
    far_future = payload(received_at="2099-01-01T00:00:00+00:00")

    assert AppealInput.model_validate(far_future).received_at.year == 2099


# --- workflow ids ----------------------------------------------------------------------------


def test_workflow_id_is_derived_from_channel_and_external_id() -> None:
    appeal = parse_appeal(payload(channel="pos", external_id="2026/11-0042"), now=NOW)

    assert appeal.workflow_id == "appeal-pos-2026/11-0042"


def test_resending_the_same_post_gives_the_same_workflow_id() -> None:
    first = parse_appeal(payload(text="первый текст"), now=NOW)
    second = parse_appeal(payload(text="исправленный текст", author={"contact": "a@b.ru"}), now=NOW)

    assert first.workflow_id == second.workflow_id


def test_same_external_id_in_two_channels_gives_two_workflows() -> None:
    in_vk = parse_appeal(payload(channel="vk"), now=NOW)
    in_ok = parse_appeal(payload(channel="ok"), now=NOW)

    assert in_vk.workflow_id != in_ok.workflow_id


def test_appeal_workflow_id_refuses_a_bad_external_id() -> None:
    with pytest.raises(ValueError, match="does not match"):
        appeal_workflow_id("vk", "has space")
    with pytest.raises(ValueError):
        appeal_workflow_id("myspace", "post-1")


def test_appeal_workflow_id_refuses_a_trailing_newline() -> None:
    with pytest.raises(ValueError):
        appeal_workflow_id("vk", "post-1\n")


external_ids = st.from_regex(EXTERNAL_ID_PATTERN, fullmatch=True)


@given(channel=st.sampled_from(list(Channel)), external_id=external_ids)
def test_any_valid_external_id_round_trips_into_the_workflow_id(channel: Channel, external_id: str) -> None:
    appeal = AppealInput.model_validate(payload(channel=channel.value, external_id=external_id))

    assert appeal.external_id == external_id
    assert appeal.workflow_id == f"appeal-{channel.value}-{external_id}"
    assert appeal.workflow_id.startswith(f"appeal-{channel.value}-")
    assert appeal.workflow_id.removeprefix(f"appeal-{channel.value}-") == external_id


# Unicode White_Space, the set pydantic's str_strip_whitespace trims.
UNICODE_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@given(text=st.text(alphabet=UNICODE_WHITESPACE, max_size=50))
def test_an_answer_of_only_whitespace_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SubmitAnswer(by="ivanov", text=text)

    assert refused.value.errors()[0]["loc"] == ("text",)


@given(
    padding=st.text(alphabet=" \t\n", max_size=5),
    words=st.text(st.characters(categories=("L", "N")), min_size=1, max_size=40),
)
def test_an_answer_with_substance_is_kept_without_the_padding(padding: str, words: str) -> None:
    answer = SubmitAnswer(by="ivanov", text=f"{padding}{words}{padding}")

    assert answer.text == words


def test_an_acknowledgment_needs_who_acknowledged() -> None:
    with pytest.raises(ValidationError):
        Acknowledge(by="  ")
    assert Acknowledge(by="petrova").by == "petrova"


# --- batches ---------------------------------------------------------------------------------


def test_a_batch_with_one_bad_line_is_refused_whole_naming_the_line() -> None:
    lines = [
        json.dumps(payload(external_id="a-1")),
        json.dumps(payload(external_id="a-2", channel="fax")),
        json.dumps(payload(external_id="a-3")),
    ]

    with pytest.raises(InvalidAppeal) as refused:
        parse_batch(lines, now=NOW)

    problems = refused.value.problems
    assert len(problems) == 1
    assert problems[0].startswith("line 2: channel: ")
    assert str(refused.value).startswith("batch refused:")


def test_a_batch_names_every_bad_line_and_keeps_file_line_numbers() -> None:
    lines = [
        json.dumps(payload(external_id="b-1")),
        "",
        json.dumps(payload(external_id="b 3")),
        "not json",
        json.dumps(payload(external_id="b-5", received_at=(NOW + timedelta(days=2)).isoformat())),
    ]

    with pytest.raises(InvalidAppeal) as refused:
        parse_batch(lines, now=NOW)

    lines_named = [p.split(":", 1)[0] for p in refused.value.problems]
    assert lines_named == ["line 3", "line 4", "line 5"]
    assert refused.value.problems[0].startswith("line 3: external_id: ")
    assert refused.value.problems[2].startswith("line 5: received_at: ")


def test_a_batch_skips_blank_lines() -> None:
    lines = [
        "",
        json.dumps(payload(external_id="c-1")),
        "   ",
        "\t",
        json.dumps(payload(external_id="c-2")),
        "",
    ]

    appeals = parse_batch(lines, now=NOW)

    assert [a.external_id for a in appeals] == ["c-1", "c-2"]


def test_the_shipped_example_batch_parses() -> None:
    lines = (REPO_ROOT / "examples" / "appeals.jsonl").read_text(encoding="utf-8").splitlines()

    appeals = parse_batch(lines, now=NOW + timedelta(days=365))

    assert len(appeals) == sum(1 for line in lines if line.strip())
    assert len({a.workflow_id for a in appeals}) == len(appeals)


def test_the_shipped_example_appeal_parses() -> None:
    text = (REPO_ROOT / "examples" / "appeal.json").read_text(encoding="utf-8")

    appeal = parse_appeal(text, now=NOW + timedelta(days=365))

    assert appeal.workflow_id == "appeal-vk-wall-123456_789"


# --- JSON Schema -----------------------------------------------------------------------------


def _schemas(directory: Path) -> dict[str, Any]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))}


def test_write_schemas_writes_valid_json_schemas_for_input_and_actions(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "out")

    names = {p.name for p in written}
    extra = {
        "signal-citizen_replied.schema.json",
        "incident-open.schema.json",
        "incident-action-link_appeal.schema.json",
        "incident-action-answer.schema.json",
    }
    assert names == {"appeal-input.schema.json"} | extra | {
        f"action-{action}.schema.json"
        for action in (
            "acknowledge",
            "answer",
            "interim_answer",
            "declare_white_spot",
            "move_commitment",
            "extend",
            "pause",
            "resume",
            "refute",
            "rate",
            "repin_policy",
            "reclassify",
            "redirect",
            "moderate",
            "ask_citizen",
            "mark_not_appeal",
            "mark_duplicate",
        )
    }
    for name, schema in _schemas(tmp_path / "out").items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object", name
        assert schema["additionalProperties"] is False, name


@pytest.fixture(scope="module")
def input_validator(tmp_path_factory: pytest.TempPathFactory) -> jsonschema.Draft202012Validator:
    out = tmp_path_factory.mktemp("schema")
    write_schemas(out)
    schema = json.loads((out / "appeal-input.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def test_a_valid_appeal_validates_against_the_input_schema(
    input_validator: jsonschema.Draft202012Validator,
) -> None:
    example = json.loads((REPO_ROOT / "examples" / "appeal.json").read_text(encoding="utf-8"))

    assert list(input_validator.iter_errors(example)) == []
    assert list(input_validator.iter_errors(payload())) == []


@pytest.mark.parametrize(
    ("overrides", "failing_keyword"),
    [
        ({"channel": "fax"}, "enum"),
        ({"external_id": "has space"}, "pattern"),
        ({"text": ""}, "minLength"),
        ({"author": None}, "required"),
        ({"likes": 3}, "additionalProperties"),
        ({"priority": "urgent"}, "enum"),
    ],
)
def test_an_invalid_appeal_fails_the_input_schema(
    input_validator: jsonschema.Draft202012Validator, overrides: dict[str, Any], failing_keyword: str
) -> None:
    errors = list(input_validator.iter_errors(payload(**overrides)))

    assert errors, overrides
    assert failing_keyword in {e.validator for e in errors} | {sub.validator for e in errors for sub in e.context or []}


def test_the_action_schemas_accept_and_refuse_like_the_models(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    answer = jsonschema.Draft202012Validator(
        json.loads((tmp_path / "action-answer.schema.json").read_text(encoding="utf-8"))
    )
    acknowledge = jsonschema.Draft202012Validator(
        json.loads((tmp_path / "action-acknowledge.schema.json").read_text(encoding="utf-8"))
    )

    assert answer.is_valid({"by": "ivanov", "text": "Снег вывезен 30.11, фото приложено."})
    assert not answer.is_valid({"by": "ivanov"})
    assert acknowledge.is_valid({"by": "petrova", "note": "взято в работу"})
    assert not acknowledge.is_valid({"by": "petrova", "extra": 1})


def test_the_committed_schema_directory_is_up_to_date(tmp_path: Path) -> None:
    committed = REPO_ROOT / "schema"
    write_schemas(tmp_path)

    fresh = {p.name: p.read_text(encoding="utf-8") for p in sorted(tmp_path.glob("*.json"))}
    current = {p.name: p.read_text(encoding="utf-8") for p in sorted(committed.glob("*.json"))}
    assert current == fresh, "schema/ is stale: run `python starter.py schema --out schema` and commit it"
