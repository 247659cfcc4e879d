"""Phones, e-mails and documents: the citizen's contacts, a body's contacts, a third party's data.

Phones are found by `phonenumbers` (region RU). A number belongs to an organisation when the
nearest marker before it in its sentence is an official one («по телефону горячей линии»,
«в диспетчерскую», «регистратуры поликлиники», «МФЦ»), or when it is a free 8-800 line: those
are contacts the citizen may use, and they make the answer concrete. A number whose nearest
marker is a person («соседка из кв. 12», «водитель Сидоров») is a third party's personal
data, and so is any passport or СНИЛС number. The citizen's own contacts are never flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from appeals.moderation.lexicon import Compiled
from appeals.moderation.morph import Doc

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.UNICODE)
_SNILS = re.compile(r"\b\d{3}-\d{3}-\d{3}[\s-]\d{2}\b")
_PASSPORT = re.compile(
    r"(?:серия\s*\d{2}\s?\d{2}\s*,?\s*(?:номер|№)\s*\d{6})|(?:паспорт\w*\D{0,20}\d{2}\s?\d{2}\s?№?\s?\d{6})|"
    r"\b\d{4}\s?№?\s?\d{6}\b",
    re.IGNORECASE | re.UNICODE,
)
_OFFICIAL_MAILBOXES = re.compile(
    r"^(?:info|support|help|office|priem|priemnaya|admin|mail|post|obr|obrashcheniya|kanc|secretary|"
    r"hotline|dispatch|zakaz|noreply|no-reply|contact|pr|press)\b",
    re.IGNORECASE,
)
_SHORT_PHONE = re.compile(r"(?<![\d.\-])\d{1,3}-\d{2}-\d{2}(?![\d\-])")


@dataclass(frozen=True, slots=True)
class Contact:
    start: int
    end: int
    text: str
    kind: str  # "телефон", "e-mail", "паспорт", "СНИЛС"
    official: bool
    key: str | None  # for comparing with the citizen's own contacts


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def own_contact_keys(contacts: Iterable[str]) -> set[str]:
    keys = set()
    for contact in contacts:
        contact = contact.strip().lower()
        if "@" in contact:
            keys.add(contact)
        elif len(_digits(contact)) >= 5:
            keys.add(_digits(contact)[-10:])
    return keys


def _nearest_is_official(doc: Doc, lex: Compiled, pos: int) -> bool | None:
    """Official (True), personal (False), or no marker (None) nearest before `pos` in its sentence."""
    sentence = doc.sentence_at(pos)
    tokens = [t for t in sentence.tokens if t.end <= pos]
    best: tuple[int, bool] | None = None
    for markers, official in ((lex.official_contacts, True), (lex.personal_markers, False)):
        for m in markers.finditer(tokens):
            if best is None or m.char_end > best[0]:
                best = (m.char_end, official)
    if best is None:
        return None
    return best[1]


_MODAL = frozenset("можно следует нужно необходимо".split())
_CALL = frozenset("звонить позвонить обращаться обратиться связаться записаться уточнить узнать".split())


def _citizen_told_to_call(doc: Doc, pos: int) -> bool:
    """«звоните по телефону …», «записаться можно по номеру …»: a number the citizen should use."""
    for token in doc.sentence_at(pos).tokens:
        if token.end > pos:
            break
        if token.info.imperative or token.lemmas & _MODAL or (token.lemmas & _CALL and token.info.pos == "INFN"):
            return True
    return False


def _capitalised_name_before(text: str, pos: int) -> bool:
    """«Сидоров А. В. (тел. …)», «Петровой Н. И., тел. …»: a person's initials just before."""
    before = text[max(0, pos - 40) : pos]
    return re.search(r"[А-ЯЁ][а-яё]+\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.", before) is not None


def find_contacts(doc: Doc, lex: Compiled) -> list[Contact]:
    text = doc.text
    found: list[Contact] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, kind: str, official: bool, key: str | None) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append(Contact(start, end, text[start:end].strip(), kind, official, key))

    for m in _EMAIL.finditer(text):
        address = m.group(0).lower()
        nearest = _nearest_is_official(doc, lex, m.start())
        official = (
            address.endswith(".gov.ru")
            or (_OFFICIAL_MAILBOXES.match(address) is not None and nearest is not False)
            or (nearest is True and not _capitalised_name_before(text, m.start()))
        )
        add(m.start(), m.end(), "e-mail", official, address)
    for m in _SNILS.finditer(text):
        add(m.start(), m.end(), "СНИЛС", False, None)
    for m in _PASSPORT.finditer(text):
        add(m.start(), m.end(), "паспорт", False, None)
    for pm in phonenumbers.PhoneNumberMatcher(text, "RU"):
        digits = _digits(pm.raw_string)
        national = str(pm.number.national_number)
        nearest = _nearest_is_official(doc, lex, pm.start)
        if nearest is None:
            nearest = _citizen_told_to_call(doc, pm.start) or None
        official = national.startswith("800") or (nearest is True and not _capitalised_name_before(text, pm.start))
        add(pm.start, pm.end, "телефон", official, digits[-10:])
    for m in _SHORT_PHONE.finditer(text):  # «тел. 2-00-01»: a city number too short for phonenumbers
        nearest = _nearest_is_official(doc, lex, m.start())
        if nearest is None and "тел" not in text[max(0, m.start() - 12) : m.start()].lower():
            continue
        add(m.start(), m.end(), "телефон", nearest is True, _digits(m.group(0)))
    found.sort(key=lambda c: c.start)
    return found
