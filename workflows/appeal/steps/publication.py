"""The accepted answer reaches the citizen in the channel the appeal came from; then the
citizen's feedback window: a refutation starts the next answer cycle, a good rating closes."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.publishing import PublishingActivities
    from appeals import clocks
    from appeals.models import ActionReceipt, AppealStatus, Rate, Refute, SubmitAnswer
    from appeals.records import Publication
    from appeals.vocabulary import Action, ClockName, EventKind, NoticeKind
    from workflows import metrics
    from workflows.appeal import texts
    from workflows.appeal.core import AppealCore, utc
    from workflows.appeal.journal import STORAGE_RETRY


class Publishing(AppealCore):
    async def publish(self, answer: SubmitAnswer) -> None:
        """Publish first, then record it: the status says "answered" only once the citizen has it."""
        s = self.s
        author = s.appeal.author
        await workflow.execute_activity_method(  # a completed task schedules it: one publication per answer
            PublishingActivities.publish_answer,
            Publication(
                workflow_id=s.view.workflow_id,
                seq=s.submitted_seq,  # the answer's own step: one publication per answer
                channel=s.appeal.channel.value,
                external_id=s.appeal.external_id,
                recipient=author.handle or author.contact or author.name or "",
                text=answer.text,
                attachments=[a.model_dump(mode="json") for a in answer.attachments],
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORAGE_RETRY,
            summary=f"publish the answer to {s.appeal.channel}",
        )
        answered = [c for c in s.view.clocks if c.name in self.answer_clocks and c.cycle == s.view.cycle]
        metrics.count("appeals_answered", within_sla=all(c.breached_at is None for c in answered))
        s.submitted = None
        s.view.status = AppealStatus.answered
        self.record(EventKind.published, f"published to the citizen via {s.appeal.channel}")
        await self.commit()

    async def citizen_refutes(self, cycle: int) -> bool:
        """The feedback window: True if the citizen refuted the answer (the cycle moved on).

        A refutation can arrive while the publication is still being stored, so the test is the
        cycle number, not a flag that could be reset after it was set.
        """
        s = self.s
        window_ends = clocks.after(self.cal(), self.now(), self.policy().feedback_window)
        try:
            await workflow.wait_condition(
                lambda: s.view.cycle != cycle or s.ended or s.satisfied,
                timeout=max(window_ends - workflow.now(), timedelta(0)),
                timeout_summary=f"feedback window until {self.local(window_ends)}",
            )
        except TimeoutError:
            return False
        return s.view.cycle != cycle

    @workflow.update
    async def refute(self, action: Refute) -> ActionReceipt:
        s, policy = self.s, self.policy()
        s.view.cycle += 1
        s.satisfied = False
        s.end_reason = None
        s.answered_at = None
        s.submitted = None
        s.view.answer = None
        answer = self.add_clock(
            clocks.start_clock(
                self.cal(), ClockName.answer, self.now(), policy.answer, policy.thresholds, cycle=s.view.cycle
            )
        )
        s.view.status = AppealStatus.in_progress
        entry = self.record(
            EventKind.reopened,
            f"refuted by {action.by}: {action.reason}; answer cycle {s.view.cycle} due {utc(answer.due_at)}",
            by=action.by,
            reason=action.reason,
            cycle=s.view.cycle,
            answer_due=answer.due_at.isoformat(),
        )
        assert s.view.executor is not None
        self.notify(entry.seq, NoticeKind.reopened, [s.view.executor], *texts.reopened(s, action.reason))
        await self.commit()
        return self.receipt(Action.refute)

    @refute.validator
    def _check_refute(self, action: Refute) -> None:
        self.refuse_if_closed(Action.refute)
        if self.s.view.status != AppealStatus.answered:
            raise ValueError("there is no published answer to refute")

    @workflow.update
    async def rate(self, action: Rate) -> ActionReceipt:
        s = self.s
        s.view.rating = action.score
        s.satisfied = action.satisfied
        if action.satisfied:
            s.end_reason = f"the citizen is satisfied ({action.score}/5)"
        self.record(
            EventKind.rated,
            f"rated {action.score}/5 by {action.by}",
            by=action.by,
            score=action.score,
            comment=action.comment,
        )
        if not action.satisfied:
            await self.commit()  # a satisfied citizen's rating is stored with the closing, in one write
        return self.receipt(Action.rate)

    @rate.validator
    def _check_rate(self, action: Rate) -> None:
        self.refuse_if_closed(Action.rate)
        if self.s.view.status != AppealStatus.answered:
            raise ValueError("there is no published answer to rate")
