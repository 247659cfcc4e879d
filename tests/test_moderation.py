"""The quality gate against formal answers: each criterion, the labelled corpus, the blind
score, speed, and the activity that runs it off the event loop."""

from __future__ import annotations

import hashlib
import inspect
import json
import statistics
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from appeals.moderation import ModerationConfig, QualityReport, ReasonCode, Verdict, check_answer, morph
from appeals.moderation.dates import find_dates
from appeals.moderation.lexicon import compiled
from bench.moderation import SPLITS, evaluate, load_rows

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ModerationConfig.model_validate(tomllib.loads((ROOT / "config" / "moderation.toml").read_text()))
# The blind split is frozen (tests/data/README.md): this fails on any edit of the file.
BLIND_SHA256 = "b6542ea10b35ba2062dac58c54899efbdef5693fa6859c6ead16d0140e3d3e3b"

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


# --- lemmas: one rule for every form --------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "Информацию приняли к сведению.",
        "Информация принята к сведению.",
        "Информация принимается к сведению.",
        "ИНФОРМАЦИЯ ПРИНЯТА К СВЕДЕНИЮ.",
    ],
)
def test_every_form_of_a_phrase_is_one_rule(answer: str):
    lex = compiled(CONFIG)
    doc = morph.analyze(answer)
    (match,) = list(lex.boilerplate.finditer(doc.sentences[0].tokens))
    assert match.pattern.source == "принять|принимать к сведение"


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
        "Ситуацию взяли на контроль.",
        "Меры по Вашему обращению будут приняты.",
    ],
)
def test_boilerplate_is_found_in_any_word_form_and_case(phrase: str):
    report = check(phrase.upper() + " Дополнительно сообщаем, что дорога на этом участке городская.")
    assert ReasonCode.boilerplate in codes(report)
    reason = next(r for r in report.reasons if r.code is ReasonCode.boilerplate)
    assert reason.fragment and reason.message.startswith("Шаблонная фраза без действий")
    assert report.verdict is Verdict.formal


# --- the hard cases the regex checker missed -------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "Меры по Вашему обращению будут приняты, ситуацию взяли на контроль.",
        "Уважаемый заявитель! Мы внимательно изучили вашу ситуацию и сделаем всё возможное, чтобы помочь.",
        "Благодарим за неравнодушие! Ваше мнение очень важно для нас.",
    ],
)
def test_paraphrased_and_polite_but_empty_answers_are_formal(answer: str):
    assert check(answer).verdict is Verdict.formal


@pytest.mark.parametrize(
    "answer",
    ["Разберёмся.", "Вопрос решается.", "Сделано.", "Меры приняты.", "Работы ведутся.", "Информация проверена.", ""],
)
def test_short_brush_offs_are_bounced_not_doubtful(answer: str):
    report = check(answer)
    assert report.verdict is Verdict.formal
    assert ReasonCode.no_substance in codes(report)


@pytest.mark.parametrize(
    "answer",
    [
        "Согласно ст. 39 Жилищного кодекса РФ бремя содержания общего имущества несут собственники помещений.",
        "Управляющей компании рекомендовано устранить нарушения.",
        "Мероприятия по ремонту дорог проводятся согласно утверждённому плану.",
        "Качество воды соответствует требованиям СанПиН 2.1.3684-21.",
    ],
)
def test_impersonal_formal_answers_are_formal(answer: str):
    assert check(answer).verdict is Verdict.formal


@pytest.mark.parametrize(
    "answer",
    [
        "Яму у дома 25 заделают до 25 апреля, асфальт уже завезли.",
        "Яму заделали 12 мая, фото во вложении.",
        "Автобус № 9 с понедельника, 14 апреля, снова ходит через ул. Мира.",
    ],
)
def test_short_but_concrete_answers_are_not_bounced(answer: str):
    report = check(answer, attachments=1 if "фото" in answer else 0)
    assert report.verdict is not Verdict.formal


