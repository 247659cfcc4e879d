"""The engine's own metrics, counted from workflow code.

`workflow.metric_meter()` is replay-safe: a replayed workflow task emits nothing, so a
counter counts each event once. The worker exports them with the SDK's own metrics
on the Prometheus endpoint (APPEALS_METRICS_PORT).
"""

from __future__ import annotations

from temporalio import workflow

DESCRIPTIONS = {
    "appeals_started": "Appeals registered, by channel",
    "appeals_acknowledged": "First reactions, by whether they came within the SLA",
    "appeals_answered": "Answers published to citizens, by whether the answer clock was met",
    "sla_breaches": "SLA deadlines missed, by clock",
    "escalations_sent": "Escalations to the supervisor ladder, by level",
    "formal_answers_returned": "Answers sent back as formal, by who returned them",
}


def count(name: str, **attributes: str | int | bool) -> None:
    meter = workflow.metric_meter()
    meter.create_counter(name, DESCRIPTIONS[name]).add(1, {k: str(v) for k, v in attributes.items()})
