"""Every input is storable or refused at the door, naming the field (pure: no server, no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from appeals.incidents import IncidentAnswer, IncidentAnswered, JoinIncident, LinkAppeal, OpenIncident
from appeals.models import (
    ACTIONS,
    AppealInput,
    CitizenReply,
    MarkDuplicate,
    SubmitAnswer,
    changed_fields,
    received_at_problem,
)
from stack.errors import describe, one_line
from starter import write_schemas

REASON = "Нужна экспертиза проекта"
APPEAL: dict[str, Any] = {
    "channel": "vk",
    "external_id": "wall-1",
    "text": "Не вывозят снег во дворе.",
    "author": {"name": "Мария", "handle": "id1", "contact": "+7 912 000-00-00"},
    "received_at": "2026-11-29T09:00:00+05:00",
    "category": "snow_removal",
    "municipality": "Пермь",
    "address": "Пермь, ул. Ленина, 50",
    "attachments": [{"url": "https://vk.com/photo1_2", "name": "фото.jpg"}],
}
INCIDENT = {"incident_id": "heat-1", "title": "Нет тепла", "category": "heating", "address": "ул. Мира, 12"}

# (model, a valid payload, the dotted path of one string field in it)
STRING_FIELDS: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    *((AppealInput, APPEAL, f) for f in ("text", "author.name", "author.handle", "author.contact")),
    *((AppealInput, APPEAL, f) for f in ("category", "municipality", "address", "attachments.0.name")),
    (ACTIONS["acknowledge"], {"by": "ivanov", "note": "взято"}, "by"),
    (ACTIONS["acknowledge"], {"by": "ivanov", "note": "взято"}, "note"),
    (SubmitAnswer, {"by": "ivanov", "text": "Снег вывезен 30.11."}, "text"),
    (SubmitAnswer, {"by": "ivanov", "text": "Не наше.", "kind": "not_competent", "responsible": "МКУ"}, "responsible"),
    (ACTIONS["interim_answer"], {"by": "ivanov", "text": "Работаем."}, "text"),
    (ACTIONS["declare_white_spot"], {"by": "x", "reason": REASON, "committed_date": "2027-05-01"}, "reason"),
    (ACTIONS["reclassify"], {"by": "operator", "category": "roads"}, "category"),
    (ACTIONS["redirect"], {"by": "x", "to": {"role": "executor", "address": "a@b.ru"}, "reason": REASON}, "to.address"),
    (ACTIONS["moderate"], {"by": "moderator", "accept": False, "reasons": ["нет срока"]}, "reasons.0"),
    (ACTIONS["rate"], {"by": "citizen", "score": 2, "comment": "плохо"}, "comment"),
    (ACTIONS["ask_citizen"], {"by": "ivanov", "question": "Уточните номер дома"}, "question"),
    (ACTIONS["mark_not_appeal"], {"by": "operator", "reason": "Реклама, не обращение"}, "reason"),
    (CitizenReply, {"text": "Дом 50, подъезд 2"}, "text"),
    (OpenIncident, {**INCIDENT, "opened_by": "operator"}, "title"),
    (OpenIncident, {**INCIDENT, "opened_by": "operator"}, "opened_by"),
    (IncidentAnswer, {"by": "x", "text": "Тепло дали."}, "text"),
    (JoinIncident, {"incident_id": "heat-1", "title": "Нет тепла", "reason": REASON}, "reason"),
    (LinkAppeal, {"by": "operator", "workflow_id": "appeal-vk-1"}, "by"),
]


def with_value(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(payload))
    *parents, last = path.split(".")
    node: Any = copy
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return copy


def refusal(model: type[BaseModel], payload: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(payload)
    return describe(refused.value)


def value_at(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


@pytest.mark.parametrize(("model", "payload", "path"), STRING_FIELDS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize(
    ("char", "words"),
    [
        ("\x00", "contains a NUL character"),
        ("\x01", "control character U+0001"),
        ("\x1b", "control character U+001B"),
        ("\x7f", "control character U+007F"),
        ("\x85", "control character U+0085"),
        ("\ud800", "unpaired surrogate U+D800"),
        ("\udfff", "unpaired surrogate U+DFFF"),
    ],
)
def test_control_characters_are_refused_in_every_string_field(
    model: type[BaseModel], payload: dict[str, Any], path: str, char: str, words: str
) -> None:
    assert model.model_validate(payload)  # the payload is valid without the character
    message = refusal(model, with_value(payload, path, f"Дом{char} номер 50, второй подъезд"))

    assert message.startswith(f"{path}: "), message
    if "surrogate" in words and "unable to parse raw data as a unicode string" in message:
        return  # pydantic-core refuses it itself when the text is not plain ASCII
    assert words in message and "(at character 4)" in message, message


# Names, logins, contacts, places and ids are one line: a line break there would smuggle a header
# into an e-mail or a forged entry into a log. Texts keep their lines.
ONE_LINE = {"name", "handle", "contact", "category", "municipality", "address", "by", "title", "opened_by"}
MULTI_LINE = [(m, p, f) for m, p, f in STRING_FIELDS if f.split(".")[-1] not in ONE_LINE]
ONE_LINE_FIELDS = [(m, p, f) for m, p, f in STRING_FIELDS if f.split(".")[-1] in ONE_LINE]


@pytest.mark.parametrize(("model", "payload", "path"), MULTI_LINE, ids=lambda v: v if isinstance(v, str) else "")
def test_line_breaks_are_normalised_and_tabs_kept(model: type[BaseModel], payload: dict[str, Any], path: str) -> None:
    text = "Первая строка\r\nвторая\rтретья\tс табуляцией, и ещё слова"
    validated = model.model_validate(with_value(payload, path, text))

    assert value_at(validated, path) == "Первая строка\nвторая\nтретья\tс табуляцией, и ещё слова"


@pytest.mark.parametrize(("model", "payload", "path"), ONE_LINE_FIELDS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize(("char", "what"), [("\r\n", "line break"), ("\n", "line break"), ("\t", "tab")])
def test_one_line_fields_refuse_line_breaks_and_tabs(
    model: type[BaseModel], payload: dict[str, Any], path: str, char: str, what: str
) -> None:
    message = refusal(model, with_value(payload, path, f"+7 900{char}Bcc: all@example.org"))

    assert message == f"{path}: must be one line: it contains a {what} (at character 7)", message


INVISIBLE = ["\u200b", "\u200b\u200c\u200d", "\u2060\ufeff", "\u00ad", "\u202e\u2066\u2069", "\u3164", " \u200b \u034f"]
REQUIRED_TEXTS = [(m, p, f) for m, p, f in STRING_FIELDS if f not in ("note", "comment", "attachments.0.name")]


@pytest.mark.parametrize(("model", "payload", "path"), REQUIRED_TEXTS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("blank", INVISIBLE, ids=lambda b: "+".join(f"U+{ord(c):04X}" for c in b))
def test_text_with_nothing_visible_is_refused_as_empty(
    model: type[BaseModel], payload: dict[str, Any], path: str, blank: str
) -> None:
    message = refusal(model, with_value(payload, path, blank * 12))

    assert message.startswith(f"{path}: "), message
    assert "empty" in message or "visible" in message or "must name who is responsible" in message, message


def test_a_reason_needs_ten_visible_characters_not_ten_code_points() -> None:
    message = refusal(ACTIONS["refute"], {"by": "citizen", "reason": "а\u200b" * 9})

    assert message == "reason: needs at least 10 visible characters"
    assert ACTIONS["refute"].model_validate({"by": "citizen", "reason": "Не решено, яма на месте"})


def test_an_answer_of_zero_width_characters_is_refused_in_its_own_words() -> None:
    message = refusal(SubmitAnswer, {"by": "ivanov", "text": "\u200b"})

    assert message == "text: the answer is empty: write what was done and when"


def test_visible_text_in_any_script_and_emoji_passes() -> None:
    for text in ("Ок", "厕所", "👍", "٣", "é"):
        assert CitizenReply(text=text).text == text


# --- timestamps and dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    "received_at",
    [
        "1970-01-01T00:00:00Z",
        "1900-05-01T10:00:00+05:00",
        "1999-12-31T23:59:59Z",
        "2000-01-01T03:00:00+05:00",
        "2100-01-01T00:00:00Z",
        "9999-12-31T23:00:00Z",
        "0001-01-01T10:00:00Z",
    ],
)
def test_received_at_outside_the_sane_window_is_refused(received_at: str) -> None:
    message = refusal(AppealInput, {**APPEAL, "received_at": received_at})

    assert message.startswith("received_at: ") and "2000-01-01..2099-12-31" in message


def test_received_at_at_the_window_edges_is_accepted() -> None:
    for edge in ("2000-01-01T00:00:00Z", "2099-12-31T23:59:59Z"):
        assert AppealInput.model_validate({**APPEAL, "received_at": edge})


def test_received_at_problem_is_a_pure_function_of_now() -> None:
    now = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

    assert received_at_problem(now - timedelta(days=400), now) is None
    assert received_at_problem(now + timedelta(days=1), now) is None
    late = received_at_problem(now + timedelta(days=1, seconds=1), now)
    assert late is not None and late.startswith("received_at: ") and "in the future" in late
    assert received_at_problem(now + timedelta(minutes=6), now, ahead=timedelta(minutes=5)) is not None
    early = received_at_problem(datetime(1999, 1, 1, tzinfo=UTC), now)
    assert early is not None and "2000-01-01" in early


@pytest.mark.parametrize(
    ("model", "payload", "field"),
    [
        (ACTIONS["declare_white_spot"], {"by": "x", "reason": REASON}, "committed_date"),
        (ACTIONS["move_commitment"], {"by": "x", "reason": REASON}, "new_date"),
        (OpenIncident, {**INCIDENT, "opened_by": "operator"}, "committed_date"),
        (JoinIncident, {"incident_id": "heat-1", "title": "Нет тепла"}, "committed_date"),
    ],
)
@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_dates_outside_the_static_range_are_refused(
    model: type[BaseModel], payload: dict[str, Any], field: str, day: str
) -> None:
    message = refusal(model, {**payload, field: day})

    assert message == f"{field}: {day} is outside 2000-01-01..2099-12-31"
    assert getattr(model.model_validate({**payload, field: "2031-06-01"}), field) == date(2031, 6, 1)


# --- URLs, workflow ids, incident ids -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>",
        "file:///etc/passwd",
        "ftp://x.ru/a",
        "vbscript:x",
        "//evil.example/x",
        "http://",
        "https:///path",
        "http://user:pw@vk.com/",
        "http://vk .com/",
        "http://vk.com:99999/",
        "mailto:a@b.ru",
    ],
)
def test_attachment_urls_other_than_http_with_a_host_are_refused(url: str) -> None:
    for model, payload, field in (
        (AppealInput, APPEAL, "attachments.0.url"),
        (SubmitAnswer, {"by": "x", "text": "Сделано.", "attachments": [{"url": "https://a.ru"}]}, "attachments.0.url"),
        (
            IncidentAnswer,
            {"by": "x", "text": "Сделано.", "attachments": [{"url": "https://a.ru"}]},
            "attachments.0.url",
        ),
    ):
        assert refusal(model, with_value(payload, field, url)).startswith(f"{field}: ")


@pytest.mark.parametrize("url", ["https://vk.com/photo1_2", "HTTP://Example.com/a?b=1#c", "http://192.168.0.1:8080/x"])
def test_ordinary_links_are_accepted(url: str) -> None:
    assert AppealInput.model_validate(with_value(APPEAL, "attachments.0.url", url)).attachments[0].url == url


@pytest.mark.parametrize(
    "original", ["appeal-", "appeal-fax-1", "appeal-vk-", "appeal-vk-has space", "incident-x", "APPEAL-vk-1", "vk-1"]
)
def test_an_original_must_be_a_whole_appeal_workflow_id(original: str) -> None:
    for model, payload, field in (
        (MarkDuplicate, {"by": "operator"}, "original"),
        (LinkAppeal, {"by": "operator"}, "workflow_id"),
    ):
        message = refusal(model, {**payload, field: original})
        assert message.startswith(f"{field}: must be an appeal's workflow id"), message


def test_real_appeal_ids_are_accepted_as_originals() -> None:
    for original in ("appeal-vk-wall-123_4", "appeal-governor_account-post-1", "appeal-pos-2026/11-0042"):
        assert MarkDuplicate(by="operator", original=original).original == original


def test_incident_signals_are_validated_like_updates() -> None:
    assert refusal(JoinIncident, {"incident_id": "heat 1", "title": "x"}).startswith("incident_id: ")
    assert refusal(JoinIncident, {"incident_id": "heat-1", "title": "\u200b"}).startswith("title: ")
    answer = {"by": "x", "text": "Тепло дали."}
    assert refusal(IncidentAnswered, {"incident_id": "", "answer": answer}).startswith("incident_id: ")
    assert refusal(IncidentAnswered, {"incident_id": "h", "answer": {**answer, "text": "\x00"}}).startswith(
        "answer.text: "
    )


# --- the summary, comparisons, one-line errors, schema -----------------------------------------


def test_the_summary_holds_no_personal_data() -> None:
    appeal = AppealInput.model_validate(APPEAL)

    assert appeal.summary() == "[vk] snow_removal / Пермь"
    assert AppealInput.model_validate({**APPEAL, "category": None, "municipality": None}).summary() == (
        "[vk] no category"
    )


def test_changed_fields_names_what_differs_and_compares_instants() -> None:
    old = AppealInput.model_validate(APPEAL)
    same_moment = AppealInput.model_validate({**APPEAL, "received_at": "2026-11-29T04:00:00Z"})
    new = AppealInput.model_validate({**APPEAL, "text": "Другое", "author": {**APPEAL["author"], "contact": "a@b.ru"}})

    assert changed_fields(old, same_moment) == []
    assert changed_fields(old, new) == ["text", "author.contact"]


def test_a_validation_error_is_one_line_without_link_or_input() -> None:
    message = refusal(AppealInput, {**APPEAL, "channel": "fax", "text": "секрет\x00", "likes\n": 1})

    assert "\n" not in message and "errors.pydantic.dev" not in message and "секрет" not in message
    assert message.startswith("channel: ") and "; text: contains a NUL character" in message
    assert "likes\\n: Extra inputs are not permitted" in message


def test_a_pydantic_dump_in_a_failure_message_becomes_one_line() -> None:
    with pytest.raises(ValidationError) as refused:
        ACTIONS["acknowledge"].model_validate({"by": "\x00секрет"})
    dumped = str(refused.value)
    assert dumped.count("\n") >= 2  # what a workflow's failure message carries

    assert one_line(dumped) == "by: contains a NUL character (at character 1)"
    assert one_line("already acknowledged\nby ivanov") == "already acknowledged; by ivanov"


def test_the_schema_refuses_control_characters_and_other_schemes(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    schema = json.loads((tmp_path / "appeal-input.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)

    assert validator.is_valid(APPEAL)
    assert not validator.is_valid({**APPEAL, "text": "a\x00b"})
    assert not validator.is_valid({**APPEAL, "author": {"name": "a\x1bb"}})
    assert not validator.is_valid(with_value(APPEAL, "attachments.0.url", "javascript:alert(1)"))
    duplicate = json.loads((tmp_path / "action-mark_duplicate.schema.json").read_text(encoding="utf-8"))
    assert not jsonschema.Draft202012Validator(duplicate).is_valid({"by": "x", "original": "appeal-fax-1"})