def test_a_hotline_or_mfc_number_is_a_contact_not_personal_data():
    answer = (
        "Справку о зарегистрированных можно получить в МФЦ или на Госуслугах, перерасчёт сделают в течение "
        "10 рабочих дней. Вопросы принимает горячая линия регионального оператора 8-800-775-00-17, "
        "а запись в МФЦ — по телефону 8 (342) 270-11-20."
    )
    report = check(answer)
    assert ReasonCode.personal_data not in codes(report)
    assert report.verdict is Verdict.substantive


def test_a_referral_that_names_the_body_and_its_contact_is_substantive():
    answer = (
        "Трасса Пермь — Березники — региональная дорога, её содержит краевое управление автомобильных дорог. "
        "Мы переслали ваше обращение туда 3 апреля; связаться с ними можно по телефону 8 (342) 233-55-66."
    )
    assert check(answer).verdict is Verdict.substantive
    assert check("Обращение направлено по компетенции.").verdict is Verdict.formal


# --- dates and periods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Заделаем до 15 декабря.", "15 декабря"),
        ("Заделаем в течение двух недель.", "течение двух недель"),
        ("Построят в I квартале 2027 года.", "I квартале 2027"),
        ("Уберут до конца месяца.", "до конца месяца"),
        ("Проверка 15.12.2026.", "15.12.2026"),
        ("Воду подадут к 20:00.", "20:00"),
        ("Водовоз приезжает по вторникам.", "вторникам"),
        ("Ремонт пройдёт весной 2027 года.", "весной 2027"),
    ],
)
def test_dates_and_periods(text: str, found: str):
    assert [f.text.lower() for f in find_dates(morph.analyze(text))] == [found.lower()]


@pytest.mark.parametrize(
    "text",
    [
        "Сделаем в ближайшее время.",
        "Работы выполнят в кратчайшие сроки.",
        "Согласно постановлению от 12.03.2020 и п. 3.2 правил.",
        "Ваше обращение от 12 марта рассмотрено.",
    ],
)
def test_vague_times_and_document_dates_are_not_dates(text: str):
    assert find_dates(morph.analyze(text)) == []


def test_a_confirmed_problem_needs_a_date():
    answer = (
        "Проверка подтвердила, что на ул. Советской у дома 25 есть яма. Подрядчику выдано "
        "предписание заделать её, знак установят в ближайшее время."
    )
    assert ReasonCode.no_date in codes(check(answer))
    for deadline in ("15.12.2026", "в течение 3 дней", "в декабре 2026 года", "до 20 декабря"):
        assert ReasonCode.no_date not in codes(check(answer + f" Яму заделают {deadline}.")), deadline


def test_a_promise_without_a_date_is_named():
    report = check("Детское игровое оборудование во дворе будет отремонтировано.")
    reason = next(r for r in report.reasons if r.code is ReasonCode.no_date)
    assert "будет отремонтировано" in reason.message


def test_an_unconfirmed_problem_needs_no_date():
    answer = (
        "Инженер осмотрел ул. Советскую у дома 25 вместе с представителем подрядчика: яма, "
        "о которой вы пишете, не выявлена, покрытие ровное. Если вы имели в виду другой дом, "
        "пришлите, пожалуйста, фото — мы повторим осмотр."
    )
    assert ReasonCode.no_date not in codes(check(answer))


def test_planned_order_with_a_date_is_not_boilerplate():
    report = check(GOOD + " Остальные ямы на улице заделаем в плановом порядке до 1 июня 2026 года.", attachments=1)
    assert ReasonCode.boilerplate not in codes(report)


def test_a_polite_preamble_weighs_less_in_a_concrete_answer():
    report = check("Ваше обращение рассмотрено. " + GOOD, attachments=1)
    assert codes(report) == {ReasonCode.boilerplate}
    assert report.score < CONFIG.review_at


# --- work done, evidence, contradictions -----------------------------------------------------


