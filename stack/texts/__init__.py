"""What an official reads in the operator tools, in the official's language.

One dictionary per language — `ru.py` (the default) and `en.py` — holds every header and label of
the SLA report (table, CSV, HTML) and of `appealctl.py`'s output; `catalog.py` lists the keys.
APPEALS_LANGUAGE=ru|en (`Settings.language`) picks one. Error messages stay English; the
notifications are worded in workflows/appeal/texts.py (Russian only).
"""

from __future__ import annotations

from stack.settings import Settings
from stack.texts import en, ru
from stack.texts.catalog import DEFAULT_LANGUAGE, LANGUAGES, Texts

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Texts", "label_width", "texts"]

_BY_LANGUAGE: dict[str, Texts] = {"ru": ru.TEXTS, "en": en.TEXTS}


def texts(language: str | None = None) -> Texts:
    """The texts of `language` ("ru" or "en"); None: the setting, APPEALS_LANGUAGE (default ru)."""
    if language is None:  # read at each call, not at import: the environment may change
        language = Settings().language
    found = _BY_LANGUAGE.get(language)
    if found is None:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    return found


def label_width(*labels: str) -> int:
    """The width labels are padded to in `label  value` lines: 10, or the longest label."""
    return max(10, *(len(label) for label in labels))
