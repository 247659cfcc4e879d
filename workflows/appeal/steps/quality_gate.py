"""The gate against formal brush-offs («отписки»): an automatic check, then a ЦУР moderator.

A clearly formal answer goes straight back with its reasons and a rework clock; otherwise a
moderator accepts or rejects it (the `moderate` Update).
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.checking import CheckingActivities
    from appeals import clocks
    from appeals.models import ActionReceipt, AppealStatus, Moderate, SubmitAnswer
    from appeals.moderation import Verdict
    from appeals.records import CheckRequest
    from appeals.vocabulary import Action, ClockName, EventKind, NoticeKind
    from workflows import metrics
    from workflows.appeal import texts
    from workflows.appeal.core import PLAN_RETRY, AppealCore, ClockRule, utc

AUTOMATIC = "automatic check"


class QualityGate(AppealCore):
    RULES: ClassVar[dict[str, ClockRule]] = {ClockName.rework: ClockRule(answers=True, status=AppealStatus.rework)}

    async def passes_moderation(self, answer: SubmitAnswer) -> bool:
        s = self.s
        author = s.appeal.author
        report = await workflow.execute_local_activity_method(
            CheckingActivities.check_answer,
            CheckRequest(
                answer=answer.text,
                appeal_text=s.appeal.text,
                attachments=len(answer.attachments),
                citizen_contacts=[c for c in (author.contact, author.handle) if c],
            ),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=PLAN_RETRY,
            summary="check the answer for an отписка",
        )
        if s.ended:  # closed (not an appeal, duplicate) while the check ran
            return False
        s.view.quality = report
        reasons = [r.message for r in report.reasons]
        if report.verdict == Verdict.formal:
            await self.send_back(answer, reasons, by=AUTOMATIC, score=report.score)
            return False
        s.view.status = AppealStatus.in_moderation
        s.awaiting_verdict = True  # from the moment the status says so
        self.record(
            EventKind.sent_to_moderation,
            f"answer by {answer.by} to the ЦУР moderator (score {report.score:.0f}, {report.verdict})",
            score=report.score,
            verdict=report.verdict.value,
            reasons=reasons,
        )
        await self.commit()
        await workflow.wait_condition(lambda: s.verdict is not None or s.ended)
        verdict, s.verdict, s.awaiting_verdict = s.verdict, None, False
        if verdict is None:
            return False
        if not verdict.accept:
            await self.send_back(answer, verdict.reasons, by=verdict.by)
            return False
        # Recorded with the publication, in one write.
        self.record(EventKind.answer_accepted, f"answer accepted by moderator {verdict.by}", by=verdict.by)
        return True

    async def send_back(self, answer: SubmitAnswer, reasons: list[str], *, by: str, score: float | None = None) -> None:
        """Back to the executor with the reasons and a rework deadline; counted per executor."""
        s, policy = self.s, self.policy()
        s.submitted = None
        s.answered_at = None
        s.view.formal_rejections += 1
        metrics.count("formal_answers_returned", by="automatic" if by == AUTOMATIC else "moderator")
        rework = self.add_clock(
            clocks.start_clock(
                self.cal(), ClockName.rework, self.now(), policy.rework, policy.thresholds, cycle=s.view.cycle
            )
        )
        s.view.status = AppealStatus.rework
        executor = s.view.executor
        assert executor is not None
        entry = self.record(
            EventKind.answer_returned,
            f"answer by {answer.by} sent back by {by}: {'; '.join(reasons)}; rework due {utc(rework.due_at)}",
            by=by,
            executor=executor.address,
            reasons=reasons,
            score=score,
            rework_due=rework.due_at.isoformat(),
        )
        subject, body = texts.answer_returned(s, reasons, self.local(rework.due_at))
        self.notify(entry.seq, NoticeKind.answer_returned, [executor], subject, body)
        await self.commit()

    @workflow.update
    def moderate(self, action: Moderate) -> ActionReceipt:
        self.s.verdict = action
        return self.receipt(Action.moderate)

    @moderate.validator
    def _check_moderate(self, action: Moderate) -> None:
        self.refuse_if_closed(Action.moderate)
        if not self.s.awaiting_verdict or self.s.verdict is not None:
            raise ValueError("there is no answer waiting for moderation")
