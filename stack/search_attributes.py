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

from workflows.search_attributes import (  # noqa: F401 (re-exported for the runtime and tools)
    ACK_DEADLINE,
    ALL,
    ANSWER_DEADLINE,
    APPEAL_CATEGORY,
    APPEAL_CHANNEL,
    APPEAL_STATUS,
    ESCALATION_LEVEL,
    EXECUTOR,
    INCIDENT_ID,
    MUNICIPALITY,
    SLA_BREACHED,
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
