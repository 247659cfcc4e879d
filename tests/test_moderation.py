"""The quality gate against formal answers: each criterion, and the labelled set."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from appeals.moderation import (
    ModerationConfig,
    QualityReport,
    ReasonCode,
    Verdict,
    check_answer,
)

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "tests" / "data" / "answers.jsonl"
CONFIG = ModerationConfig.model_validate(tomllib.loads((ROOT / "config" / "moderation.toml").read_text()))

APPEAL = "На ул. Советской у дома 25 яма глубиной сантиметров 20, уже два колеса пробил, когда отремонтируют?"
GOOD = (
    "Яма на ул. Советской у дома 25 будет заделана литым асфальтом до 20.05.2026: раньше асфальт "
    "не уложить из-за температуры. 14 апреля подрядчик ООО «Дорстрой» поставил у ямы "
    "предупреждающий знак и ограждение, фото прилагаем."
)


def check(answer: str, *, appeal: str = APPEAL, attachments: int = 0, contacts: list[str] | None = None):
    return check_answer(
        answer, appeal_text=appeal, attachments=attachments, citizen_contacts=contacts or [], config=CONFIG
    )


def codes(report: QualityReport) -> set[ReasonCode]:
    return {r.code for r in report.reasons}


def test_a_substantive_answer_passes_clean():
    report = check(GOOD, attachments=1)
    assert report.reasons == []
    assert report.score == 0
    assert report.verdict is Verdict.substantive


@pytest.mark.parametrize(
    "phrase",
    [
        "Ваше обращение рассмотрено.",
        "Информация принята к сведению.",
        "Вопрос ремонта будет рассмотрен.",
        "Ремонт будет выполнен в плановом порядке.",
        "Вопрос решается в рамках компетенции.",
        "Обращение было направлено в управляющую компанию для рассмотрения.",
        "Вопрос находится на особом контроле.",
    ],
)
def test_boilerplate_is_found_in_any_word_form_and_case(phrase: str):
    report = check(phrase.upper() + " Дополнительно сообщаем, что дорога на этом участке городская.")
    assert ReasonCode.boilerplate in codes(report)
    reason = next(r for r in report.reasons if r.code is ReasonCode.boilerplate)
    assert reason.fragment and reason.message.startswith("Шаблонная фраза без действий")


def test_boilerplate_alone_sends_a_one_liner_back():
    report = check("Ваше обращение рассмотрено. Информация принята к сведению.")
    assert report.verdict is Verdict.formal


def test_planned_order_with_a_date_is_not_boilerplate():
    report = check(GOOD + " Остальные ямы на улице заделаем в плановом порядке до 1 июня 2026 года.", attachments=1)
    assert ReasonCode.boilerplate not in codes(report)


def test_a_polite_preamble_weighs_less_when_the_answer_has_a_date():
    report = check("Ваше обращение рассмотрено. " + GOOD, attachments=1)
    assert codes(report) == {ReasonCode.boilerplate}
    assert report.score < CONFIG.review_at


def test_a_confirmed_problem_needs_a_date():
    answer = (
        "Проверка подтвердила, что на ул. Советской у дома 25 есть яма. Подрядчику выдано "
        "предписание заделать её, знак установят в ближайшее время."
    )
    assert ReasonCode.no_date in codes(check(answer))
    dated = answer.replace("в ближайшее время", "до 20 декабря")
    assert ReasonCode.no_date not in codes(check(dated))
    for deadline in ("15.12.2026", "в течение 3 дней", "в декабре 2026 года", "до 20 декабря"):
        assert ReasonCode.no_date not in codes(check(answer + f" Яму заделают {deadline}."))


def test_an_unconfirmed_problem_needs_no_date():
    answer = (
        "Инженер осмотрел ул. Советскую у дома 25 вместе с представителем подрядчика: яма, "
        "о которой вы пишете, не выявлена, покрытие ровное. Если вы имели в виду другой дом, "
        "пришлите, пожалуйста, фото — мы повторим осмотр."
    )
    assert ReasonCode.no_date not in codes(check(answer))


def test_work_claimed_done_needs_evidence():
    answer = "Яма у дома 25 по ул. Советской заделана 14 апреля бригадой ООО «Дорстрой», знак снят."
    assert ReasonCode.no_evidence in codes(check(answer, attachments=0))
    assert ReasonCode.no_evidence not in codes(check(answer, attachments=2))
    for claim in ("Работы завершены.", "Мусор вывезен.", "Светофор отремонтирован.", "Мы устранили засор."):
        assert ReasonCode.no_evidence in codes(check(claim, attachments=0)), claim


def test_future_or_negated_work_is_not_a_claim_of_work_done():
    answer = "Яма будет заделана до 20.05.2026, а разметка не восстановлена: её нанесут в июне 2026 года."
    assert ReasonCode.no_evidence not in codes(check(answer))


def test_legal_references_need_an_explanation():
    piled = (
        "Согласно ст. 12 Федерального закона № 59-ФЗ и п. 3.2 Постановления администрации № 123 "
        "ремонт дорог осуществляется подрядной организацией."
    )
    report = check(piled)
    assert ReasonCode.legal_without_explanation in codes(report)
    explained = (
        "По п. 3.2 Постановления администрации № 123 ямы на городских дорогах заделывают в течение "
        "10 дней после заявки, а ст. 12 Федерального закона № 59-ФЗ даёт нам на ответ 30 дней. "
        "Это означает, что яму у дома 25 обязаны заделать до 20 мая, и мы проследим, чтобы подрядчик "
        "успел к этой дате; если не успеет, его оштрафуют по контракту."
    )
    assert ReasonCode.legal_without_explanation not in codes(check(explained))


def test_numbers_of_schools_and_routes_are_not_legal_references():
    answer = GOOD + " Автобус № 41 и школа № 5 на время ремонта объезжают участок по ул. Мира."
    assert ReasonCode.legal_without_explanation not in codes(check(answer, attachments=1))


def test_a_near_copy_of_the_appeal_is_formal():
    copy = "Сообщаем, что на ул. Советской у дома 25 яма глубиной 20 сантиметров, пробиты два колеса."
    report = check(copy)
    assert ReasonCode.copy_of_appeal in codes(report)
    assert report.verdict is Verdict.formal
    assert ReasonCode.copy_of_appeal not in codes(check(GOOD, attachments=1))


def test_too_short_for_the_question():
    assert ReasonCode.too_short in codes(check("Яму заделаем до 20.05.2026."))
    long_appeal = APPEAL + " " + "Подробно описываю, как и где это случилось, и прилагаю схему. " * 20
    assert ReasonCode.too_short in codes(check(GOOD, appeal=long_appeal, attachments=1))
    assert ReasonCode.too_short not in codes(check(GOOD, attachments=1))


def test_a_short_but_concrete_answer_is_not_bounced():
    report = check("Лампа в фонаре у дома 7 заменена 14.03.2026, фонарь горит. Фото во вложении.", attachments=1)
    assert codes(report) == {ReasonCode.too_short}
    assert report.verdict is not Verdict.formal


@pytest.mark.parametrize(
    ("leak", "kind"),
    [
        ("Соседка из кв. 12, тел. 8-902-647-11-05, видела, кто оставил мусор.", "телефон"),
        ("Соседка из кв. 12 (+7 (912) 555 12 34) видела, кто оставил мусор.", "телефон"),
        ("Жалобу подала также Кузнецова, kuznetsova.l@mail.ru.", "e-mail"),
        ("Фельдшер Смирнова, паспорт 5712 345678, приступит с понедельника.", "паспорт"),
        ("Фельдшер Смирнова (серия 57 12 номер 345678) приступит с понедельника.", "паспорт"),
        ("Компенсацию получит Смирнова, СНИЛС 123-456-789 01.", "СНИЛС"),
    ],
)
def test_a_third_partys_personal_data_is_formal(leak: str, kind: str):
    report = check(GOOD + " " + leak, attachments=1)
    found = [r for r in report.reasons if r.code is ReasonCode.personal_data]
    assert found and kind in found[0].message
    assert report.verdict is Verdict.formal


def test_the_citizens_own_contacts_are_not_flagged():
    answer = GOOD + " Мастер позвонит вам по номеру 8 912 000-11-22 и напишет на ivanov@example.ru."
    report = check(answer, attachments=1, contacts=["+7 (912) 000-11-22", "Ivanov@Example.ru"])
    assert ReasonCode.personal_data not in codes(report)
    assert ReasonCode.personal_data in codes(check(answer, attachments=1, contacts=[]))


def test_an_organisations_phone_is_not_personal_data():
    answer = GOOD + " Если знак уберут, звоните в диспетчерскую службу по телефону 8 (342) 200-00-01."
    assert ReasonCode.personal_data not in codes(check(answer, attachments=1))


def test_dates_are_not_phone_numbers_or_passports():
    answer = GOOD + " Повторная проверка 15.12.2026, акт № 2026 123456 составлен инженером."
    assert ReasonCode.personal_data in codes(check(answer, attachments=1))  # 4+6 digits: a passport shape
    assert ReasonCode.personal_data not in codes(check(GOOD + " Повторная проверка 15.12.2026.", attachments=1))


def test_self_contradiction():
    answer = (
        "Туалет на втором этаже школы № 7 отремонтирован, работы выполнены. Вместе с тем часть "
        "сантехники не заменена и будет заменена позднее."
    )
    assert ReasonCode.contradiction in codes(check(answer, attachments=1))
    honest = answer.replace("позднее", "до 25.08.2026, когда придут унитазы")
    assert ReasonCode.contradiction not in codes(check(honest, attachments=1))


def test_unexplained_jargon():
    answer = GOOD + " Ограждение ставила УК, согласовав с советом МКД."
    report = check(answer, attachments=1)
    assert {r.fragment for r in report.reasons if r.code is ReasonCode.jargon} == {"УК", "МКД"}
    explained = (
        GOOD + " Ограждение ставила управляющая компания дома, а ТСЖ соседнего МКД (многоквартирного дома) помогло."
    )
    assert ReasonCode.jargon not in codes(check(explained, attachments=1))


def test_verdict_thresholds():
    strict = CONFIG.model_copy(update={"reject_at": 20.0, "review_at": 10.0})
    report = check_answer(
        "Ваше обращение рассмотрено. " + GOOD, appeal_text=APPEAL, attachments=1, citizen_contacts=[], config=strict
    )
    assert report.score == 15 and report.verdict is Verdict.doubtful


def test_the_check_is_deterministic():
    answers = [json.loads(line)["answer"] for line in DATASET.read_text(encoding="utf-8").splitlines()[:10]]
    for answer in answers:
        first = check(answer).model_dump()
        assert all(check(answer).model_dump() == first for _ in range(3))


def test_config_validation():
    assert ModerationConfig.model_validate({}) == ModerationConfig()
    for bad in (
        {"reject_at": 30, "review_at": 50},
        {"reject_at": 0},
        {"copy_ratio": 1.5},
        {"min_chars": -1},
        {"weights": {"boilerplate": 150}},
        {"weights": {"unknown": 1}},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            ModerationConfig.model_validate(bad)


def test_reports_are_models():
    report = check("Мусор вывезен.")
    assert QualityReport.model_validate(report.model_dump()) == report
    assert 0 <= report.score <= 100


def test_precision_and_recall_on_the_labelled_set():
    rows = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = [row["label"] for row in rows]
    assert len(rows) >= 60
    assert labels.count("formal") >= 25 and labels.count("substantive") >= 25
    assert set(labels) == {"formal", "substantive"}
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({row["category"] for row in rows}) >= 10

    tp = fp = fn = 0
    for row in rows:
        report = check(row["answer"], appeal=row["appeal"], attachments=row["attachments"])
        predicted, actual = report.verdict is Verdict.formal, row["label"] == "formal"
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    p, r, n = tp / (tp + fp), tp / (tp + fn), len(rows)
    print(f"precision={p:.2f} recall={r:.2f} n={n}")
    assert p >= 0.9
    assert r >= 0.8
