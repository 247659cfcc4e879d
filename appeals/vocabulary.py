"""The names that repeat across the engine, defined once: clocks, timeline event kinds,
notification kinds and actions. The workflow, storage, the reports and the CLI all use these."""

from __future__ import annotations

from enum import StrEnum


class ClockName(StrEnum):
    acknowledge = "acknowledge"  # the first reaction
    answer = "answer"  # the answer on substance
    final = "final"  # the final answer after an interim one
    commitment = "commitment"  # an honest deadline («белое пятно»)
    rework = "rework"  # fixing an answer sent back as formal
    redirect = "redirect"  # 59-ФЗ: redirect to the responsible body within this
    clarification = "clarification"  # waiting for the citizen's reply to a question


class AlarmKind(StrEnum):
    warning = "warning"
    breach = "breach"
    escalate = "escalate"


class EventKind(StrEnum):
    """What the timeline and the audit trail (`appeal_events.kind`) record."""

    registered = "registered"
    routed = "routed"
    acknowledged = "acknowledged"
    interim_answered = "interim_answered"
    answered = "answered"
    sent_to_moderation = "sent_to_moderation"
    answer_returned = "answer_returned"
    answer_accepted = "answer_accepted"
    published = "published"
    rated = "rated"
    reopened = "reopened"
    white_spot_declared = "white_spot_declared"
    commitment_moved = "commitment_moved"
    extended = "extended"
    paused = "paused"
    resumed = "resumed"
    question_asked = "question_asked"
    citizen_message = "citizen_message"
    policy_repinned = "policy_repinned"
    reclassified = "reclassified"
    redirected = "redirected"
    linked_to_incident = "linked_to_incident"
    incident_answer_skipped = "incident_answer_skipped"
    sla_warning = "sla_warning"
    sla_breached = "sla_breached"
    escalated = "escalated"
    escalation_reminder = "escalation_reminder"
    notification_failed = "notification_failed"
    signal_refused = "signal_refused"
    resubmitted = "resubmitted"
    closed = "closed"


class NoticeKind(StrEnum):
    """Why someone is notified (`notifications.kind`)."""

    assigned = "assigned"
    warning = "warning"
    escalated = "escalated"
    escalation_reminder = "escalation_reminder"
    answer_returned = "answer_returned"
    interim_answer = "interim_answer"
    white_spot = "white_spot"
    commitment_moved = "commitment_moved"
    extension = "extension"
    reopened = "reopened"
    redirected = "redirected"
    question = "question"


class Action(StrEnum):
    """The Updates officials, operators and the citizen's intake act through."""

    acknowledge = "acknowledge"
    answer = "answer"
    interim_answer = "interim_answer"
    declare_white_spot = "declare_white_spot"
    move_commitment = "move_commitment"
    extend = "extend"
    pause = "pause"
    resume = "resume"
    refute = "refute"
    rate = "rate"
    repin_policy = "repin_policy"
    reclassify = "reclassify"
    redirect = "redirect"
    moderate = "moderate"
    ask_citizen = "ask_citizen"
    mark_not_appeal = "mark_not_appeal"
    mark_duplicate = "mark_duplicate"
