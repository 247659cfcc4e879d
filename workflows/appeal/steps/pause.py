"""Waiting for the citizen: the clocks stop while an official waits for a clarification, and
run again on resume or on the citizen's reply, the deadline moved by the paused working time."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from appeals import clocks
    from appeals.models import (
        ActionReceipt,
        AppealStatus,
        AskCitizen,
        CitizenReply,
        PauseClocks,
        ResumeClocks,
    )
    from appeals.sla import Role
    from appeals.vocabulary import Action, ClockName, EventKind, NoticeKind
    from workflows.appeal import texts
    from workflows.appeal.core import AppealCore, ClockRule, utc


def _no_reply(core: AppealCore, clock: clocks.Clock) -> None:
    core.end(AppealStatus.closed_no_reply, f"no reply from the citizen by {utc(clock.due_at)}")


class Pausing(AppealCore):
    RULES: ClassVar[dict[str, ClockRule]] = {ClockName.clarification: ClockRule(escalates=False, on_breach=_no_reply)}

    def pause_clocks(self, reason: str) -> None:
        now = self.now()
        self.s.paused_since = now
        for clock in self.running():
            clocks.pause(clock, now, reason)
        self.s.view.status = AppealStatus.waiting_for_citizen

    @workflow.update
    async def pause(self, action: PauseClocks) -> ActionReceipt:
        self.pause_clocks(action.reason)
        self.record(
            EventKind.paused, f"clocks paused by {action.by}: {action.reason}", by=action.by, reason=action.reason
        )
        await self.commit()
        return self.receipt(Action.pause)

    @pause.validator
    def _check_pause(self, action: PauseClocks) -> None:
        self.refuse_if_closed(Action.pause)
        if self.s.paused_since is not None:
            raise ValueError(f"the clocks are already paused since {self.s.paused_since.isoformat()}")
        if not self.running():
            raise ValueError("no clock is running")

    @workflow.update
    async def resume(self, action: ResumeClocks) -> ActionReceipt:
        await self.resume_clocks(action.by)
        return self.receipt(Action.resume)

    @resume.validator
    def _check_resume(self, action: ResumeClocks) -> None:
        self.refuse_if_closed(Action.resume)
        if self.s.paused_since is None:
            raise ValueError("the clocks are not paused")

    async def resume_clocks(self, by: str, **data: str) -> None:
        moved = self.unpause()
        self.s.view.status = self.working_status()
        self.record(EventKind.resumed, f"clocks resumed by {by}", by=by, moved=moved, **data)
        await self.commit()

    @workflow.update
    async def ask_citizen(self, action: AskCitizen) -> ActionReceipt:
        self.pause_clocks(f"question to the citizen: {action.question}")
        policy = self.policy()
        waiting = self.add_clock(
            clocks.start_clock(
                self.cal(),
                ClockName.clarification,
                self.now(),
                policy.clarification_timeout,
                [],
                cycle=self.s.view.cycle,
            )
        )
        entry = self.record(
            EventKind.question_asked,
            f"{action.by} asked the citizen; clocks paused until the reply (or {utc(waiting.due_at)})",
            by=action.by,
            question=action.question,
            reply_due=waiting.due_at.isoformat(),
        )
        self.notify(entry.seq, NoticeKind.question, self.recipients([Role.citizen]), *texts.question(action.question))
        await self.commit()
        return self.receipt(Action.ask_citizen)

    @ask_citizen.validator
    def _check_ask(self, action: AskCitizen) -> None:
        self._check_pause(PauseClocks(by=action.by, reason=action.question))

    @workflow.signal
    async def citizen_replied(self, raw: RawValue) -> None:
        """From the intake side: the citizen answered the question; the clocks run again."""
        reply: CitizenReply | None = await self.accept_signal("citizen_replied", CitizenReply, raw)
        if reply is None:
            return
        waiting = self.s.view.clock(ClockName.clarification)
        if waiting is None or not waiting.running or self.calendar is None or self.s.ended:
            self.record(EventKind.citizen_message, "a message from the citizen", text=reply.text)
            await self.commit()
            return
        await self.resume_clocks("the citizen", text=reply.text)
