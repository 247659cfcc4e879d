"""The config's [lexicon] compiled once per loaded config."""

from __future__ import annotations

from dataclasses import dataclass

from appeals.moderation.models import Lexicon, ModerationConfig
from appeals.moderation.morph import normal
from appeals.moderation.patterns import PatternSet


@dataclass(frozen=True)
class Compiled:
    boilerplate: PatternSet
    boilerplate_unless_dated: PatternSet
    confirmed: PatternSet
    later: PatternSet
    reasons: PatternSet
    legal_explanations: PatternSet
    contacts: PatternSet
    official_contacts: PatternSet
    personal_markers: PatternSet
    conditional: frozenset[str]
    work_verbs: frozenset[str]
    units: frozenset[str]
    stop_lemmas: frozenset[str]
    jargon: dict[str, str]


def compile_lexicon(lexicon: Lexicon) -> Compiled:
    return Compiled(
        boilerplate=PatternSet.of(lexicon.boilerplate),
        boilerplate_unless_dated=PatternSet.of(lexicon.boilerplate_unless_dated),
        confirmed=PatternSet.of(lexicon.confirmed),
        later=PatternSet.of(lexicon.later),
        reasons=PatternSet.of(lexicon.reasons),
        legal_explanations=PatternSet.of(lexicon.legal_explanations),
        contacts=PatternSet.of(lexicon.contacts),
        official_contacts=PatternSet.of(lexicon.official_contacts),
        personal_markers=PatternSet.of(lexicon.personal_markers),
        conditional=frozenset(normal(w) for w in lexicon.conditional),
        work_verbs=frozenset(normal(w) for w in lexicon.work_verbs),
        units=frozenset(normal(w) for w in lexicon.units),
        stop_lemmas=frozenset(normal(w) for w in lexicon.stop_lemmas),
        jargon={abbr: normal(lemma) for abbr, lemma in lexicon.jargon.items()},
    )


def compiled(config: ModerationConfig) -> Compiled:
    """The lexicon of `config`, compiled on first use and kept with the config object."""
    found = config._compiled
    if not isinstance(found, Compiled):
        found = compile_lexicon(config.lexicon)
        config._compiled = found
    return found
