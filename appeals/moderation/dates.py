"""Dates, periods and times in an answer, found over lemmas.

Concrete: «до 15 декабря», «15.12.2026», «в июле 2026 года», «в I квартале 2027 года»,
«весной 2027 года», «на 2027 год», «до конца месяца», «в течение двух недель»,
«через 3 дня», «5 рабочих дней», «в 7:15», «с 9 до 17 часов», «сегодня», «на следующей
неделе», «в тот же день», «по вторникам», «ежедневно».

Vague, and so not a date: «в ближайшее время», «в кратчайшие сроки», «в установленный срок»,
«в летний период», «после выделения финансирования». A date right after «от» dates a
document («постановление от 12.03.2020», «обращение, поступившее 12 марта»): not a commitment,
and it does not count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from appeals.moderation.morph import Doc, Token

MONTHS = frozenset("январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь".split())
_MONTH_ADJ = re.compile(
    r"^(?:январск|февральск|мартовск|апрельск|майск|июньск|июльск|августовск|сентябрьск|"
    r"октябрьск|ноябрьск|декабрьск)"
)
SEASONS = frozenset("весна лето осень зима весной летом осенью зимой".split())
UNITS = frozenset("минута час сутки день неделя месяц".split())
NUMERALS = frozenset(
    "один два три четыре пять шесть семь восемь девять десять пятнадцать двадцать тридцать "
    "полтора несколько пара".split()
)
ORDINALS = frozenset("первый второй третий четвертый".split())
WEEKDAYS = frozenset("понедельник вторник среда четверг пятница суббота воскресенье".split())
REGULAR = frozenset("ежедневно еженедельно ежемесячно круглосуточно".split())
RELATIVE = frozenset("сегодня завтра послезавтра вчера сегодняшний завтрашний послезавтрашний".split())
PARTS_OF_DAY = frozenset("утро вечер обед ночь выходные выходной".split())
PREPOSITIONS = frozenset("в во до с со к по за после на начиная не позднее".split())
EDGES = frozenset("конец начало середина".split())
# «обращение от 12 марта», «поступившее 12 марта»: the date of the paperwork, not of the fix
_RECEIVED = frozenset("поступить зарегистрировать направить датировать".split())


def _paperwork(token: Token) -> bool:
    """«от 12 марта», «поступившее 12 марта», «направленное 12 марта»."""
    return token.lower == "от" or (token.info.pos == "PRTF" and not token.lemmas.isdisjoint(_RECEIVED))


_NEAR = frozenset("этот следующий будущий текущий".split())
_ROMAN_QUARTER = frozenset({"i", "ii", "iii", "iv"})
_NUMERIC_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4}))?$")
_DAY = re.compile(r"^(\d{1,2})(?:[–-](\d{1,2}))?$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_TIME = re.compile(r"(?<![\d.:])([01]?\d|2[0-3]):[0-5]\d(?![\d:])")
_CLAUSE_REFS = frozenset("п пп ст ч пункт статья раздел абз приложение".split())


@dataclass(frozen=True, slots=True)
class Found:
    start: int
    end: int
    text: str


def _has(token: Token, lemmas: frozenset[str]) -> bool:
    return not token.lemmas.isdisjoint(lemmas)


def _is_day(token: Token) -> bool:
    m = _DAY.match(token.text)
    return m is not None and 1 <= int(m.group(1)) <= 31


def _is_year(token: Token) -> bool:
    return _YEAR.match(token.text) is not None


def _is_count(token: Token) -> bool:
    return (token.info.number and not _is_year(token)) or _has(token, NUMERALS) or token.info.pos == "NUMR"


def _numeric_date(tokens: Sequence[Token], i: int) -> bool:
    m = _NUMERIC_DATE.match(tokens[i].text)
    if m is None or not (1 <= int(m.group(1)) <= 31 and 1 <= int(m.group(2)) <= 12):
        return False
    return i == 0 or tokens[i - 1].lower not in _CLAUSE_REFS


def _at(tokens: Sequence[Token], i: int) -> int:
    """The end (exclusive) of a date or period starting at token i, or 0."""
    n = len(tokens)
    t = tokens[i]
    nxt = tokens[i + 1] if i + 1 < n else None
    after = tokens[i + 2] if i + 2 < n else None
    if _numeric_date(tokens, i):
        return i + 1
    if t.info.number and _is_day(t) and nxt is not None and _has(nxt, MONTHS):
        return i + 3 if after is not None and _is_year(after) else i + 2
    if _has(t, MONTHS) or _MONTH_ADJ.match(t.lower):
        if nxt is not None and _is_year(nxt):
            return i + 2
        if i > 0 and (tokens[i - 1].lower in PREPOSITIONS or _has(tokens[i - 1], EDGES)):
            return i + 1
        return 0
    if _has(t, SEASONS) and nxt is not None and _is_year(nxt):
        return i + 2
    if (t.lower in _ROMAN_QUARTER or t.text in "1234" or _has(t, ORDINALS)) and nxt is not None:
        if "квартал" in nxt.lemmas:
            return i + 3 if after is not None and _is_year(after) else i + 2
    if "квартал" in t.lemmas and nxt is not None and _is_year(nxt):
        return i + 2
    if _is_year(t) and nxt is not None and "год" in nxt.lemmas and i > 0 and tokens[i - 1].lower in PREPOSITIONS:
        return i + 2
    if t.lower in ("до", "к") and nxt is not None and _has(nxt, EDGES) and after is not None:
        if _has(after, UNITS | MONTHS | {"год", "квартал", "текущий", "этот", "следующий", "сезон"}) or _is_year(after):
            return i + 3
    if t.lower in ("течение", "через", "за") and nxt is not None:
        j = i + 1
        if _is_count(tokens[j]) and j + 1 < n:
            j += 1
        if j < n and tokens[j].lower in ("рабочих", "календарных", "рабочий", "календарный") and j + 1 < n:
            j += 1
        if _has(tokens[j], UNITS | {"год"}) and (t.lower != "за" or j > i + 1):
            return j + 1
        return 0
    if _is_count(t) and nxt is not None:
        j = i + 1
        if nxt.lower in ("рабочих", "календарных", "рабочий", "календарный") and after is not None:
            j += 1
        if _has(tokens[j], UNITS) or (tokens[j].lower in ("утра", "вечера") and t.info.number):
            return j + 1
        return 0
    if t.lower in RELATIVE or _has(t, RELATIVE | REGULAR):
        return i + 1
    if t.lower in ("к", "до") and nxt is not None and _has(nxt, PARTS_OF_DAY | WEEKDAYS):
        return i + 2  # «к вечеру», «до выходных», «к пятнице»
    if t.lower in ("с", "со") and nxt is not None and nxt.info.number and after is not None and after.lower == "до":
        if i + 3 < n and tokens[i + 3].info.number:
            return i + 4  # «с 8 до 12»
    if t.lower in ("будний", "будни") or (t.lower == "будние" and nxt is not None):
        return i + 1
    if t.lower in ("весной", "летом", "осенью", "зимой") and any(x.info.future for x in tokens):
        return i + 1  # «осенью посадят»: the coming season, in a sentence that promises something
    if _has(t, WEEKDAYS) and i > 0 and tokens[i - 1].lower in ("по", "в", "во", "каждый", "каждую", "с", "до"):
        return i + 1
    if _has(t, _NEAR) and nxt is not None and _has(nxt, UNITS | {"год", "квартал"}) and "день" not in nxt.lemmas:
        return i + 2  # «на следующей неделе», «со следующего месяца», «в этом году»
    if t.lower == "тот" and nxt is not None and nxt.lower == "же" and after is not None:
        if _has(after, frozenset({"день", "вечер", "утро"})):
            return i + 3
    if t.lower in ("каждый", "каждое", "каждую", "раз", "дважды", "трижды") and nxt is not None:
        k = i + 2 if nxt.lower == "в" and after is not None else i + 1
        if _has(tokens[k], UNITS | WEEKDAYS | frozenset({"утро", "вечер"})):
            return k + 1
    return 0


def find_dates(doc: Doc) -> list[Found]:
    found: list[Found] = []
    for sentence in doc.sentences:
        tokens = sentence.tokens
        i = 0
        while i < len(tokens):
            end = _at(tokens, i)
            if end and not any(_paperwork(t) for t in tokens[max(0, i - 3) : i]):
                start_char, end_char = tokens[i].start, tokens[end - 1].end
                found.append(Found(start_char, end_char, doc.span(start_char, end_char)))
                i = end
            else:
                i += 1
    for m in _TIME.finditer(doc.text):
        if not any(f.start <= m.start() < f.end for f in found):
            found.append(Found(m.start(), m.end(), m.group(0)))
    found.sort(key=lambda f: f.start)
    return found
