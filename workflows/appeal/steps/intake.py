"""Register the appeal, then route it: executor, policy, calendar, and the first clocks."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.incidents import IncidentActivities
    from appeals import clocks
    from appeals.models import AppealStatus, received_at_problem
    from appeals.records import IncidentLookup
    from appeals.vocabulary import ClockName, EventKind, NoticeKind
    from workflows import metrics
    from workflows.appeal import texts
    from workflows.appeal.core import AppealCore, ClockRule
    from workflows.appeal.journal import STORAGE_RETRY


class Intake(AppealCore):
    phases = ("register", "route")
    RULES: ClassVar[dict[str, ClockRule]] = {
        ClockName.acknowledge: ClockRule(),
        ClockName.answer: ClockRule(answers=True),
    }

    async def register(self) -> None:
        s = self.s
        if s.view.workflow_id != s.appeal.workflow_id:
            # The id is what makes a re-sent post find its appeal instead of starting another.
            raise ApplicationError(
                f"workflow id {s.view.workflow_id!r} does not match the appeal: "
                f"start it as {s.appeal.workflow_id!r} (appeal-<channel>-<external id>)",
                type="WrongWorkflowId",
                non_retryable=True,
            )
        problem = received_at_problem(s.appeal.received_at, workflow.now())
        if problem is not None:  # the source's clock is wrong: fix it and submit again
            raise ApplicationError(problem, type="InvalidAppeal", non_retryable=True)
        self.record(EventKind.registered, f"registered from {s.appeal.channel}")
        metrics.count("appeals_started", channel=s.appeal.channel.value)

    async def route(self) -> None:
        """Pinned once: the plan replays identically whatever the files say later."""
        self.pin(await self.fetch_plan())
        s, cal = self.s, self.cal()
        assert s.plan is not None
        route, policy, received = s.plan.route, s.plan.policy, s.appeal.received_at
        s.view.executor, s.view.ladder = route.executor, route.ladder
        ack = self.add_clock(
            clocks.start_clock(cal, ClockName.acknowledge, received, policy.acknowledge, policy.thresholds)
        )
        answer = self.add_clock(clocks.start_clock(cal, ClockName.answer, received, policy.answer, policy.thresholds))
        if policy.redirect is not None:  # 59-ФЗ: a redirect must happen within its own clock
            self.add_clock(clocks.start_clock(cal, ClockName.redirect, received, policy.redirect, []))
        s.view.status = AppealStatus.awaiting_acknowledgment
        workflow.upsert_memo({"summary": f"{s.appeal.summary()} → {route.executor.address}"})
        note = s.plan.calendar_note
        entry = self.record(
            EventKind.routed,
            f"routed to {route.executor.address} ({route.rule}), policy {policy.name}",
            executor=route.executor.address,
            rule=route.rule,
            policy=policy.name,
            policy_version=s.plan.policy_version,
            zone=cal.zone_name,
            acknowledge_due=ack.due_at.isoformat(),
            answer_due=answer.due_at.isoformat(),
            **({"calendar_note": note} if note else {}),
        )
        subject, body = texts.assigned(s, self.local(ack.due_at), self.local(answer.due_at))
        self.notify(entry.seq, NoticeKind.assigned, [route.executor], subject, body)
        await self.commit()
        await self.join_open_incident()

    async def join_open_incident(self) -> None:
        """Suggestion rule: an open incident with the same category and address takes this appeal."""
        appeal = self.s.appeal
        if not (appeal.category and appeal.address) or self.s.view.incident_id:
            return
        incident = await workflow.execute_local_activity_method(
            IncidentActivities.find_open_incident,
            IncidentLookup(category=appeal.category, address=appeal.address, received_at=appeal.received_at),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORAGE_RETRY,
            summary="look for an open incident here",
        )
        if incident is not None:
            await workflow.get_external_workflow_handle(f"incident-{incident}").signal(
                "appeal_joined", self.s.view.workflow_id
            )
