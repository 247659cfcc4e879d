"""SLA policies: which clocks an appeal runs and when each is due.

Policies are data (config/sla.toml). The first policy whose every given field
matches wins; the last one must match everything. The workflow pins the chosen
policy and its version, so editing the file never changes an appeal in flight.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field, model_validator

from appeals.models import AppealInput, Channel, Model, Priority


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


class SlaPolicy(Model):
    name: str = Field(min_length=1)
    match: PolicyMatch = PolicyMatch()  # pydantic copies defaults: no shared state
    acknowledge: timedelta = Field(description="First reaction, ISO 8601 e.g. PT1H")
    answer: timedelta = Field(description="Answer on substance, from receipt")
    escalation_interval: timedelta = Field(
        description="After a breach, the next rung of the ladder is notified this often"
    )

    @model_validator(mode="after")
    def _positive(self) -> SlaPolicy:
        for field in ("acknowledge", "answer", "escalation_interval"):
            if getattr(self, field) <= timedelta(0):
                raise ValueError(f"{field} must be a positive duration")
        if self.answer < self.acknowledge:
            raise ValueError("answer must not be due before acknowledge")
        return self


class PolicySet(Model):
    policies: list[SlaPolicy] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_with_catch_all(self) -> PolicySet:
        if not self.policies[-1].match.is_catch_all:
            raise ValueError("the last policy must have an empty match (the catch-all)")
        return self


class Deadlines(Model):
    acknowledge: datetime
    answer: datetime


def select_policy(policies: PolicySet, appeal: AppealInput) -> SlaPolicy:
    return next(p for p in policies.policies if p.match.matches(appeal))


def deadlines(policy: SlaPolicy, received_at: datetime) -> Deadlines:
    return Deadlines(acknowledge=received_at + policy.acknowledge, answer=received_at + policy.answer)
