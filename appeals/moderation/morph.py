"""Russian text to tokens with lemmas: `razdel` splits, `pymorphy3` lemmatises.

The dictionaries load once per process, on first use (a lazy module-level singleton), so
importing this module costs nothing: the workflow sandbox and the CLIs import the package
without ever loading them. Word analyses are cached; the cache and the analyser are safe to
share between the threads of an activity executor.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import razdel

_lock = threading.RLock()
_analyzer: Any = None


def analyzer() -> Any:
    """The one `pymorphy3.MorphAnalyzer` of this process, loaded on first use."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                import pymorphy3

                _analyzer = pymorphy3.MorphAnalyzer(lang="ru")
    return _analyzer


def normal(word: str) -> str:
    return word.lower().replace("ё", "е")


@dataclass(frozen=True, slots=True)
class WordInfo:
    lemmas: frozenset[str]  # every parse's normal form, «ё» as «е», reflexive verbs also without «-ся»
    lemma: str  # the most likely parse's normal form
    pos: str  # of the most likely parse: NOUN, VERB, PRTS, INFN, ADJF…
    past_perfective: bool  # «заделали», «заделана»: a claim that something is done
    future: bool  # «заделают», «разберёмся», «будет»
    imperative: bool  # «позвоните», «подайте»
    number: bool


_REFLEXIVE = re.compile(r"(?:ся|сь)$")


@lru_cache(maxsize=65536)
def word_info(word: str) -> WordInfo:
    """The analysis of one lower-cased word (cached: answers reuse a small vocabulary)."""
    if any(c.isdigit() for c in word):
        return WordInfo(frozenset({word}), word, "NUMB", False, False, False, True)
    with _lock:  # a cache miss only; the analyser is shared between threads
        parses = analyzer().parse(word)
    lemmas = set()
    for parse in parses:
        lemma = normal(parse.normal_form)
        lemmas.add(lemma)
        if parse.tag.POS in ("VERB", "INFN", "PRTS", "PRTF", "GRND") and _REFLEXIVE.search(lemma):
            lemmas.add(_REFLEXIVE.sub("", lemma))  # «принимается к сведению» = «принимать к сведению»
    best = parses[0]
    tag = best.tag
    pos = str(tag.POS or "")
    past_perfective = any(
        p.tag.aspect == "perf" and p.tag.tense == "past" and p.tag.POS in ("VERB", "PRTS") for p in parses[:2]
    )
    future = tag.tense == "futr"  # the perfective «present» is a future: «заделают», «разберёмся»
    imperative = any(p.tag.mood == "impr" for p in parses[:2]) and "plur" in tag
    return WordInfo(frozenset(lemmas), normal(best.normal_form), pos, past_perfective, future, imperative, False)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    info: WordInfo
    lower: str  # the word lower-cased, «ё» as «е»

    @property
    def lemmas(self) -> frozenset[str]:
        return self.info.lemmas


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    tokens: tuple[Token, ...]  # words and numbers only, no punctuation


@dataclass(frozen=True, slots=True)
class Doc:
    text: str
    sentences: tuple[Sentence, ...]

    @property
    def tokens(self) -> list[Token]:
        return [t for s in self.sentences for t in s.tokens]

    def sentence_at(self, pos: int) -> Sentence:
        for sentence in self.sentences:
            if sentence.start <= pos < sentence.end:
                return sentence
        return self.sentences[-1]

    def span(self, start: int, end: int) -> str:
        return " ".join(self.text[start:end].split())


_WORDLIKE = re.compile(r"\w", re.UNICODE)
_GLUED_COMMA = re.compile(r"^(\d+),$")  # razdel keeps «15,» together before a space


def _tokens(text: str, offset: int) -> list[Token]:
    out = []
    for t in razdel.tokenize(text):
        word, start = t.text, offset + t.start
        glued = _GLUED_COMMA.match(word)
        if glued:
            word = glued.group(1)
        if not _WORDLIKE.search(word):
            continue
        lower = normal(word)
        out.append(Token(word, start, start + len(word), word_info(lower), lower))
    return out


def analyze(text: str) -> Doc:
    """Sentences of word tokens, each with its lemmas; offsets point into `text`."""
    sentences = []
    for s in razdel.sentenize(text):
        tokens = _tokens(s.text, s.start)
        if tokens:
            sentences.append(Sentence(s.start, s.stop, tuple(tokens)))
    if not sentences:
        sentences.append(Sentence(0, len(text), ()))
    return Doc(text, tuple(sentences))
