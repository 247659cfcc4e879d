"""What `appealctl.py` does, against the embedded stack or a real cluster alike.

Every command prints a table for people by default, in the reader's language (APPEALS_LANGUAGE,
stack/texts/), and JSON with --json; user errors become one plain line on stderr (in English),
never a traceback.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from appeals.incidents import IncidentState, LinkAppeal, OpenIncident
from appeals.models import ACTIONS, ActionReceipt, Model
from appeals.state import AppealState, ClockView
from appeals.vocabulary import EventKind
from stack.errors import describe, reason
from stack.settings import INCIDENT_WORKFLOW_TYPE, Settings
from stack.text_table import text_table
from stack.texts import label_width, texts

OVERDUE = 'SlaBreached = true AND ExecutionStatus = "Running"'
DEFAULT_ZONE = "Asia/Yekaterinburg"


class CommandError(Exception):
    """A user error: printed as one line, exit code 2."""


def dumps(value: Any) -> str:
    if isinstance(value, BaseModel):
        return value.model_dump_json(indent=2)
    return json.dumps(
        [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value],
        ensure_ascii=False,
        indent=2,
        default=str,
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") if moment else None


def _zone(state: AppealState) -> ZoneInfo:
    routed = next((e for e in state.timeline if e.kind == EventKind.routed), None)
    return ZoneInfo(str(routed.data.get("zone", DEFAULT_ZONE)) if routed else DEFAULT_ZONE)


async def show(
    client: Client, workflow_id: str, language: str | None = None
) -> tuple[AppealState, list[ClockView], str]:
    """The appeal's state, its SLA clocks, and both as text (`language` "ru" or "en"; None: the setting)."""
    t = texts(language)
    handle = client.get_workflow_handle(workflow_id)
    try:
        state: AppealState = await handle.query("get_state", result_type=AppealState)
        sla: list[ClockView] = await handle.query("get_sla", result_type=list[ClockView])
    except RPCError as err:
        raise CommandError(f"no appeal {workflow_id}: {err.message}") from None
    except WorkflowQueryFailedError as err:
        raise CommandError(f"{workflow_id} did not answer: {err}") from None
    zone = _zone(state)
    width = label_width(t["cli_executor"], t["cli_policy"], t["cli_appeal"], t["cli_incident"])
    breached = f"  {t['cli_breached']}" if state.sla_breached else ""
    head = [
        t["cli_show_head"].format(workflow_id=state.workflow_id, status=state.status, cycle=state.cycle),
        f"{t['cli_executor']:<{width}} {state.executor.address if state.executor else '-'}   "
        f"{t['cli_escalation'].format(level=state.escalation_level)}{breached}",
        f"{t['cli_policy']:<{width}} {state.policy}  ({state.policy_version})",
        f"{t['cli_appeal']:<{width}} [{state.appeal.channel}] {state.appeal.text[:100]}",
    ]
    if state.incident_id:
        head.append(f"{t['cli_incident']:<{width}} {state.incident_id}")
    clocks = text_table(
        t["cli_clock_columns"],
        [
            (
                v.clock.name,
                v.clock.cycle,
                _local(v.clock.started_at, zone),
                _local(v.clock.due_at, zone),
                v.clock.paused or None,
                ", ".join(f"{m.percent}%" if m.percent else t["cli_reminder"] for m in v.clock.marks if m.sent_at)
                or None,
                _local(v.clock.breached_at, zone),
                _local(v.clock.stopped_at, zone),
                v.remaining,
            )
            for v in sla
        ],
    )
    number, at, event, what = t["cli_event_columns"]
    timeline = text_table(
        (number, at.format(zone=zone.key), event, what),
        [(e.seq, _local(e.at, zone), e.kind, e.summary[:90]) for e in state.timeline],
    )
    text = "\n".join(head) + f"\n\n{t['cli_clocks_title']}\n{clocks}\n\n{t['cli_events_title']}\n{timeline}"
    return state, sla, text


def validate_action(action: str, payload: dict[str, Any]) -> Model:
    """The action's model, or a one-line CommandError naming each bad field."""
    model = ACTIONS.get(action)
    if model is None:
        raise CommandError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    try:
        return model.model_validate(payload)
    except ValidationError as err:
        raise CommandError(f"{action}: {describe(err)}") from None


async def act(client: Client, workflow_id: str, action: str, payload: dict[str, Any]) -> ActionReceipt:
    validated = validate_action(action, payload)
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(action, validated, result_type=ActionReceipt)
    except WorkflowUpdateFailedError as err:
        raise CommandError(f"{action} refused: {reason(err)}") from None
    except RPCError as err:
        raise CommandError(f"{action} on {workflow_id} failed: {err.message}") from None


async def overdue(client: Client, query: str = OVERDUE) -> list[dict[str, Any]]:
    found = []
    async for execution in client.list_workflows(query):
        attributes = {pair.key.name: pair.value for pair in execution.typed_search_attributes}
        found.append(
            {
                "workflow_id": execution.id,
                "status": attributes.get("AppealStatus"),
                "executor": attributes.get("Executor"),
                "escalation_level": attributes.get("EscalationLevel"),
                "answer_deadline": attributes.get("AnswerDeadline"),
            }
        )
    return found


async def open_incident(client: Client, incident: OpenIncident, settings: Settings) -> str:
    try:
        await client.start_workflow(
            INCIDENT_WORKFLOW_TYPE, incident, id=incident.workflow_id, task_queue=settings.task_queue
        )
    except WorkflowAlreadyStartedError:
        raise CommandError(f"incident {incident.incident_id} is already open") from None
    except RPCError as err:
        raise CommandError(f"cannot open incident {incident.incident_id}: {err.message}") from None
    return incident.workflow_id


async def link(client: Client, incident_id: str, appeal: str, by: str) -> IncidentState:
    handle = client.get_workflow_handle(f"incident-{incident_id}")
    try:
        return await handle.execute_update(
            "link_appeal", LinkAppeal(by=by, workflow_id=appeal), result_type=IncidentState
        )
    except WorkflowUpdateFailedError as err:
        raise CommandError(f"link refused: {reason(err)}") from None
    except RPCError as err:
        raise CommandError(f"no incident {incident_id}: {err.message}") from None


async def incident_state(client: Client, incident_id: str) -> IncidentState:
    try:
        return await client.get_workflow_handle(f"incident-{incident_id}").query("get_state", result_type=IncidentState)
    except RPCError as err:
        raise CommandError(f"no incident {incident_id}: {err.message}") from None
