"""Who handles it: an operator reclassifies (routed again), an executor redirects to the
responsible body (within 59-ФЗ's redirect clock), an operator re-pins the current policy."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals import clocks
    from appeals.durations import Duration
    from appeals.models import ActionReceipt, Reclassify, Redirect, RepinPolicy
    from appeals.sla import Role
    from appeals.vocabulary import Action, ClockName, EventKind, NoticeKind
    from workflows.appeal import texts
    from workflows.appeal.core import AppealCore, ClockRule, utc


class Reassigning(AppealCore):
    RULES: ClassVar[dict[str, ClockRule]] = {ClockName.redirect: ClockRule()}

    @workflow.update
    async def reclassify(self, action: Reclassify) -> ActionReceipt:
        s = self.s
        changes = {k: v for k, v in (("category", action.category), ("municipality", action.municipality)) if v}
        s.appeal = s.appeal.model_copy(update=changes)
        s.view.appeal = s.appeal
        plan = await self.fetch_plan()
        assert s.plan is not None
        s.plan = s.plan.model_copy(update={"route": plan.route})  # the SLA policy stays pinned
        before = s.view.executor
        if s.view.redirects and before is not None:
            plan.route.executor = before  # a redirect made meanwhile stands
        s.view.executor, s.view.ladder = plan.route.executor, plan.route.ladder
        entry = self.record(
            EventKind.reclassified,
            f"{', '.join(f'{k}={v}' for k, v in changes.items())} by {action.by}: "
            f"routed to {plan.route.executor.address}",
            by=action.by,
            previous_executor=before.address if before else None,
            executor=plan.route.executor.address,
            **changes,
        )
        if before != plan.route.executor:
            self.notify(entry.seq, NoticeKind.assigned, [plan.route.executor], *texts.reassigned(s))
        await self.commit()
        return self.receipt(Action.reclassify)

    @reclassify.validator
    def _check_reclassify(self, action: Reclassify) -> None:
        self.refuse_if_closed(Action.reclassify)
        self.policy()

    @workflow.update
    async def redirect(self, action: Redirect) -> ActionReceipt:
        view = self.s.view
        before = view.executor
        view.executor = action.to
        view.redirects.append(
            {"from": before.address if before else "", "to": action.to.address, "reason": action.reason}
        )
        self.stop((ClockName.redirect,))
        entry = self.record(
            EventKind.redirected,
            f"redirected by {action.by} from {before.address if before else '-'} to {action.to.address}: "
            f"{action.reason}",
            by=action.by,
            previous_executor=before.address if before else None,
            executor=action.to.address,
            reason=action.reason,
        )
        recipients = [action.to, *self.recipients([Role.citizen])]
        self.notify(entry.seq, NoticeKind.redirected, recipients, *texts.redirected(action.to, action.reason))
        await self.commit()
        return self.receipt(Action.redirect)

    @redirect.validator
    def _check_redirect(self, action: Redirect) -> None:
        self.refuse_if_closed(Action.redirect)
        view = self.s.view
        if self.s.answered_at is not None:
            raise ValueError("the appeal is already answered; it cannot be redirected now")
        if view.executor is not None and action.to.address == view.executor.address:
            raise ValueError(f"to: {action.to.address} already handles this appeal")
        window = view.clock(ClockName.redirect)
        if window is not None and window.stopped_at is None and workflow.now() > window.due_at:
            raise ValueError(
                f"the redirect period ended at {window.due_at.isoformat()} (policy "
                f"{self.policy().name}); answer on substance, naming who is responsible"
            )

    @workflow.update
    async def repin_policy(self, action: RepinPolicy) -> ActionReceipt:
        view = self.s.view
        old_version = view.policy_version
        self.pin(await self.fetch_plan())
        plan, cal = self.s.plan, self.cal()
        assert plan is not None
        policy = plan.policy
        durations: dict[str, Duration | None] = {
            ClockName.acknowledge: policy.acknowledge,
            ClockName.answer: policy.answer,
            ClockName.final: policy.final_after_interim,
        }
        moved: dict[str, str] = {}
        for clock in self.running():
            duration = durations.get(clock.name)
            if duration is None:
                continue  # a commitment keeps its date
            clock.kind, clock.allowed = clocks.allowance(cal, clock.started_at, duration)
            if clock.name == ClockName.answer and clock.cycle == 1:
                clock.allowed += view.extension  # keep the 59-ФЗ extension
            clocks.reschedule(cal, clock)  # paused time is kept on the clock
            moved[clock.name] = utc(clock.due_at)
        self.record(
            EventKind.policy_repinned,
            f"re-pinned by {action.by} to policy {policy.name} ({plan.policy_version})",
            by=action.by,
            previous_version=old_version,
            policy=policy.name,
            policy_version=plan.policy_version,
            due=moved,
        )
        await self.commit()
        return self.receipt(Action.repin_policy)

    @repin_policy.validator
    def _check_repin(self, action: RepinPolicy) -> None:
        self.refuse_if_closed(Action.repin_policy)
