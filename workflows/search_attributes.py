"""The custom search attributes ЦУР operators filter appeals by in the UI: the keys, defined
once for the workflows (which upsert them) and the runtime (which registers them)."""

from __future__ import annotations

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
