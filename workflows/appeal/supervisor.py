"""The SLA supervisor: one durable timer, for the next thing any clock must do.

A warning, a breach, or the next escalation: whichever comes first. It re-plans whenever the
next alarm changes, whatever changed it; nothing has to wake it by hand. What a clock does on
breach is its rule (`ClockRule`): escalate up the ladder, or hand the breach to its step.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals import clocks
    from appeals.clocks import Alarm, Clock
    from appeals.vocabulary import AlarmKind, EventKind, NoticeKind
    from workflows import metrics
    from workflows.appeal import texts
    from workflows.appeal.core import AppealCore, utc

BACK_OFF_CAP = 4  # past the top rung, reminders back off x2 each, up to x16


# Since this patch the supervisor's commands never depend on the time: every alarm gets its timer
# (1 ms when it is already due) and fires when its timer does; no alarm fires without one. A worker
# rebuilding a run after a kill was seen handing its first task the time of the task before; any
# decision taken on that time (fire now or start a timer) then differed on replay: "[TMPRL1100] ...
# does not handle this event".
TIMER_ALWAYS = "supervisor-timer-always"
SOONEST = timedelta(milliseconds=1)


class Supervisor(AppealCore):
    async def supervise(self) -> None:
        """Fire each clock's warnings, breach and escalations on time, one timer at a time."""
        while self.s.closed_at is None:
            alarm = self.next_alarm()
            wait = None if alarm is None else alarm.at - workflow.now()
            timer_always = workflow.patched(TIMER_ALWAYS)
            if wait is not None and wait <= timedelta(0):
                if not timer_always:  # appeals started before the patch
                    assert alarm is not None
                    await self.fire(alarm)
                    continue
                wait = SOONEST
            try:
                await workflow.wait_condition(
                    lambda alarm=alarm: self.s.closed_at is not None or self.next_alarm() != alarm,  # type: ignore[misc]
                    timeout=wait,
                    timeout_summary=None if alarm is None else self.describe(alarm),
                )
            except TimeoutError:
                if timer_always and alarm is not None and self.s.closed_at is None and self.next_alarm() == alarm:
                    await self.fire(alarm)

    def next_alarm(self) -> Alarm | None:
        alarms = [a for c in self.s.view.clocks if (a := clocks.next_alarm(c)) is not None]
        overdue = [c for c in self.running() if c.breached_at is not None and self.rules[c.name].escalates]
        ticking = [c for c in overdue if c.ticking]
        if not overdue:
            self.s.escalation_due = None  # handled: the climb stops
        elif self.s.escalation_due is not None and ticking:  # paused: kept, and moved on resume
            clock = ticking[0]
            alarms.append(
                Alarm(
                    at=self.s.escalation_due,
                    clock=clock.name,
                    number=clock.number,
                    cycle=clock.cycle,
                    kind=AlarmKind.escalate,
                )
            )
        return min(alarms, key=lambda a: a.at, default=None)

    def describe(self, alarm: Alarm) -> str:
        """The timer's summary in the UI, e.g. "answer deadline 2026-12-03 18:00 +05"."""
        what = {AlarmKind.breach: "deadline", AlarmKind.warning: "warning", AlarmKind.escalate: "next escalation"}
        return f"{alarm.clock} {what[AlarmKind(alarm.kind)]} {self.local(alarm.at)}"

    async def fire(self, alarm: Alarm) -> None:
        clock = self.s.view.clocks[alarm.number]
        kind = AlarmKind(alarm.kind)
        if kind == AlarmKind.warning:
            self.warn(clock, alarm)
        elif kind == AlarmKind.breach:
            self.breach(clock)
        else:
            self.escalate(clock)
        await self.commit()

    def warn(self, clock: Clock, alarm: Alarm) -> None:
        assert alarm.mark is not None
        mark = clock.marks[alarm.mark]
        mark.sent_at = workflow.now()
        share = f"{mark.percent}% of the time used" if mark.percent else "the commitment date is near"
        entry = self.record(
            EventKind.sla_warning,
            f"{clock.name}: {share}, due {utc(clock.due_at)}",
            clock=clock.name,
            percent=mark.percent,
            due_at=clock.due_at.isoformat(),
        )
        subject, body = texts.warning(self.s, clock, mark.percent, self.local(clock.due_at))
        self.notify(entry.seq, NoticeKind.warning, self.recipients(mark.notify), subject, body)

    def breach(self, clock: Clock) -> None:
        rule = self.rules[clock.name]
        clock.breached_at = clock.due_at  # the exact moment, whenever the worker got to it
        if rule.on_breach is not None:
            rule.on_breach(self, clock)
            return
        if not rule.escalates:
            return
        metrics.count("sla_breaches", clock=clock.name)
        self.s.view.sla_breached = True
        if self.s.escalation_due is None:
            # Notifications go out in working hours; the breach itself is recorded now.
            self.s.escalation_due = self.cal().next_working_moment(clock.due_at)
        self.record(
            EventKind.sla_breached,
            f"{clock.name} deadline {utc(clock.due_at)} missed",
            clock=clock.name,
            cycle=clock.cycle,
            due_at=clock.due_at.isoformat(),
        )

    def escalate(self, clock: Clock) -> None:
        view, policy = self.s.view, self.policy()
        level = min(view.escalation_level + 1, len(view.ladder))
        reminder = level == view.escalation_level
        first = view.escalation_level == 0
        view.escalation_level = level
        recipients = [view.ladder[level - 1]]
        if first:  # the policy's breach recipients hear of the first breach too
            recipients += [r for r in self.recipients(policy.breach_notify) if r not in recipients]
        kind = EventKind.escalation_reminder if reminder else EventKind.escalated
        self.s.reminders = self.s.reminders + 1 if reminder else 0
        metrics.count("escalations_sent", level=level)
        entry = self.record(
            kind,
            f"level {level}: {clock.name} overdue, {recipients[0].role} notified",
            level=level,
            clock=clock.name,
            recipient=recipients[0].address,
        )
        subject, body = texts.escalation(self.s, clock, level, self.local(clock.due_at))
        self.notify(entry.seq, NoticeKind(kind.value), recipients, subject, body)
        # Past the top rung, reminders back off (x2 each, up to x16): the appeal stays in sight
        # without flooding the ladder or the history.
        interval = policy.escalation_interval
        interval = interval.model_copy(update={"amount": interval.amount * 2 ** min(self.s.reminders, BACK_OFF_CAP)})
        # Counted from now, not from the alarm: an appeal overdue for months climbs once, then waits
        # an interval, instead of firing every reminder it missed. Only the timers' lengths follow
        # from the time; which commands the supervisor gives does not.
        self.s.escalation_due = self.cal().next_working_moment(clocks.after(self.cal(), self.now(), interval))
