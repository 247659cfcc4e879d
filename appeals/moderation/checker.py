"""Score an official's answer against the moderation criteria; every reason quotes its words."""

from __future__ import annotations

from appeals.moderation import findings as find
from appeals.moderation.contacts import find_contacts, own_contact_keys
from appeals.moderation.dates import Found, find_dates
from appeals.moderation.legal import legal
from appeals.moderation.lexicon import compiled
from appeals.moderation.models import ModerationConfig, QualityReport, Reason, ReasonCode, Verdict
from appeals.moderation.morph import Doc, analyze


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(code: ReasonCode, message: str, fragment: str) -> Reason:
    return Reason(code=code, message=message, fragment=_clip(fragment))


MAX_REASONS_PER_CODE = 5  # the report is pinned in the history: a pasted wall of boilerplate stays small


def _capped(reasons: list[Reason]) -> list[Reason]:
    kept: list[Reason] = []
    for code in dict.fromkeys(r.code for r in reasons):
        same = [r for r in reasons if r.code is code]
        if len(same) > MAX_REASONS_PER_CODE:
            last = same[MAX_REASONS_PER_CODE - 1]
            more = len(same) - MAX_REASONS_PER_CODE
            same[MAX_REASONS_PER_CODE - 1] = last.model_copy(update={"message": f"{last.message} (и ещё {more})"})
        kept += same[:MAX_REASONS_PER_CODE]
    return kept


def _in_dated_sentence(doc: Doc, start: int, dates: list[Found]) -> bool:
    sentence = doc.sentence_at(start)
    return any(sentence.start <= d.start < sentence.end for d in dates)


def _paperwork_date(doc: Doc, date: Found, boilerplate: list[find.Span], actions: list[find.Span]) -> bool:
    sentence = doc.sentence_at(date.start)
    inside = lambda s: sentence.start <= s.start < sentence.end  # noqa: E731
    return any(inside(b) for b in boilerplate) and not any(inside(a) for a in actions)