def test_work_claimed_done_needs_evidence():
    answer = "Яма у дома 25 по ул. Советской заделана 14 апреля бригадой ООО «Дорстрой», знак снят."
    assert ReasonCode.no_evidence in codes(check(answer, attachments=0))
    assert ReasonCode.no_evidence not in codes(check(answer, attachments=2))
    assert check(answer, attachments=0).verdict is Verdict.doubtful  # dated and named: a moderator decides
    for claim in ("Работы завершены.", "Мусор вывезен.", "Светофор отремонтирован.", "Мы устранили засор."):
        report = check(claim, attachments=0)
        assert ReasonCode.no_evidence in codes(report), claim
        assert report.verdict is Verdict.formal, claim  # a bare «сделано»: nothing to check it by


def test_future_or_negated_work_is_not_a_claim_of_work_done():
    answer = "Яма будет заделана до 20.05.2026, а разметка не восстановлена: её нанесут в июне 2026 года."
    assert ReasonCode.no_evidence not in codes(check(answer))


def test_self_contradiction():
    answer = (
        "Туалет на втором этаже школы № 7 отремонтирован, работы выполнены. Вместе с тем часть "
        "сантехники не заменена и будет заменена позднее."
    )
    assert ReasonCode.contradiction in codes(check(answer, attachments=1))
    honest = answer.replace("позднее", "до 25.08.2026, когда придут унитазы")
    assert ReasonCode.contradiction not in codes(check(honest, attachments=1))


# --- legal references, copies, length, jargon ------------------------------------------------


def test_legal_references_need_an_explanation():
    piled = (
        "Согласно ст. 12 Федерального закона № 59-ФЗ и п. 3.2 Постановления администрации № 123 "
        "ремонт дорог осуществляется подрядной организацией."
    )
    assert ReasonCode.legal_without_explanation in codes(check(piled))
    explained = (
        "По п. 3.2 Постановления администрации № 123 ямы на городских дорогах заделывают в течение "
        "10 дней после заявки, а ст. 12 Федерального закона № 59-ФЗ даёт нам на ответ 30 дней. "
        "Это означает, что яму у дома 25 обязаны заделать до 20 мая, и мы проследим, чтобы подрядчик "
        "успел к этой дате; если не успеет, его оштрафуют по контракту."
    )
    report = check(explained)
    assert ReasonCode.legal_without_explanation not in codes(report)
    assert report.verdict is Verdict.substantive


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


def test_unexplained_jargon():
    answer = GOOD + " Ограждение ставила УК, согласовав с советом МКД."
    report = check(answer, attachments=1)
    assert {r.fragment for r in report.reasons if r.code is ReasonCode.jargon} == {"УК", "МКД"}
    explained = GOOD + " Ограждение ставила управляющая компания, а совет МКД (многоквартирного дома) помог."
    assert ReasonCode.jargon not in codes(check(explained, attachments=1))


# --- personal data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leak", "kind"),
    [
        ("Соседка из кв. 12, тел. 8-902-647-11-05, видела, кто оставил мусор.", "телефон"),
        ("Соседка из кв. 12 (+7 (912) 555 12 34) видела, кто оставил мусор.", "телефон"),
        ("Водитель Сидоров А. В. (тел. +7 912 555-12-34) отстранён от работы.", "телефон"),
        ("Жалобу подала также Кузнецова, kuznetsova.l@mail.ru.", "e-mail"),
        ("Фельдшер Смирнова, паспорт 5712 345678, приступит с понедельника.", "паспорт"),
        ("Фельдшер Смирнова (серия 57 12 номер 345678) приступит с понедельника.", "паспорт"),
        ("Компенсацию получит Смирнова, СНИЛС 123-456-789 01.", "СНИЛС"),
    ],
)
def test_a_third_partys_personal_data_is_formal(leak: str, kind: str):
    report = check(GOOD + " " + leak, attachments=1)
    found = [r for r in report.reasons if r.code is ReasonCode.personal_data]
    assert found and kind in found[0].message and found[0].fragment in leak
    assert report.verdict is Verdict.formal


