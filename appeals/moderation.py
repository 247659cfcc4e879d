"""The quality gate against formal answers («отписки»): score an official's answer.

The checker reads the Russian text of an answer to a citizen's appeal and reports which of
the regional moderation criteria it breaks (DESIGN.md, "Moderation criteria from regional
rules"): boilerplate with no action, a confirmed problem with no date, work claimed done with
no evidence, legal references with no explanation, a near-copy of the appeal, an answer too
short for the question, a third party's personal data, self-contradiction and jargon.

Each reason found adds its weight (config/moderation.toml) to a score capped at 100. At
`reject_at` the answer is clearly formal and goes straight back to the executor; at
`review_at` a ЦУР moderator must look at it. The code is pure and deterministic: no I/O, no
clock, no randomness, so a workflow may call it directly.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import Field, model_validator

from appeals.models import Model

_FLAGS = re.IGNORECASE | re.UNICODE
_W = r"[а-яёa-z0-9-]+"  # one word
_GAP = rf"(?:{_W}[\s,]+){{0,3}}"  # up to three words in between


class ReasonCode(StrEnum):
    boilerplate = "boilerplate"
    no_date = "no_date"
    no_evidence = "no_evidence"
    legal_without_explanation = "legal_without_explanation"
    copy_of_appeal = "copy_of_appeal"
    too_short = "too_short"
    personal_data = "personal_data"
    contradiction = "contradiction"
    jargon = "jargon"


class Verdict(StrEnum):
    formal = "formal"  # score >= reject_at: back to the executor without a moderator
    doubtful = "doubtful"  # score >= review_at: a moderator must look
    substantive = "substantive"


class Weights(Model):
    """Points each reason adds to the score (0..100)."""

    boilerplate: float = Field(30, ge=0, le=100, description="The first boilerplate phrase")
    boilerplate_extra: float = Field(15, ge=0, le=100, description="Each further boilerplate phrase")
    boilerplate_cap: float = Field(60, ge=0, le=100)
    no_action: float = Field(
        20,
        ge=0,
        le=100,
        description="Added once to boilerplate or unexplained references when the answer names "
        "no date and claims no work done",
    )
    no_date: float = Field(60, ge=0, le=100)
    no_evidence: float = Field(40, ge=0, le=100)
    legal_without_explanation: float = Field(40, ge=0, le=100)
    copy_of_appeal: float = Field(60, ge=0, le=100)
    too_short: float = Field(30, ge=0, le=100)
    personal_data: float = Field(60, ge=0, le=100)
    contradiction: float = Field(35, ge=0, le=100)
    jargon: float = Field(10, ge=0, le=100, description="Each unexplained abbreviation")
    jargon_cap: float = Field(20, ge=0, le=100)


class ModerationConfig(Model):
    reject_at: float = Field(60, gt=0, le=100, description="Clearly formal: straight back")
    review_at: float = Field(30, gt=0, le=100, description="A moderator must look")
    weights: Weights = Weights()
    boilerplate_with_date_factor: float = Field(
        0.5, ge=0, le=1, description="Boilerplate counts less when the answer names a concrete date"
    )
    min_chars: int = Field(100, ge=0, description="Shorter answers are too short whatever the appeal")
    min_length_ratio: float = Field(0.3, ge=0, le=10, description="Minimum answer/appeal length ratio")
    copy_ratio: float = Field(0.6, gt=0, le=1, description="Similarity to the appeal that is a copy")
    copy_min_words: int = Field(4, ge=1, description="Answers with fewer content words are not compared")
    legal_ref_count: int = Field(2, ge=1, description="This many references need an explanation")
    legal_words_per_ref: int = Field(12, ge=0, description="Plain words needed per legal reference")

    @model_validator(mode="after")
    def _ordered(self) -> ModerationConfig:
        if self.review_at > self.reject_at:
            raise ValueError("review_at must not exceed reject_at")
        return self


class Reason(Model):
    code: ReasonCode
    message: str = Field(min_length=1, description="For the executor, in Russian")
    fragment: str = Field("", description="The matched text, empty when the whole answer is meant")


class QualityReport(Model):
    score: float = Field(ge=0, le=100)
    verdict: Verdict
    reasons: list[Reason]

    @property
    def codes(self) -> set[ReasonCode]:
        return {r.code for r in self.reasons}


# --- dates and deadlines -------------------------------------------------------------------

_MONTHS_GEN = r"(?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
_MONTHS_ANY = r"(?:январ|феврал|март|апрел|ма[йея]|июн|июл|август|сентябр|октябр|ноябр|декабр)[а-яё]*"
_DATE_PATTERNS = [
    r"(?<![\d./])\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})(?![\d/-])",  # 15.12.2026
    rf"\b\d{{1,2}}\s+{_MONTHS_GEN}\b",  # 20 декабря (2026 года)
    rf"\b{_MONTHS_ANY}\s+\d{{4}}\b",  # в декабре 2026 года, до конца мая 2026
    r"\bв\s+течение\s+(?:\d+|одного|двух|трех|трёх|пяти|десяти|суток|недели|месяца|часа)",
    r"\b(?:[1-4IV]{1,3}|перв\w+|втор\w+|трет\w+|четверт\w+)\s*(?:-?[а-я]{1,3}\s+)?квартал\w*\s+\d{4}",
    r"\bдо\s+конца\s+(?:\d{4}\s+года|недели|месяца|текущей\s+недели|текущего\s+месяца)",
    r"\b(?:сегодня|завтра|послезавтра)\b",
    r"\bчерез\s+(?:\d+|один|два|две|три|пять|неделю|месяц)\s*(?:дн|день|недел|месяц|час|суток)?",
    r"\b(?:до|к|не\s+позднее)\s+\d{1,2}(?:\.\d{1,2})?\b",
    r"\b\d{1,2}\s*[-–]\s*\d{1,2}\s+" + _MONTHS_GEN,  # 10–12 декабря
]
_DATE = re.compile("|".join(f"(?:{p})" for p in _DATE_PATTERNS), _FLAGS)


def _has_date(text: str) -> bool:
    return _DATE.search(text) is not None


# --- boilerplate ---------------------------------------------------------------------------

_BOILERPLATE = [
    rf"(?:ваше\s+)?обращени\w*\s+{_GAP}рассмотрен\w*",
    r"рассмотрел\w*\s+(?:ваше\s+)?обращени\w*",
    r"(?:информаци\w+|сведени\w+)?\s*принят\w*\s+к\s+сведению",
    r"(?:будет|будут)\s+(?:\w+\s+)?рассмотрен\w*\s+(?:вопрос|возможност)\w*",
    rf"вопрос\w*\s+{_GAP}(?:будет|будут)\s+(?:\w+\s+)?рассмотрен\w*",
    r"в\s+рамках\s+(?:своей\s+|имеющейся\s+)?компетенци\w*",
    rf"(?:направлен|доведен|передан|переадресован)\w*\s+{_GAP}для\s+(?:рассмотрения|принятия\s+(?:\w+\s+)?мер|сведения|исполнения)",
    r"обращени\w*\s+(?:\w+\s+)?(?:направлен|переадресован|передан)\w*",
    r"(?:принять|принятия|принимаются)\s+(?:все\s+)?(?:(?:необходим|исчерпывающ|соответствующ|возможн)\w+\s+)?мер\w*",
    r"в\s+пределах\s+(?:(?:доведенн|доведённ|выделенн|имеющ|утвержденн|утверждённ)\w+\s+)?(?:лимит|бюджетн|средств|ассигновани)\w*",
    r"указан\w*\s+на\s+(?:необходимость|недопустимость)",
    r"внимательно\s+(?:изучил\w*|рассмотрел\w*|изучен\w*|рассмотрен\w*)",
    r"в\s+полном\s+объ[её]ме",
    r"после\s+(?:разработки|получения|выделения|согласования|поступления|утверждения|проведения\s+торгов)\w*",
    r"(?:о\s+результатах|дополнительно)\s+(?:\w+\s+){0,2}(?:будет\s+)?(?:сообщено|сообщим|проинформир\w+)",
    r"по\s+мере\s+(?:возможност|поступлени|финансировани|выделени)\w*",
    r"при\s+(?:наличии|поступлении|выделении)\s+(?:\w+\s+)?(?:финансировани|средств|возможност|лимит)\w*",
    r"в\s+случае\s+выделения\s+\w+",
    r"взят\w*\s+на\s+(?:особый\s+)?контроль",
    r"(?:находит\w*|держ\w+|оста[её]тся|стоит)\s+на\s+(?:особом\s+|постоянном\s+)?контроле",
    r"(?:будут|будет)\s+приняты?\s+(?:\w+\s+)?меры",
    r"приняты\s+(?:необходимые|исчерпывающие|соответствующие|все\s+возможные)\s+меры",
    r"даны\s+(?:соответствующие\s+|необходимые\s+)?(?:поручения|указания)",
    r"проведена\s+разъяснительная\s+работа",
    r"работа\s+(?:в\s+данном\s+направлении\s+)?(?:будет\s+продолжена|продолжается|ведется|ведётся)",
    r"в\s+установленном\s+(?:законом\s+)?порядке",
    r"(?:будет|будут)\s+(?:учтен\w*|учтён\w*)\s+при\s+(?:формировании|планировании)",
]
_BOILERPLATE_RE = [re.compile(p, _FLAGS) for p in _BOILERPLATE]
_PLANNED = re.compile(r"в\s+плановом\s+порядке", _FLAGS)

# --- confirmation without a date, claims of work done ------------------------------------

_CONFIRMED = re.compile(
    r"(?:подтвердил\w*|подтвержд\w+|выявлен\w*|выявил\w*|"
    r"(?:будет|будут)\s+(?:\w+\s+)?(?:устранен\w*|выполнен\w*|отремонтирован\w*|заменен\w*|вывезен\w*|"
    r"восстановлен\w*|проведен\w*|организован\w*|убран\w*|очищен\w*)|"
    r"(?:включен\w*|внесен\w*)\s+в\s+(?:план|график|перечень|программ)\w*|"
    r"планиру\w+\s+(?:\w+\s+)?(?:выполн|провест|отремонтир|замен|устран|установ)\w*)",
    _FLAGS,
)
_DONE_STEMS = (
    r"выполнен|устранен|устранён|вывезен|отремонтирован|заверш[её]н|восстановлен|очищен|убран|"
    r"заменен|заменён|ликвидирован|засыпан|заделан|возобновлен|возобновлён|откачан|подключен|"
    r"подключён|установлен|покрашен|спилен|демонтирован|обработан|отсыпан"
)
_DONE = re.compile(
    rf"\b(?P<stem>{_DONE_STEMS})[аоы]?\b(?!,?\s+что)|"
    r"\b(?P<verb>выполнил|устранил|вывезл|отремонтировал|заменил|очистил|убрал|восстановил|заделал|"
    r"засыпал|завершил|установил|покрасил|спилил|демонтировал)(?:и|а|о)?\b",
    _FLAGS,
)
_DONE_BLOCKERS = re.compile(
    r"(?:\bне|\bбудет|\bбудут|\bпланиру\w+|\bпредстоит|\bдолжн\w*|\bмогут|\bможет|\bнужно|\bнеобходимо|"
    r"\bбыть|\bбы|\bесли|\bкогда|\bпосле\s+того\s+как)\s+(?:[а-яё]+\s+)?$",
    _FLAGS,
)
_NEGATED_BEFORE = re.compile(r"\bне\s+(?:[а-яё]+\s+)?$", _FLAGS)
_LATER = re.compile(r"\b(?:позднее|позже|в\s+дальнейшем)\b", _FLAGS)
_DONE_WORKS = re.compile(r"работы\s+(?:(?!будут\b|не\b)[а-яё]+\s+)?(?:завершены|окончены|выполнены|проведены)", _FLAGS)

# --- legal references ----------------------------------------------------------------------

_LEGAL = re.compile(
    r"(?:\b(?:ст|п|пп|ч|абз)\.\s*\d+(?:\.\d+)*|"
    r"\b(?:стать\w+|пункт\w*|подпункт\w*|част\w+)\s+\d+(?:\.\d+)*|"
    r"№\s*\d+(?:[-/][а-яёa-z0-9]+)*|"
    r"\b\d+-ФЗ\b|\bФЗ-\d+\b|"
    r"\b(?:СанПиН|ГОСТ|СНиП|СП)\s*[\d.\-/]+\d)",
    _FLAGS,
)
_LEGAL_PART = re.compile(r"(?:ст|п|пп|ч|абз)\.|стать|пункт|подпункт|част", _FLAGS)
_LEGAL_DOCUMENT = re.compile(
    r"(?:закон|постановлени|приказ|распоряжени|правил|решени|порядк|положени|указ|регламент|"
    r"кодекс|письм|стандарт)\w*\s+(?:[^\s№]+\s+){0,4}$",
    _FLAGS,
)
_LEGAL_GLUE = 30  # characters between two fragments of one reference («п. 3.2 Постановления № 123»)
_LEGAL_FILLER = re.compile(
    r"\b(?:федеральн\w+|закон\w*|постановлени\w+|приказ\w*|распоряжени\w+|кодекс\w*|правил\w*|"
    r"администраци\w+|правительств\w+|российской|федерации|рф|от|г\.|года|в|с|соответстви\w+|"
    r"согласно|руководствуясь|на|основании|положени\w+|требовани\w+|норм\w+|и|№|ст|п|ч|"
    r"предусмотрен\w*|установлен\w*|регламент\w*|порядк\w+|края|области|города|муниципального|"
    r"округа|района|решени\w+|думы)\b",
    _FLAGS,
)
_EXPLANATION = re.compile(
    r"(?:это\s+означает|это\s+значит|то\s+есть|т\.\s*е\.|иными\s+словами|проще\s+говоря|"
    r"другими\s+словами|по\s+этой\s+норме|эта\s+норма|этот\s+закон|этот\s+пункт|эта\s+статья|"
    r"означает,?\s+что|предусматрива\w+,?\s+что|устанавлива\w+,?\s+что|обязыва\w+|поэтому|"
    r"по\s+закону\s+\w+\s+обязан|значит,)",
    _FLAGS,
)

# --- personal data -------------------------------------------------------------------------

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", _FLAGS)
_SNILS = re.compile(r"\b\d{3}-\d{3}-\d{3}[\s-]\d{2}\b")
_PASSPORT = re.compile(
    r"(?:серия\s*\d{2}\s?\d{2}\s*,?\s*(?:номер|№)\s*\d{6})|(?:паспорт\w*\D{0,20}\d{2}\s?\d{2}\s?№?\s?\d{6})|"
    r"\b\d{4}\s?№?\s?\d{6}\b",
    _FLAGS,
)
_PHONE = re.compile(
    r"(?<![\d.])(?:\+7|8|7)[\s(-]*\d{3,5}[\s)-]*\d{1,3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)|"
    r"(?<![\d.\-])\d{2,3}-\d{2}-\d{2}(?![\d\-])",
)
# A number next to one of these words belongs to an organisation, not to a person.
_OFFICIAL_CONTEXT = re.compile(
    r"(?:диспетчер|горяч\w+\s+лини|справочн|приемн|приёмн|дежурн|call|контакт-центр|регистратур|"
    r"колл-центр|канцеляри|единый\s+номер|телефон\s+доверия|телефону\s+отдела|отдела|управления|"
    r"администрации|учреждения|школы|поликлиники|больницы|предприятия|компании|ведомства)",
    _FLAGS,
)

# --- jargon --------------------------------------------------------------------------------

# Abbreviations a citizen may not know, each with the stem of its spelled-out form.
_JARGON = {
    "МКД": r"многоквартирн",
    "ТКО": r"тверд\w*\s+коммунальн",
    "КГМ": r"крупногабарит",
    "КГО": r"крупногабарит",
    "ОДПУ": r"общедомов\w*\s+прибор",
    "ИТП": r"индивидуальн\w*\s+теплов",
    "ЦТП": r"центральн\w*\s+теплов",
    "ПСД": r"проектно-сметн",
    "ОДН": r"общедомов\w*\s+нужд",
    "ВДГО": r"внутридомов\w*\s+газов",
    "УДС": r"улично-дорожн",
    "ПГМ": r"противогололедн|песчано-соляной",
    "ППР": r"планово-предупредительн|проект\w*\s+производства",
    "СМР": r"строительно-монтажн",
    "НМЦК": r"начальн\w*\s+\(?максимальн",
    "ФАП": r"фельдшерско-акушерск",
    "ЦРБ": r"центральн\w*\s+районн",
    "ЖКХ": r"жилищно-коммунальн",
    "УК": r"управляющ\w*\s+компани|управляющ\w*\s+организаци",
    "ТП": r"трансформаторн",
    "КЛ": r"кабельн\w*\s+лини",
}
_JARGON_RE = {abbr: re.compile(rf"(?<![А-ЯЁA-Z]){abbr}(?![А-ЯЁA-Z])(?P<paren>\s*\()?") for abbr in _JARGON}

# --- tokens for the copy check -------------------------------------------------------------

_WORD = re.compile(r"[а-яёa-z0-9]+", _FLAGS)
_STOP = frozenset(
    "и в во не на с со по к ко о об от до из за для что как это то так же ли бы а но или у при "
    "ваш ваше вашего вашему вашим вашей ваши вашу вас вам вы мы нас нам наш сообщаем информируем "
    "уведомляем доводим сведения обращение обращения обращению обращении вопрос вопросу вопроса "
    "ул дом д г уважаемый уважаемая уже очень просим прошу информация наличия факт".split()
)


def _content_tokens(text: str) -> list[str]:
    words = (w.lower().replace("ё", "е") for w in _WORD.findall(text))
    return [w[:5] for w in words if w not in _STOP and (len(w) > 2 or w.isdigit())]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _own_contact_keys(contacts: Iterable[str]) -> set[str]:
    keys = set()
    for contact in contacts:
        contact = contact.strip().lower()
        if "@" in contact:
            keys.add(contact)
        elif len(_digits(contact)) >= 5:
            keys.add(_digits(contact)[-10:])
    return keys


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the checks ----------------------------------------------------------------------------


def _boilerplate(answer: str, has_date: bool) -> list[Reason]:
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _BOILERPLATE_RE:
        for m in pattern.finditer(answer):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append(m.span())
            found.append((m.start(), m.group(0).strip()))
    for m in _PLANNED.finditer(answer):
        sentence = _sentence_around(answer, m.start())
        if not _has_date(sentence):
            found.append((m.start(), m.group(0)))
    found.sort()
    return [
        Reason(
            code=ReasonCode.boilerplate,
            message=f"Шаблонная фраза без действий: «{_clip(text)}»"
            + ("" if has_date else "; укажите, что именно сделано или будет сделано и когда"),
            fragment=_clip(text),
        )
        for _, text in found
    ]


_SENTENCE_END = re.compile(r"[.!?…]+(?=\s+[А-ЯЁA-Z«\"(]|\s*$)|\n")
_ABBREVIATIONS = frozenset("ул д г ст п пп ч им пр кв корп тел т е руб м см км шт".split())
_LAST_WORD = re.compile(r"(\w+)$")


def _sentence_ends(text: str) -> list[int]:
    ends = []
    for m in _SENTENCE_END.finditer(text):
        word = _LAST_WORD.search(text, 0, m.start())
        if m.group(0).startswith(".") and word and word.group(1).lower() in _ABBREVIATIONS:
            continue
        ends.append(m.end())
    return ends


def _sentence_around(text: str, pos: int) -> str:
    start = 0
    for end in _sentence_ends(text):
        if end <= pos:
            start = end
        else:
            return text[start:end]
    return text[start:]


def _done_claims(answer: str) -> tuple[list[re.Match[str]], list[re.Match[str]]]:
    """Claims that work is done, and the same verbs negated or put off ("не устранено")."""
    done: list[re.Match[str]] = []
    negated: list[re.Match[str]] = []
    for m in _DONE.finditer(answer):
        before = answer[max(0, m.start() - 40) : m.start()]
        if _NEGATED_BEFORE.search(before):
            negated.append(m)
        elif not _DONE_BLOCKERS.search(before):
            done.append(m)
    for m in _DONE_WORKS.finditer(answer):
        before = answer[max(0, m.start() - 40) : m.start()]
        if not _DONE_BLOCKERS.search(before) and not any(d.start() >= m.start() for d in done):
            done.append(m)
    return done, negated


def _stem(match: re.Match[str]) -> str:
    word = match.group(0).lower().replace("ё", "е")
    return word[:6]


def _legal(answer: str, config: ModerationConfig) -> list[Reason]:
    refs: list[list[int]] = []
    open_ref = False  # the last fragment was an article or a point, waiting for its document
    for m in _LEGAL.finditer(answer):
        if m.group(0).startswith("№") and not _LEGAL_DOCUMENT.search(answer, max(0, m.start() - 40), m.start()):
            continue  # «школа № 5», «маршрут № 41»: a number, not a reference
        if refs and open_ref and m.start() - refs[-1][1] <= _LEGAL_GLUE:
            refs[-1][1] = m.end()
        else:
            refs.append([m.start(), m.end()])
        open_ref = _LEGAL_PART.match(m.group(0)) is not None
    if len(refs) < config.legal_ref_count:
        return []
    plain = answer
    for start, end in reversed(refs):
        plain = plain[:start] + " " + plain[end:]
    for pattern in _BOILERPLATE_RE:
        plain = pattern.sub(" ", plain)
    plain = _LEGAL_FILLER.sub(" ", plain)
    plain_words = len([w for w in _WORD.findall(plain) if not w.isdigit()])
    explained = _EXPLANATION.search(answer) is not None
    if explained and plain_words >= config.legal_words_per_ref * len(refs):
        return []
    quoted = "; ".join(_clip(answer[s:e], 60) for s, e in refs[:3])
    return [
        Reason(
            code=ReasonCode.legal_without_explanation,
            message=f"Ссылки на нормы без объяснения ({len(refs)}): {quoted}. "
            "Объясните простыми словами, что они означают для заявителя",
            fragment=quoted,
        )
    ]


def _copy(answer: str, appeal: str, config: ModerationConfig) -> list[Reason]:
    for pattern in _BOILERPLATE_RE:  # the phrases themselves are not an answer
        answer = pattern.sub(" ", answer)
    a, q = _content_tokens(answer), _content_tokens(appeal)
    if len(a) < config.copy_min_words or not q:
        return []
    sa, sq = set(a), set(q)
    jaccard = len(sa & sq) / len(sa | sq)
    containment = len(sa & sq) / len(sa)  # how much of the answer the appeal already said
    sequence = difflib.SequenceMatcher(None, " ".join(a), " ".join(q), autojunk=False).ratio()
    similarity = max(jaccard, sequence, containment if len(sa) >= 2 * config.copy_min_words else 0.0)
    if similarity < config.copy_ratio:
        return []
    return [
        Reason(
            code=ReasonCode.copy_of_appeal,
            message=f"Ответ почти повторяет текст обращения (сходство {similarity:.0%}); "
            "ответьте по существу: что сделано или будет сделано",
            fragment=_clip(answer, 80),
        )
    ]


def _too_short(answer: str, appeal: str, config: ModerationConfig) -> list[Reason]:
    length = len(" ".join(answer.split()))
    needed = max(config.min_chars, int(config.min_length_ratio * len(" ".join(appeal.split()))))
    if length >= needed:
        return []
    return [
        Reason(
            code=ReasonCode.too_short,
            message=f"Ответ слишком короткий для вопроса: {length} символов при минимуме {needed}",
            fragment=_clip(answer, 80),
        )
    ]


def _personal_data(answer: str, citizen_contacts: list[str]) -> list[Reason]:
    own = _own_contact_keys(citizen_contacts)
    reasons: list[Reason] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], kind: str, key: str | None) -> None:
        if any(m.start() < end and start < m.end() for start, end in taken):
            return
        taken.append(m.span())
        if key is not None and key in own:
            return
        reasons.append(
            Reason(
                code=ReasonCode.personal_data,
                message=f"Персональные данные третьего лица ({kind}): «{m.group(0).strip()}»; удалите их",
                fragment=m.group(0).strip(),
            )
        )

    for m in _EMAIL.finditer(answer):
        before = answer[max(0, m.start() - 60) : m.start()]
        if _OFFICIAL_CONTEXT.search(before) or m.group(0).lower().endswith(".gov.ru"):
            taken.append(m.span())
            continue
        add(m, "e-mail", m.group(0).lower())
    for m in _SNILS.finditer(answer):
        add(m, "СНИЛС", None)
    for m in _PASSPORT.finditer(answer):
        add(m, "паспорт", None)
    for m in _PHONE.finditer(answer):
        before = answer[max(0, m.start() - 60) : m.start()]
        if _OFFICIAL_CONTEXT.search(before):
            taken.append(m.span())
            continue
        add(m, "телефон", _digits(m.group(0))[-10:])
    return reasons


def _jargon(answer: str) -> list[Reason]:
    reasons = []
    for abbr, pattern in _JARGON_RE.items():
        m = pattern.search(answer)
        if m is None or m.group("paren") or re.search(_JARGON[abbr], answer, _FLAGS):
            continue
        reasons.append(
            Reason(
                code=ReasonCode.jargon,
                message=f"Непонятное сокращение «{abbr}» без расшифровки",
                fragment=abbr,
            )
        )
    return reasons


_EMPTY_WITHOUT_ACTION = (ReasonCode.boilerplate, ReasonCode.legal_without_explanation)


def check_answer(
    answer: str,
    *,
    appeal_text: str,
    attachments: int,
    citizen_contacts: list[str],
    config: ModerationConfig,
) -> QualityReport:
    """Score `answer` against the moderation criteria; the higher, the more formal."""
    w = config.weights
    answer = answer.strip()
    has_date = _has_date(answer)
    reasons: list[Reason] = []
    score = 0.0

    boilerplate = _boilerplate(answer, has_date)
    if boilerplate:
        points = min(w.boilerplate_cap, w.boilerplate + w.boilerplate_extra * (len(boilerplate) - 1))
        score += points * (config.boilerplate_with_date_factor if has_date else 1.0)
        reasons += boilerplate

    done, negated = _done_claims(answer)
    confirmed = next(
        (
            m
            for m in _CONFIRMED.finditer(answer)
            if not _NEGATED_BEFORE.search(answer[max(0, m.start() - 40) : m.start()])
        ),
        None,
    )
    solved = bool(done) and attachments > 0  # confirmed and already fixed, with proof
    if confirmed and not has_date and not solved:
        score += w.no_date
        reasons.append(
            Reason(
                code=ReasonCode.no_date,
                message=f"Проблема подтверждена («{_clip(confirmed.group(0))}»), "
                "но не указан срок её решения: назовите дату",
                fragment=_clip(confirmed.group(0)),
            )
        )

    if done and attachments <= 0:
        score += w.no_evidence
        fragment = _clip(_sentence_around(answer, done[0].start()).strip())
        reasons.append(
            Reason(
                code=ReasonCode.no_evidence,
                message=f"Работы заявлены выполненными («{fragment}»), но не приложены фото или акт",
                fragment=fragment,
            )
        )

    done_stems = {_stem(m) for m in done}
    clash = [m for m in negated if _stem(m) in done_stems]
    later = _LATER.search(answer) if done else None
    if (clash or later) and not has_date:
        score += w.contradiction
        other = clash[0] if clash else later
        assert other is not None
        fragment = _clip(_sentence_around(answer, other.start()).strip())
        reasons.append(
            Reason(
                code=ReasonCode.contradiction,
                message=f"Ответ противоречит сам себе: работы названы выполненными, но «{fragment}»",
                fragment=fragment,
            )
        )

    legal = _legal(answer, config)
    if legal:
        score += w.legal_without_explanation
        reasons += legal

    copy = _copy(answer, appeal_text, config)
    if copy:
        score += w.copy_of_appeal
        reasons += copy

    short = _too_short(answer, appeal_text, config)
    if short:
        score += w.too_short
        reasons += short

    personal = _personal_data(answer, citizen_contacts)
    if personal:
        score += w.personal_data
        reasons += personal

    jargon = _jargon(answer)
    if jargon:
        score += min(w.jargon_cap, w.jargon * len(jargon))
        reasons += jargon

    if not has_date and not done:
        empty = [r for r in reasons if r.code in _EMPTY_WITHOUT_ACTION]
        if empty:
            score += w.no_action
            first = empty[0]
            first.message += "; в ответе нет ни срока, ни выполненных действий"

    score = round(min(100.0, score), 1)
    if score >= config.reject_at:
        verdict = Verdict.formal
    elif score >= config.review_at:
        verdict = Verdict.doubtful
    else:
        verdict = Verdict.substantive
    return QualityReport(score=score, verdict=verdict, reasons=reasons)