def check_answer(
    answer: str,
    *,
    appeal_text: str,
    attachments: int,
    citizen_contacts: list[str],
    config: ModerationConfig,
) -> QualityReport:
    """Score `answer` against the moderation criteria; the higher, the more formal.

    Pure and deterministic: the same text and config always give the same report. The first
    call in a process loads the Russian dictionaries (about a second); later calls take a few
    milliseconds.
    """
    w, points = config.weights, config.substance
    lex = compiled(config)
    answer = answer.strip()
    doc = analyze(answer)
    all_dates = find_dates(doc)
    all_boilerplate = find.phrases(doc, lex.boilerplate)
    boilerplate = sorted(
        all_boilerplate
        + [
            s
            for s in find.phrases(doc, lex.boilerplate_unless_dated)
            if not _in_dated_sentence(doc, s.start, all_dates)
        ],
        key=lambda s: s.start,
    )
    work = find.work(doc, lex, all_boilerplate)
    promises = find.promises(doc, lex, all_boilerplate)
    # «Обращение будет рассмотрено в течение 30 дней»: a date in a sentence of boilerplate with no
    # work or promise of its own dates the paperwork, not the fix.
    actions = work.done + work.planned + promises
    dates = [d for d in all_dates if not _paperwork_date(doc, d, all_boilerplate, actions)]
    has_date = bool(dates)
    contacts = find_contacts(doc, lex)
    own = own_contact_keys(citizen_contacts)
    personal = [c for c in contacts if not c.official and (c.key is None or c.key not in own)]
    usable = any(c.official for c in contacts) or bool(find.phrases(doc, lex.contacts))
    confirmed = [c for c in find.confirmed(doc, lex) if not any(b.start <= c.start < b.end for b in all_boilerplate)]
    quantities = find.quantities(doc, lex)
    causes = find.phrases(doc, lex.reasons)
    instructions = find.instructions(doc)
    proof = attachments > 0

    substance = (
        min(points.date_cap, points.date * len(dates))
        + (points.done_with_evidence if work.done and proof else 0)
        + min(points.quantity_cap, points.quantity * len(quantities))
        + (points.contact if usable else 0)
        + (points.reason if causes else 0)
        + (points.definite_no if find.definite_noes(doc, lex) else 0)
        + (points.instruction if instructions else 0)
    )
    concrete = substance >= points.needed

    reasons: list[Reason] = []
    score = 0.0

    if boilerplate:
        found = min(w.boilerplate_cap, w.boilerplate + w.boilerplate_extra * (len(boilerplate) - 1))
        score += found * (config.boilerplate_with_substance_factor if concrete else 1.0)
        for b in boilerplate:
            reasons.append(
                _reason(
                    ReasonCode.boilerplate,
                    f"Шаблонная фраза без действий: «{_clip(b.text)}»"
                    + ("" if concrete else "; укажите, что именно сделано или будет сделано и когда"),
                    b.text,
                )
            )

    if not concrete:
        score += w.no_substance
        reasons.append(
            _reason(
                ReasonCode.no_substance,
                f"Ответ не по существу: «{_clip(answer, 100)}» — в нём нет ни срока, ни подтверждённых "
                "работ, ни цифр, ни причин, ни контакта, куда обратиться. Напишите, что сделано или будет "
                "сделано, кем и когда",
                answer,
            )
        )

    solved = bool(work.done) and proof  # confirmed and already fixed, with proof
    if confirmed and not has_date and not solved:
        score += w.no_date
        c = confirmed[0]
        reasons.append(
            _reason(
                ReasonCode.no_date,
                f"Проблема подтверждена или работа начата («{_clip(c.text)}»), но не указан срок её решения: "
                "назовите дату",
                c.text,
            )
        )
    elif promises and not has_date:
        score += w.vague_promise
        p = promises[0]
        reasons.append(
            _reason(
                ReasonCode.no_date,
                f"Обещание без срока: «{_clip(p.text)}» — укажите, к какой дате это будет сделано",
                p.text,
            )
        )

    if work.done and not proof:
        score += w.no_evidence
        sentence = doc.sentence_at(work.done[0].start)
        fragment = doc.span(sentence.start, sentence.end)
        reasons.append(
            _reason(
                ReasonCode.no_evidence,
                f"Работы заявлены выполненными («{_clip(fragment)}»), но не приложены фото или акт",
                fragment,
            )
        )

    done_lemmas = {d.lemma for d in work.done}
    clash = [s for s in work.negated + work.planned if s.lemma in done_lemmas]
    later = find.phrases(doc, lex.later) if work.done else []
    if (clash or later) and not has_date:
        score += w.contradiction
        other = (clash or later)[0]
        sentence = doc.sentence_at(other.start)
        fragment = doc.span(sentence.start, sentence.end)
        reasons.append(
            _reason(
                ReasonCode.contradiction,
                f"Ответ противоречит сам себе: работы названы выполненными («{_clip(work.done[0].text)}»), "
                f"но «{_clip(fragment)}»",
                f"{work.done[0].text} … {other.text}",
            )
        )

    refs = legal(doc, lex, [(b.start, b.end) for b in all_boilerplate])
    if len(refs.refs) >= config.legal_ref_count and not (
        refs.explained and refs.plain_words >= config.legal_words_per_ref * len(refs.refs)
    ):
        score += w.legal_without_explanation
        quoted = "; ".join(_clip(answer[s:e], 60) for s, e in refs.refs[:3])
        reasons.append(
            _reason(
                ReasonCode.legal_without_explanation,
                f"Ссылки на нормы без объяснения ({len(refs.refs)}): {quoted}. "
                "Объясните простыми словами, что они означают для заявителя",
                quoted,
            )
        )

    mine = find.content_lemmas(doc, lex, all_boilerplate)
    news = [d for d in dates if d.text.lower() not in appeal_text.lower()]  # a new date is news
    if len(mine) >= config.copy_min_words and not news:
        similarity = find.similarity(mine, find.content_lemmas(analyze(appeal_text), lex, []), config.copy_min_words)
        if similarity >= config.copy_ratio:
            score += w.copy_of_appeal
            reasons.append(
                _reason(
                    ReasonCode.copy_of_appeal,
                    f"Ответ почти повторяет текст обращения (сходство {similarity:.0%}): «{_clip(answer, 80)}»; "
                    "ответьте по существу: что сделано или будет сделано",
                    answer,
                )
            )

    length = len(" ".join(answer.split()))
    needed = max(config.min_chars, int(config.min_length_ratio * len(" ".join(appeal_text.split()))))
    if length < needed:
        score += w.too_short
        reasons.append(
            _reason(
                ReasonCode.too_short,
                f"Ответ слишком короткий для вопроса: «{_clip(answer, 80)}» — {length} символов при минимуме {needed}",
                answer,
            )
        )

    if personal:
        score += w.personal_data
        for leak in personal:
            reasons.append(
                _reason(
                    ReasonCode.personal_data,
                    f"Персональные данные третьего лица ({leak.kind}): «{leak.text}»; удалите их",
                    leak.text,
                )
            )

    jargon = find.jargon(doc, lex)
    if jargon:
        score += min(w.jargon_cap, w.jargon * len(jargon))
        for abbr in jargon:
            reasons.append(_reason(ReasonCode.jargon, f"Непонятное сокращение «{abbr}» без расшифровки", abbr))

    reasons = _capped(reasons)
    score = round(min(100.0, score), 1)
    if score >= config.reject_at:
        verdict = Verdict.formal
    elif score >= config.review_at:
        verdict = Verdict.doubtful
    else:
        verdict = Verdict.substantive
    return QualityReport(score=score, verdict=verdict, reasons=reasons)
