"""The checker's settings (config/moderation.toml) and its report.

`QualityReport` is what the workflow pins in its history (the result of the `check_answer`
local activity), so its shape only grows: codes are added, never renamed or removed, and new
fields come with defaults.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, PrivateAttr, model_validator

from appeals.models import Model


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
    no_substance = "no_substance"  # no date, no work done with proof, no figures, no contact, no reason


class Verdict(StrEnum):
    formal = "formal"  # score >= reject_at: back to the executor without a moderator
    doubtful = "doubtful"  # score >= review_at: a moderator must look
    substantive = "substantive"


class Weights(Model):
    """Points each reason adds to the score (0..100)."""

    boilerplate: float = Field(30, ge=0, le=100, description="The first boilerplate phrase")
    boilerplate_extra: float = Field(15, ge=0, le=100, description="Each further boilerplate phrase")
    boilerplate_cap: float = Field(60, ge=0, le=100)
    no_substance: float = Field(60, ge=0, le=100, description="Nothing concrete in the whole answer")
    no_date: float = Field(60, ge=0, le=100, description="A confirmed problem or a started action with no date")
    vague_promise: float = Field(40, ge=0, le=100, description="Something promised («будет сделано») with no date")
    no_evidence: float = Field(40, ge=0, le=100)
    legal_without_explanation: float = Field(40, ge=0, le=100)
    copy_of_appeal: float = Field(60, ge=0, le=100)
    too_short: float = Field(15, ge=0, le=100)
    personal_data: float = Field(60, ge=0, le=100)
    contradiction: float = Field(35, ge=0, le=100)
    jargon: float = Field(10, ge=0, le=100, description="Each unexplained abbreviation")
    jargon_cap: float = Field(20, ge=0, le=100)


class Substance(Model):
    """What makes an answer concrete, in points; below `needed` the answer has no substance."""

    needed: float = Field(2, ge=0, description="Points an answer needs to count as concrete")
    date: float = Field(2, ge=0, description="Each date, period or time («до 15 декабря», «в течение 10 дней»)")
    date_cap: float = Field(4, ge=0)
    done_with_evidence: float = Field(2, ge=0, description="Work claimed done with a photo or act attached")
    quantity: float = Field(1, ge=0, description="Each figure with a unit («300 кв. м», «18 600 рублей»)")
    quantity_cap: float = Field(2, ge=0)
    contact: float = Field(1, ge=0, description="A phone, e-mail, office or website the citizen can use")
    reason: float = Field(1, ge=0, description="An explained cause («потому что», «из-за», «это значит»)")
    definite_no: float = Field(1, ge=0, description="A definite «no» about the future («отключать не будут»)")
    instruction: float = Field(0.5, ge=0, description="The citizen is told what to do («позвоните», «подайте»)")


class Lexicon(Model):
    """Patterns over lemmas (see the header of config/moderation.toml for their syntax)."""

    boilerplate: list[str] = Field(default_factory=list, description="Phrases with no action in them")
    boilerplate_unless_dated: list[str] = Field(
        default_factory=list, description="Timing phrases that are boilerplate only in a sentence with no date"
    )
    confirmed: list[str] = Field(
        default_factory=list, description="A problem confirmed or an action started: needs a date"
    )
    conditional: list[str] = Field(
        default_factory=list, description="Lemmas that make the rest of a sentence a condition («если»)"
    )
    work_verbs: list[str] = Field(default_factory=list, description="Verbs whose past form claims work done")
    later: list[str] = Field(default_factory=list, description="«Done, but later»: a contradiction without a date")
    reasons: list[str] = Field(default_factory=list, description="Explained causes")
    legal_explanations: list[str] = Field(default_factory=list, description="What a legal reference means")
    units: list[str] = Field(default_factory=list, description="Lemmas of units after a figure")
    contacts: list[str] = Field(default_factory=list, description="Where a citizen can go or write")
    official_contacts: list[str] = Field(
        default_factory=list, description="Before a phone or e-mail: it belongs to an organisation"
    )
    personal_markers: list[str] = Field(
        default_factory=list, description="Before a phone or e-mail: it belongs to a private person"
    )
    stop_lemmas: list[str] = Field(default_factory=list, description="Not compared in the copy check")
    jargon: dict[str, str] = Field(default_factory=dict, description="Abbreviation -> a lemma of its spelled-out form")

    @model_validator(mode="after")
    def _patterns_parse(self) -> Lexicon:
        from appeals.moderation.patterns import parse  # the syntax only: no dictionaries needed

        for name in (
            "boilerplate",
            "boilerplate_unless_dated",
            "confirmed",
            "later",
            "reasons",
            "legal_explanations",
            "contacts",
            "official_contacts",
            "personal_markers",
        ):
            for source in getattr(self, name):
                parse(source)  # PatternError is a ValueError: pydantic reports it with the field
        return self


class ModerationConfig(Model):
    reject_at: float = Field(60, gt=0, le=100, description="Clearly formal: straight back")
    review_at: float = Field(30, gt=0, le=100, description="A moderator must look")
    weights: Weights = Weights()
    substance: Substance = Substance()
    boilerplate_with_substance_factor: float = Field(
        0.5, ge=0, le=1, description="Boilerplate counts less in an answer that is concrete otherwise"
    )
    min_chars: int = Field(100, ge=0, description="Shorter answers are too short whatever the appeal")
    min_length_ratio: float = Field(0.3, ge=0, le=10, description="Minimum answer/appeal length ratio")
    copy_ratio: float = Field(0.6, gt=0, le=1, description="Similarity to the appeal that is a copy")
    copy_min_words: int = Field(4, ge=1, description="Answers with fewer content words are not compared")
    legal_ref_count: int = Field(2, ge=1, description="This many references need an explanation")
    legal_words_per_ref: int = Field(12, ge=0, description="Plain words needed per legal reference")
    lexicon: Lexicon = Lexicon()

    _compiled: object | None = PrivateAttr(None)  # the lexicon compiled once (appeals.moderation.lexicon)

    @model_validator(mode="after")
    def _ordered(self) -> ModerationConfig:
        if self.review_at > self.reject_at:
            raise ValueError("review_at must not exceed reject_at")
        return self


class Reason(Model):
    code: ReasonCode
    message: str = Field(min_length=1, description="For the executor, in Russian")
    fragment: str = Field("", description="The words that triggered the reason, quoted in the message")


class QualityReport(Model):
    score: float = Field(ge=0, le=100)
    verdict: Verdict
    reasons: list[Reason]

    @property
    def codes(self) -> set[ReasonCode]:
        return {r.code for r in self.reasons}
