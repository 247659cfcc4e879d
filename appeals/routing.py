"""Routing: which executor handles an appeal, and who stands above it.

The rule table is data (config/routing.toml). The first rule whose every given
field matches wins; the fallback sends the appeal to the ЦУР operators' queue
for manual triage, so no appeal is ever left without an owner.
"""

from __future__ import annotations

from pydantic import Field

from appeals.models import AppealInput, Channel, Model, Recipient


class RoutingRule(Model):
    channels: list[Channel] | None = Field(None, min_length=1)
    categories: list[str] | None = Field(None, min_length=1)
    municipalities: list[str] | None = Field(None, min_length=1)
    executor: Recipient
    ladder: list[Recipient] = Field(min_length=1, description="Supervisors, lowest first")

    def matches(self, appeal: AppealInput) -> bool:
        return (
            (self.channels is None or appeal.channel in self.channels)
            and (self.categories is None or appeal.category in self.categories)
            and (self.municipalities is None or appeal.municipality in self.municipalities)
        )


class RoutingTable(Model):
    rules: list[RoutingRule] = Field(default_factory=list)
    fallback: RoutingRule


class Route(Model):
    executor: Recipient
    ladder: list[Recipient]
    rule: str = Field(description="Which rule matched, for the timeline")


def route(table: RoutingTable, appeal: AppealInput) -> Route:
    for number, rule in enumerate(table.rules, start=1):
        if rule.matches(appeal):
            return Route(executor=rule.executor, ladder=rule.ladder, rule=f"rule {number}")
    return Route(executor=table.fallback.executor, ladder=table.fallback.ladder, rule="fallback")
