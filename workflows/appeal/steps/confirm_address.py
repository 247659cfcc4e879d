"""After acknowledgment, an appeal with an address asks the citizen to confirm it.

The other clocks pause while it waits, under the step's own clock (`steps.confirm_address` in
the policy; a policy without it skips the step). A correction that changes the municipality
routes the appeal again; silence past the clock continues with the address as given. Appeals
that started before this step existed replay without it (the patch marker below).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals import clocks
    from appeals.models import ActionReceipt, Line, Model
    from appeals.sla import Role
    from workflows.appeal.core import AppealCore, ClockRule, utc

STEP = "confirm_address"  # its name in the policy's `steps` and its patch marker
CLOCK = "address_confirmation"


class Event(StrEnum):
    asked = "address_confirmation_asked"
    confirmed = "address_confirmed"
    corrected = "address_corrected"
    unconfirmed = "address_unconfirmed"


class AddressReply(Model):
    by: str
    address: str | None = None
    municipality: str | None = None


class ConfirmAddress(Model):
    """The citizen's reply, sent by the intake service: the address is right, or here is the right one."""

    by: Line
    address: Line | None = Field(None, description="The right address; leave out to confirm the one given")
    municipality: Line | None = Field(None, description="The right municipality, if it changed too")


class AddressConfirmation(AppealCore):
    phases = ("confirm_address_step",)
    RULES: ClassVar[dict[str, ClockRule]] = {
        CLOCK: ClockRule(escalates=False)
    }  # silence is not the executor's fault: no escalation

    async def confirm_address_step(self) -> None:
        s = self.s
        duration = s.plan.policy.steps.get(STEP) if s.plan else None
        if s.ended or not s.appeal.address or duration is None or not workflow.patched(STEP):
            return
        now = self.now()
        s.paused_since = now
        for clock in self.running():
            clocks.pause(clock, now, "waiting for the citizen to confirm the address")
        waiting = self.add_clock(clocks.start_clock(self.cal(), CLOCK, now, duration, [], cycle=s.view.cycle))
        s.view.status = self.working_status()
        entry = self.record(
            Event.asked,
            f"asked the citizen to confirm the address; clocks paused until {utc(waiting.due_at)}",
            reply_due=waiting.due_at.isoformat(),
        )
        body = (
            f"Мы правильно поняли адрес: «{s.appeal.address}»? Ответьте до {self.local(waiting.due_at)}: "
            "подтвердите его или пришлите верный. Если ответа не будет, обращение рассмотрят по этому адресу."
        )
        self.notify(entry.seq, Event.asked, self.recipients([Role.citizen]), "Подтвердите адрес", body)
        await self.commit()
        await workflow.wait_condition(
            lambda: STEP in s.step_data or s.ended or waiting.breached_at is not None or not waiting.running
        )
        given = s.step_data.pop(STEP, None)
        reply = AddressReply.model_validate(given) if given is not None else None
        moved = self.unpause()
        s.view.status = self.working_status()
        if reply is None:
            self.record(
                Event.unconfirmed, "no reply from the citizen: continuing with the address as given", moved=moved
            )
        elif reply.address is None or reply.address == s.appeal.address:
            self.record(Event.confirmed, f"address confirmed by {reply.by}", by=reply.by, moved=moved)
        else:
            await self.correct_address(reply, moved)
        await self.commit()

    async def correct_address(self, reply: AddressReply, moved: dict[str, str]) -> None:
        s = self.s
        before = s.appeal.municipality
        changes = {"address": reply.address, **({"municipality": reply.municipality} if reply.municipality else {})}
        s.appeal = s.appeal.model_copy(update=changes)
        s.view.appeal = s.appeal
        data: dict[str, object] = {"by": reply.by, "moved": moved, **changes}
        if s.appeal.municipality != before:  # another municipality: another executor (the policy stays pinned)
            plan = await self.fetch_plan()
            assert s.plan is not None
            s.plan = s.plan.model_copy(update={"route": plan.route})
            if not s.view.redirects:
                s.view.executor, s.view.ladder = plan.route.executor, plan.route.ladder
            data["executor"] = s.view.executor.address if s.view.executor else None
        self.record(Event.corrected, f"address corrected by {reply.by}", **data)

    @workflow.update
    async def confirm_address(self, reply: ConfirmAddress) -> ActionReceipt:
        self.s.step_data[STEP] = reply.model_dump(mode="json")
        await workflow.wait_condition(lambda: STEP not in self.s.step_data)  # the step has taken it
        await self.commit()
        return self.receipt(STEP)

    @confirm_address.validator
    def _check_confirm_address(self, reply: ConfirmAddress) -> None:
        self.refuse_if_closed(STEP)
        waiting = self.s.view.clock(CLOCK)
        if waiting is None or not waiting.running or STEP in self.s.step_data:
            raise ValueError("the appeal is not waiting for the citizen to confirm the address")
