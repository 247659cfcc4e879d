"""Legal references («ст. 12 Федерального закона № 59-ФЗ», «п. 3.2 Правил № 354», «СанПиН …»).

References are a matter of typography, so they are found with regular expressions over the
raw text; whether they are explained («это означает, что…», «поэтому», «обязан») is
found over lemmas with the config's `legal_explanations` patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from appeals.moderation.lexicon import Compiled
from appeals.moderation.morph import Doc

_FLAGS = re.IGNORECASE | re.UNICODE
_LEGAL = re.compile(
    r"(?:\b(?:ст|п|пп|ч|абз)\.\s*\d+(?:\.\d+)*(?:\(\d+\))?|"
    r"\b(?:стать\w+|пункт\w*|подпункт\w*|част\w+)\s+\d+(?:\.\d+)*|"
    r"№\s*\d+(?:[-/][а-яёa-z0-9]+)*|"
    r"\b\d+-ФЗ\b|\bФЗ-\d+\b|"
    r"\b(?:СанПиН|ГОСТ(?:\s+Р)?|СНиП|СП)\s*[\d.\-/]+\d|"
    r"\b(?:Жилищн\w+|Гражданск\w+|Градостроительн\w+|Земельн\w+|Трудов\w+|Бюджетн\w+)\s+кодекс\w*|"
    r"\bКоАП\b|\bЖК\s+РФ\b|\bГК\s+РФ\b)",
    _FLAGS,
)
_LEGAL_PART = re.compile(r"(?:ст|п|пп|ч|абз)\.|стать|пункт|подпункт|част", _FLAGS)
_LEGAL_DOCUMENT = re.compile(
    r"(?:закон|постановлени|приказ|распоряжени|правил|решени|порядк|положени|указ|регламент|"
    r"кодекс|письм|стандарт|контракт|программ)\w*\s+(?:[^\s№]+\s+){0,4}$",
    _FLAGS,
)
_GLUE = 30  # characters between two fragments of one reference («п. 3.2 Постановления № 123»)
_FILLER = frozenset(
    "федеральный закон постановление приказ распоряжение кодекс правило администрация правительство "
    "российский федерация рф от г год в с соответствие согласно руководствоваться на основание положение "
    "требование норма и ст п ч предусмотреть установить регламент порядок край область город "
    "муниципальный округ район решение дума утвердить министерство россия".split()
)


@dataclass(frozen=True, slots=True)
class LegalFinding:
    refs: list[tuple[int, int]]
    explained: bool
    plain_words: int


def find_references(text: str) -> list[tuple[int, int]]:
    refs: list[list[int]] = []
    open_ref = False  # the last fragment was an article or a point, waiting for its document
    for m in _LEGAL.finditer(text):
        if m.group(0).startswith("№") and not _LEGAL_DOCUMENT.search(text, max(0, m.start() - 40), m.start()):
            continue  # «школа № 5», «маршрут № 41»: a number, not a reference
        if refs and open_ref and m.start() - refs[-1][1] <= _GLUE:
            refs[-1][1] = m.end()
        else:
            refs.append([m.start(), m.end()])
        open_ref = _LEGAL_PART.match(m.group(0)) is not None
    return [(s, e) for s, e in refs]


def legal(doc: Doc, lex: Compiled, boilerplate: list[tuple[int, int]]) -> LegalFinding:
    refs = find_references(doc.text)
    if not refs:
        return LegalFinding([], False, 0)
    covered = refs + boilerplate
    plain = 0
    for token in doc.tokens:
        if token.info.number or any(s <= token.start < e for s, e in covered):
            continue
        if token.lemmas.isdisjoint(_FILLER):
            plain += 1
    explained = any(lex.legal_explanations.search(s.tokens) for s in doc.sentences)
    return LegalFinding(refs, explained, plain)