def test_the_citizens_own_contacts_are_not_flagged():
    answer = GOOD + " Мастер позвонит вам по номеру 8 912 000-11-22 и напишет на ivanov@example.ru."
    report = check(answer, attachments=1, contacts=["+7 (912) 000-11-22", "Ivanov@Example.ru"])
    assert ReasonCode.personal_data not in codes(report)
    assert ReasonCode.personal_data in codes(check(answer, attachments=1, contacts=[]))


@pytest.mark.parametrize(
    "contact",
    [
        "Если знак уберут, звоните в диспетчерскую службу по телефону 8 (342) 200-00-01.",
        "Запись по телефону регистратуры поликлиники 8 (342) 212-33-44.",
        "Вопросы можно задать по бесплатному номеру 8-800-250-60-60.",
        "Напишите перевозчику на info@permtrans.ru.",
    ],
)
def test_an_organisations_contact_is_not_personal_data(contact: str):
    assert ReasonCode.personal_data not in codes(check(GOOD + " " + contact, attachments=1))


def test_dates_are_not_phone_numbers_or_passports():
    assert ReasonCode.personal_data not in codes(check(GOOD + " Повторная проверка 15.12.2026.", attachments=1))


# --- explanations quote their words ----------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.split())


def test_every_reason_quotes_the_words_that_triggered_it():
    for path in SPLITS.values():
        for row in load_rows(path):
            report = check(row["answer"], appeal=row["appeal"], attachments=row["attachments"])
            answer = _normal(row["answer"])
            for reason in report.reasons:
                assert reason.fragment, (row["id"], reason)
                pieces = [p.strip().rstrip("…") for p in reason.fragment.replace(" … ", "; ").split("; ")]
                assert all(p and p in answer for p in pieces), (row["id"], reason.fragment)
                assert any(p[:40] in reason.message for p in pieces), (row["id"], reason.message)


# --- config, determinism, models -------------------------------------------------------------


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
        {"lexicon": {"boilerplate": ["принять к ~"]}},
        {"lexicon": {"confirmed": ["по «мере»"]}},
    ):
        with pytest.raises(ValidationError):
            ModerationConfig.model_validate(bad)


def test_every_pattern_word_is_a_lemma():
    """A pattern word that is no lemma of itself (a typo, an inflected form) never matches."""
    lex = CONFIG.lexicon
    analyzer = morph.analyzer()
    for name in ("boilerplate", "boilerplate_unless_dated", "confirmed", "reasons", "legal_explanations", "later"):
        for source in getattr(lex, name):
            for part in source.split():
                for word in part.rstrip("?").split("|"):
                    if word.startswith("~") or word.endswith("*") or word == "#":
                        continue
                    lemmas = {morph.normal(p.normal_form) for p in analyzer.parse(word)}
                    assert morph.normal(word) in lemmas | {morph.normal(word).removesuffix("ся")}, (source, word)


def test_the_check_is_deterministic_and_thread_safe():
    rows = load_rows(SPLITS["tuning"])[:40]
    first = [check(r["answer"], appeal=r["appeal"], attachments=r["attachments"]).model_dump() for r in rows]
    with ThreadPoolExecutor(max_workers=4) as pool:
        again = list(pool.map(lambda r: check(r["answer"], appeal=r["appeal"], attachments=r["attachments"]), rows))
    assert [r.model_dump() for r in again] == first
    assert morph.analyzer() is morph.analyzer()  # one analyser per process


def test_reports_keep_the_shape_pinned_in_histories():
    report = check("Мусор вывезен.")
    assert QualityReport.model_validate(report.model_dump()) == report
    assert set(report.model_dump()) == {"score", "verdict", "reasons"}
    assert set(report.reasons[0].model_dump()) == {"code", "message", "fragment"}
    assert 0 <= report.score <= 100


