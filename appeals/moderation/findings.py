"""What the answer says, found over lemmas: boilerplate, confirmations, promises, work done,
contradictions, figures, causes, instructions, a copy of the appeal, jargon.

Every finder returns spans of the answer (character offsets), so that each reason can quote
the words that triggered it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from appeals.moderation.lexicon import Compiled
from appeals.moderation.morph import Doc, Sentence, Token
from appeals.moderation.patterns import PatternSet

_CLAUSE_BREAK = re.compile(r"[,;:—–()]|\s-\s")
_NEGATION = frozenset({"не", "ни", "нет"})
_AUX = frozenset({"быть", "будет", "будут"})
_MODALS = frozenset("должный должен можно нужно необходимо мочь предстоять планировать".split())


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    text: str
    lemma: str = ""


def _span(doc: Doc, start: int, end: int, lemma: str = "") -> Span:
    return Span(start, end, doc.span(start, end), lemma)


def _conditional(doc: Doc, sentence: Sentence, i: int, lex: Compiled) -> bool:
    """Token i sits in a condition: after «если» in its sentence, or after «когда», «пока»,
    «чтобы», «ли» in its own clause."""
    for j in range(i - 1, -1, -1):
        token = sentence.tokens[j]
        if token.lower == "если":
            return True
        if token.lower in lex.conditional:
            between = doc.text[token.end : sentence.tokens[i].start]
            if not _CLAUSE_BREAK.search(between):
                return True
    return False


def _negated(tokens: Sequence[Token], i: int) -> bool:
    """«не устранено», «не был заменён», «не будет выполнена»."""
    for back in (1, 2):
        if i - back >= 0 and tokens[i - back].lower in _NEGATION:
            return back == 1 or bool(tokens[i - 1].lemmas & _AUX) or tokens[i - 1].info.pos == "ADVB"
    return False


def phrases(doc: Doc, patterns_set: PatternSet) -> list[Span]:
    found = []
    for sentence in doc.sentences:
        for m in patterns_set.finditer(sentence.tokens):
            found.append(_span(doc, m.char_start, m.char_end, m.pattern.source))
    return found


def confirmed(doc: Doc, lex: Compiled) -> list[Span]:
    """A problem confirmed or an action started («выявлено», «включено в план», «выдано
    предписание»), neither negated nor conditional."""
    found = []
    for sentence in doc.sentences:
        for m in lex.confirmed.finditer(sentence.tokens):
            if _negated(sentence.tokens, m.start) or _conditional(doc, sentence, m.start, lex):
                continue
            found.append(_span(doc, m.char_start, m.char_end))
    return found


@dataclass(frozen=True, slots=True)
class Work:
    done: list[Span]  # «заделали», «заделана», «работы выполнены»
    negated: list[Span]  # «не заменена»
    planned: list[Span]  # «будет заменена», «заменят»


def work(doc: Doc, lex: Compiled, exclude: list[Span]) -> Work:
    done: list[Span] = []
    negated: list[Span] = []
    planned: list[Span] = []
    verbs = lex.work_verbs
    for sentence in doc.sentences:
        tokens = sentence.tokens
        for i, token in enumerate(tokens):
            lemmas = token.lemmas & verbs
            if not lemmas or any(s.start <= token.start < s.end for s in exclude):
                continue
            lemma = min(lemmas)
            info = token.info
            if info.future or (i > 0 and tokens[i - 1].lemmas & _AUX and tokens[i - 1].info.future):
                planned.append(_span(doc, token.start, token.end, lemma))
                continue
            if not info.past_perfective:
                continue
            if _negated(tokens, i):
                negated.append(_span(doc, token.start, token.end, lemma))
                continue
            before = tokens[max(0, i - 3) : i]
            if any(t.lemmas & _MODALS or (t.lemmas & _AUX and t.info.future) for t in before):
                planned.append(_span(doc, token.start, token.end, lemma))
                continue
            if _conditional(doc, sentence, i, lex):
                continue
            after = doc.text[token.end : token.end + 8].lstrip(" ,")
            if after.startswith(("что", ":")):
                continue  # «установлено, что…», «проверка установила: …» report facts, not work
            done.append(_span(doc, token.start, token.end, lemma))
    return Work(done, negated, planned)


def promises(doc: Doc, lex: Compiled, exclude: list[Span]) -> list[Span]:
    """Things promised for the future, with the verb quoted («будет отремонтировано»,
    «разберёмся», «устранят»), neither negated nor conditional."""
    found = []
    for sentence in doc.sentences:
        tokens = sentence.tokens
        for i, token in enumerate(tokens):
            info = token.info
            if not info.future or info.imperative or any(s.start <= token.start < s.end for s in exclude):
                continue
            if _negated(tokens, i) or _conditional(doc, sentence, i, lex):
                continue
            end = token.end
            if token.lemmas & _AUX:
                if i + 1 < len(tokens) and tokens[i + 1].info.pos in ("PRTS", "INFN", "ADVB", "PRTF"):
                    nxt = i + 1
                    while nxt + 1 < len(tokens) and tokens[nxt].info.pos == "ADVB":
                        nxt += 1
                    end = tokens[nxt].end
                else:
                    continue  # «будет» as a plain «there will be»
            found.append(_span(doc, token.start, end))
    return found


def definite_noes(doc: Doc, lex: Compiled) -> list[Span]:
    """A definite «no» about the future: «отключать газ не будут», «школу не закроют»."""
    found = []
    for sentence in doc.sentences:
        tokens = sentence.tokens
        for i, token in enumerate(tokens):
            if token.info.future and i > 0 and tokens[i - 1].lower == "не" and not _conditional(doc, sentence, i, lex):
                found.append(_span(doc, tokens[i - 1].start, token.end))
    return found


def quantities(doc: Doc, lex: Compiled) -> list[Span]:
    """A figure followed by a unit, maybe with adjectives between: «300 кв. м», «18 600 рублей»,
    «+16 °C», «2 дополнительных автобуса»."""
    found = []
    for sentence in doc.sentences:
        tokens = sentence.tokens
        for i, token in enumerate(tokens):
            if not token.info.number or (i > 0 and tokens[i - 1].lower in ("№", "n", "кв", "д", "дом", "ст", "п")):
                continue
            j = i + 1
            while j < len(tokens) and j - i <= 2 and tokens[j].info.pos in ("ADJF", "PRTF"):
                j += 1
            if j < len(tokens) and not tokens[j].lemmas.isdisjoint(lex.units):
                found.append(_span(doc, token.start, tokens[j].end))
    return found


def instructions(doc: Doc) -> list[Span]:
    """The citizen is told what to do: «позвоните», «подайте», «принесите»."""
    return [_span(doc, t.start, t.end) for t in doc.tokens if t.info.imperative]


def jargon(doc: Doc, lex: Compiled) -> list[str]:
    words = {t.text for t in doc.tokens}
    lemmas = set().union(*(t.lemmas for t in doc.tokens)) if doc.tokens else set()
    text = doc.text
    found = []
    for abbr, spelled in lex.jargon.items():
        if abbr not in words or spelled in lemmas:
            continue
        if re.search(rf"(?<![А-ЯЁA-Z]){re.escape(abbr)}\s*\(", text):
            continue  # «МКД (многоквартирный дом)»
        found.append(abbr)
    return found


def content_lemmas(doc: Doc, lex: Compiled, exclude: list[Span]) -> list[str]:
    out = []
    for token in doc.tokens:
        if any(s.start <= token.start < s.end for s in exclude):
            continue
        lemma = token.info.lemma
        if lemma in lex.stop_lemmas or (len(lemma) <= 2 and not token.info.number):
            continue
        out.append(lemma)
    return out


def similarity(answer: list[str], appeal: list[str], min_words: int) -> float:
    sa, sq = set(answer), set(appeal)
    if not sa or not sq:
        return 0.0
    jaccard = len(sa & sq) / len(sa | sq)
    containment = len(sa & sq) / len(sa)  # how much of the answer the appeal already said
    sequence = difflib.SequenceMatcher(None, " ".join(answer), " ".join(appeal), autojunk=False).ratio()
    return max(jaccard, sequence, containment if len(sa) >= 2 * min_words else 0.0)
