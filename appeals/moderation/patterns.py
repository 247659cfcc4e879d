"""A small pattern language over lemmas, so that config/moderation.toml holds rules as data.

A pattern is words separated by spaces, matched against consecutive words of one sentence
(punctuation is skipped):

    принять|принимать к сведение     one of the lemmas, then «к», then «сведение»
    рассмотр*                        any lemma starting with «рассмотр»
    обращение ~3 рассмотреть         up to three words of any kind in between
    особый? контроль                 an optional word
    #                                any number

A word matches when any of its lemmas (every parse pymorphy3 gives, «ё» written as «е»)
matches, so «приняли к сведению», «принята к сведению» and «принимается к сведению» all
match `принять|принимать к сведение`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from appeals.moderation.morph import Token, normal

_GAP = re.compile(r"^~(\d)$")
_WORD = re.compile(r"^[а-яa-z0-9-]+\*?$")


@dataclass(frozen=True, slots=True)
class Step:
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    number: bool = False
    optional: bool = False
    gap: int = 0  # > 0: skip up to this many words

    def matches(self, token: Token) -> bool:
        if self.number and token.info.number:
            return True
        lemmas = token.lemmas
        if not self.exact.isdisjoint(lemmas):
            return True
        return any(lemma.startswith(p) for p in self.prefixes for lemma in lemmas)


@dataclass(frozen=True, slots=True)
class Pattern:
    source: str
    steps: tuple[Step, ...]

    def match_at(self, tokens: Sequence[Token], i: int) -> int | None:
        """The end (exclusive) of a match starting at token i, or None."""
        return _match(self.steps, 0, tokens, i)


def _match(steps: tuple[Step, ...], k: int, tokens: Sequence[Token], i: int) -> int | None:
    if k == len(steps):
        return i
    step = steps[k]
    if step.gap:
        for skip in range(step.gap + 1):
            if i + skip > len(tokens):
                break
            end = _match(steps, k + 1, tokens, i + skip)
            if end is not None:
                return end
        return None
    if i < len(tokens) and step.matches(tokens[i]):
        end = _match(steps, k + 1, tokens, i + 1)
        if end is not None:
            return end
    if step.optional:
        return _match(steps, k + 1, tokens, i)
    return None


class PatternError(ValueError):
    pass


def parse(source: str) -> Pattern:
    steps = []
    for part in normal(source).split():
        gap = _GAP.match(part)
        if gap:
            steps.append(Step(gap=int(gap.group(1))))
            continue
        optional = part.endswith("?")
        part = part.rstrip("?")
        exact, prefixes, number = set(), [], False
        for alt in part.split("|"):
            if alt == "#":
                number = True
            elif not _WORD.match(alt):
                raise PatternError(f"pattern «{source}»: «{alt}» is not a lemma, a prefix* or #")
            elif alt.endswith("*"):
                prefixes.append(alt[:-1])
            else:
                exact.add(alt)
        steps.append(Step(frozenset(exact), tuple(prefixes), number, optional))
    if not steps or steps[0].gap or steps[0].optional or steps[-1].gap:
        raise PatternError(f"pattern «{source}»: must start with a word and not end with a gap")
    return Pattern(source, tuple(steps))


@dataclass(frozen=True, slots=True)
class Match:
    pattern: Pattern
    start: int  # token index in the sentence
    end: int  # exclusive
    tokens: tuple[Token, ...]

    @property
    def char_start(self) -> int:
        return self.tokens[self.start].start

    @property
    def char_end(self) -> int:
        return self.tokens[self.end - 1].end


@dataclass
class PatternSet:
    """Patterns indexed by their first word, so a sentence is scanned once."""

    patterns: list[Pattern]
    _by_lemma: dict[str, list[Pattern]] = field(default_factory=dict)
    _other: list[Pattern] = field(default_factory=list)

    def __post_init__(self) -> None:
        for pattern in self.patterns:
            first = pattern.steps[0]
            if first.prefixes or first.number:
                self._other.append(pattern)
            for lemma in first.exact:
                self._by_lemma.setdefault(lemma, []).append(pattern)

    @classmethod
    def of(cls, sources: Iterable[str]) -> PatternSet:
        return cls([parse(s) for s in sources])

    def finditer(self, tokens: Sequence[Token]) -> Iterator[Match]:
        """Non-overlapping matches, leftmost first; at one place the longest wins."""
        i = 0
        while i < len(tokens):
            candidates: list[Pattern] = []
            seen: set[int] = set()
            for lemma in tokens[i].lemmas:
                for pattern in self._by_lemma.get(lemma, ()):
                    if id(pattern) not in seen:
                        seen.add(id(pattern))
                        candidates.append(pattern)
            candidates += self._other
            best: Match | None = None
            for pattern in candidates:
                end = pattern.match_at(tokens, i)
                if end is not None and end > i and (best is None or end > best.end):
                    best = Match(pattern, i, end, tuple(tokens))
            if best is None:
                i += 1
            else:
                yield best
                i = best.end

    def search(self, tokens: Sequence[Token]) -> Match | None:
        return next(self.finditer(tokens), None)
