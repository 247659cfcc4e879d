"""The quality gate against formal answers («отписки»): score an official's answer.

The checker reads the Russian text of an answer to a citizen's appeal and reports which of
the regional moderation criteria it breaks (DESIGN.md, "Moderation criteria from regional
rules"): no substance at all, boilerplate with no action, a confirmed problem or a promise
with no date, work claimed done with no evidence, legal references with no explanation, a
near-copy of the appeal, an answer too short for the question, a third party's personal data,
self-contradiction and jargon. Every reason quotes the words that triggered it.

Words are split by `razdel` and lemmatised by `pymorphy3`, so its patterns (config/
moderation.toml, [lexicon]) are written over lemmas and match every form of a word; phones
are found by `phonenumbers`. Each reason adds its weight to a score capped at 100: at
`reject_at` the answer is clearly formal and goes straight back to the executor; at
`review_at` a ЦУР moderator must look at it.

The code is pure and deterministic: no I/O besides loading the dictionaries once per
process, no clock, no randomness. Importing this package loads nothing (the workflow imports
`Verdict` and `QualityReport` from it).

Modules: `models` (config and report), `morph` (tokens and lemmas), `patterns` (the pattern
language), `lexicon` (the config's patterns compiled), `dates`, `contacts`, `legal`,
`findings` (what the answer says), `checker` (the score).
"""

from __future__ import annotations

from appeals.moderation.checker import check_answer
from appeals.moderation.models import (
    Lexicon,
    ModerationConfig,
    QualityReport,
    Reason,
    ReasonCode,
    Substance,
    Verdict,
    Weights,
)

__all__ = [
    "Lexicon",
    "ModerationConfig",
    "QualityReport",
    "Reason",
    "ReasonCode",
    "Substance",
    "Verdict",
    "Weights",
    "check_answer",
]