def test_verdict_thresholds():
    strict = CONFIG.model_copy(update={"reject_at": 20.0, "review_at": 10.0})
    report = check_answer(
        "Ваше обращение рассмотрено. " + GOOD, appeal_text=APPEAL, attachments=1, citizen_contacts=[], config=strict
    )
    assert report.score == 15 and report.verdict is Verdict.doubtful


# --- the corpus and the blind score ----------------------------------------------------------

ROUTED = {
    "roads": {"roads", "snow_removal"},
    "housing and utilities": {"housing", "heating", "water_supply"},
    "waste": {"waste", "garbage"},
    "transport": {"public_transport", "transport"},
    "health": {"healthcare"},
    "education": {"education", "schools"},
    "improvement works": {"yard_improvement", "yard", "lighting"},
    "social support": {"social_support"},
}


def test_the_corpus():
    blind, tuning = load_rows(SPLITS["blind"]), load_rows(SPLITS["tuning"])
    assert hashlib.sha256(SPLITS["blind"].read_bytes()).hexdigest() == BLIND_SHA256, "the blind split is frozen"
    rows = blind + tuning
    assert len(blind) >= 100 and len(rows) >= 300
    for split in (blind, tuning):
        labels = [r["label"] for r in split]
        assert set(labels) == {"formal", "substantive"}
        assert 0.4 <= labels.count("formal") / len(labels) <= 0.6
    assert len({r["id"] for r in rows}) == len(rows)
    assert not {r["answer"] for r in blind} & {r["answer"] for r in tuning}
    categories = {r["category"] for r in rows}
    for group, names in ROUTED.items():
        assert categories & names, group
        assert {r["category"] for r in blind} & names, group


@pytest.fixture(scope="module")
def scores():
    return {split: evaluate(split, load_rows(path), CONFIG)[0] for split, path in SPLITS.items()}


def test_targets_on_the_blind_split(scores):
    for s in scores.values():
        print(s.line())
    blind = scores["blind"]
    assert blind.precision >= 0.9
    assert blind.recall >= 0.8
    assert blind.substantive_bounced == 0


def test_checking_one_answer_takes_at_most_20_ms(scores):
    for s in scores.values():
        assert s.ms_median <= 20, s.line()


# --- the activity ----------------------------------------------------------------------------


def test_the_activity_is_sync_so_it_runs_on_the_thread_pool(tmp_path: Path):
    from activities.checking import CheckingActivities
    from appeals.records import CheckRequest

    assert not inspect.iscoroutinefunction(CheckingActivities.check_answer)
    (tmp_path / "moderation.toml").write_bytes((ROOT / "config" / "moderation.toml").read_bytes())
    checking = CheckingActivities(tmp_path)
    checking.check()
    checking.warm_up()
    start = time.perf_counter()
    report = checking.check_answer(
        CheckRequest(answer="Ваше обращение рассмотрено.", appeal_text=APPEAL, attachments=0, citizen_contacts=[])
    )
    assert report.verdict is Verdict.formal
    assert time.perf_counter() - start < 1.0  # loaded once: no dictionary loading on this call
    (tmp_path / "moderation.toml").write_text('[lexicon]\nboilerplate = ["~2 мера"]\n')
    with pytest.raises(ValueError, match="must start with a word"):
        checking.check()


def test_checking_many_answers_keeps_a_low_median():
    rows = load_rows(SPLITS["tuning"])
    check(rows[0]["answer"])
    times = []
    for row in rows:
        start = time.perf_counter()
        check(row["answer"], appeal=row["appeal"], attachments=row["attachments"])
        times.append((time.perf_counter() - start) * 1000)
    assert statistics.median(times) <= 20
    print(json.dumps({"ms_median": round(statistics.median(times), 2), "n": len(times)}))


def test_a_wall_of_text_keeps_the_pinned_report_small():
    report = check("Ваше обращение рассмотрено. " * 500)
    assert report.verdict is Verdict.formal
    boilerplate = [r for r in report.reasons if r.code is ReasonCode.boilerplate]
    assert len(boilerplate) == 5 and boilerplate[-1].message.endswith("(и ещё 495)")
