"""SLA policies: which clocks an appeal runs, how long each may take, who is warned.

Policies are data (config/sla.toml). The first policy whose every given field
matches wins; the last one must match everything. `[defaults]` fills any field a
policy leaves out. Each appeal pins its policy and the file's version, so editing
the file changes new appeals only (an operator can re-pin a running appeal).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Optional

from pydantic import Field, ValidationError, create_model, model_validator

from appeals.durations import Duration
from appeals.models import AppealInput, Channel, Model, Priority


class Role(StrEnum):
    """Who a notification goes to, resolved against the appeal's route."""

    executor = "executor"
    head = "head"  # the first rung of the ladder: the executor's head of department
    tsur = "tsur"  # the top rung: ЦУР / deputy governor
    citizen = "citizen"


class PolicyMatch(Model):
    """Each given list must contain the appeal's value; an omitted field matches anything."""

    channels: list[Channel] | None = Field(None, min_length=1)
    categories: list[str] | None = Field(None, min_length=1)
    municipalities: list[str] | None = Field(None, min_length=1)
    priorities: list[Priority] | None = Field(None, min_length=1)

    def matches(self, appeal: AppealInput) -> bool:
        return (
            (self.channels is None or appeal.channel in self.channels)
            and (self.categories is None or appeal.category in self.categories)
            and (self.municipalities is None or appeal.municipality in self.municipalities)
            and (self.priorities is None or appeal.priority in self.priorities)
        )

    @property
    def is_catch_all(self) -> bool:
        given = (self.channels, self.categories, self.municipalities, self.priorities)
        return all(field is None for field in given)


class Threshold(Model):
    """At `percent` of the allowed time, warn `notify` (in working hours only)."""

    percent: int = Field(gt=0, lt=100)
    notify: list[Role] = Field(min_length=1)


class CommitmentRules(Model):
    """The honest deadline («белое пятно»): a reason and a real date instead of an отписка."""

    remind_before: Duration = Duration.model_validate("1 working day")
    max_moves: int = Field(2, ge=0)
    max_horizon_days: int = Field(366, ge=1)


class SlaPolicy(Model):
    name: str = Field(min_length=1)
    match: PolicyMatch = PolicyMatch()  # pydantic copies defaults: no shared state
    acknowledge: Duration = Field(description="First reaction (registration for 59-ФЗ)")
    answer: Duration = Field(description="The answer on substance, from receipt")
    final_after_interim: Duration | None = Field(
        None, description="After an interim answer, the final answer is due within this"
    )
    redirect: Duration | None = Field(None, description="Redirect to another body within this")
    rework: Duration = Field(description="Fixing an answer sent back by moderation")
    feedback_window: Duration = Field(description="How long the citizen may refute an answer")
    # Fields added after appeals were pinned need defaults: old plans replay from history.
    clarification_timeout: Duration = Field(
        Duration.model_validate("5 calendar days"),
        description="How long to wait for the citizen's reply to a question before closing",
    )
    max_extension: Duration | None = Field(
        None, description="59-ФЗ: one extension of at most this, with a notice to the citizen"
    )
    thresholds: list[Threshold]
    breach_notify: list[Role] = Field(min_length=1)
    escalation_interval: Duration
    commitment: CommitmentRules = CommitmentRules()
    steps: dict[str, Duration] = Field(
        default_factory=dict,
        description="The clocks of steps added to the lifecycle, by step: e.g. confirm_address = \"1 working day\"",
    )

    @model_validator(mode="after")
    def _sane(self) -> SlaPolicy:
        percents = [t.percent for t in self.thresholds]
        if percents != sorted(set(percents)):
            raise ValueError("thresholds must be in increasing order of percent, each once")
        return self


# Every field a policy may inherit, all optional: `[defaults]` is checked against it first,
# so a bad default is reported once, as defaults.<field>.
PolicyDefaults = create_model(  # type: ignore[call-overload]
    "PolicyDefaults",
    __base__=Model,
    **{
        name: (Optional[field.annotation], None)  # noqa: UP045 (a runtime type)
        for name, field in SlaPolicy.model_fields.items()
        if name not in ("name", "match")
    },
)


class PolicySet(Model):
    defaults: PolicyDefaults = Field(default_factory=PolicyDefaults)  # type: ignore[valid-type]
    policies: list[SlaPolicy] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("policies"), list | tuple):
            return data
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict):
            return data
        try:
            PolicyDefaults.model_validate(defaults)
            usable = defaults
        except ValidationError as err:
            bad = {e["loc"][0] for e in err.errors() if e["loc"]}
            usable = {k: v for k, v in defaults.items() if k not in bad}
        data = dict(data)
        data["policies"] = [{**usable, **p} if isinstance(p, dict) else p for p in data["policies"]]
        return data

    @model_validator(mode="after")
    def _ends_with_catch_all(self) -> PolicySet:
        if not self.policies[-1].match.is_catch_all:
            raise ValueError("the last policy must have an empty match (the catch-all)")
        names = [p.name for p in self.policies]
        if len(names) != len(set(names)):
            raise ValueError("policy names must be unique")
        return self

    def select(self, appeal: AppealInput) -> SlaPolicy:
        return next(p for p in self.policies if p.match.matches(appeal))

    def named(self, name: str) -> SlaPolicy:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(f"no policy named {name!r}; known: {', '.join(p.name for p in self.policies)}")
