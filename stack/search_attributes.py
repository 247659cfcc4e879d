"""The custom search attributes that ЦУР operators filter appeals by in the UI."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

APPEAL_STATUS = SearchAttributeKey.for_keyword("AppealStatus")
INCIDENT_ID = SearchAttributeKey.for_keyword("IncidentId")
APPEAL_CHANNEL = SearchAttributeKey.for_keyword("AppealChannel")
APPEAL_CATEGORY = SearchAttributeKey.for_keyword("AppealCategory")
EXECUTOR = SearchAttributeKey.for_keyword("Executor")
MUNICIPALITY = SearchAttributeKey.for_keyword("Municipality")
ACK_DEADLINE = SearchAttributeKey.for_datetime("AckDeadline")
ANSWER_DEADLINE = SearchAttributeKey.for_datetime("AnswerDeadline")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
SLA_BREACHED = SearchAttributeKey.for_bool("SlaBreached")

ALL: tuple[SearchAttributeKey, ...] = (
    APPEAL_STATUS,
    APPEAL_CHANNEL,
    APPEAL_CATEGORY,
    EXECUTOR,
    MUNICIPALITY,
    ACK_DEADLINE,
    ANSWER_DEADLINE,
    ESCALATION_LEVEL,
    SLA_BREACHED,
    INCIDENT_ID,
)


async def register(client: Client) -> list[str]:
    """Add the attributes the namespace lacks; returns the names added. Idempotent."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = [key for key in ALL if key.name not in existing.custom_attributes]
    if missing:
        await add(client, missing)
    return sorted(key.name for key in missing)


async def add(client: Client, keys: Sequence[SearchAttributeKey]) -> None:
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in keys},
        )
    )
