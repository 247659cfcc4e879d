"""Simulated officials, moderators and citizens: operator Updates throughout the chaos run,
each timed from the call to its result (retries on a lost connection included)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from appeals.models import (
    Acknowledge,
    AppealInput,
    AppealStatus,
    InterimAnswer,
    Moderate,
    Rate,
    Recipient,
    Redirect,
    SubmitAnswer,
)
from appeals.state import AppealState
from devstack.demo import PHOTO, TOPICS

INTERIM = "Работы начаты, ответ по существу направим сразу после их завершения."
QUERY_TIMEOUT = 15.0
POLL = (1.5, 3.0)  # seconds between two looks at an appeal: queries cost the worker too


TRANSIENT = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


def _transient(err: Exception) -> bool:
    """A lost connection, a server restarting, or a workflow task being retried (the server
    refuses Updates until it succeeds): the operator tries again."""
    if not isinstance(err, RPCError):
        return True
    return err.status in TRANSIENT or "workflow task" in str(err).lower()


@dataclass
class UpdateSample:
    workflow_id: str
    action: str
    start: float  # time.monotonic()
    end: float
    outcome: str  # ok | rejected | timeout | error | unfinished
    retries: int = 0
    error: str | None = None

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Plan:
    """What the officials do with one appeal."""

    acknowledge: bool = True
    redirect: bool = False
    interim: bool = False
    answer: bool = False
    rate: bool = False


def plan_for(rng: random.Random, share: float) -> Plan | None:
    """~`share` of appeals are driven; the rest are left to escalate."""
    if rng.random() >= share:
        return None
    roll = rng.random()
    if roll < 0.25:
        return Plan()  # acknowledged, then left to breach the answer deadline
    return Plan(
        redirect=rng.random() < 0.15,
        interim=rng.random() < 0.4,
        answer=True,
        rate=roll < 0.8,  # the rest close when the feedback window passes
    )


@dataclass
class Operators:
    client: Client
    concurrency: int
    think: tuple[float, float] = (1.0, 8.0)
    update_cap: float = 300.0
    wait_cap: float = 300.0
    seed: int = 1
    samples: list[UpdateSample] = field(default_factory=list)
    in_flight: dict[int, float] = field(default_factory=dict)  # one entry per Update under way → its start
    closing: bool = False  # the run is over: no new actions, the ones under way finish
    gave_up: list[str] = field(default_factory=list)
    _gate: asyncio.Semaphore = field(init=False)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.concurrency)
        self._rng = random.Random(self.seed)

    async def drive(self, appeal: AppealInput, plan: Plan, delay: float) -> None:
        await asyncio.sleep(delay)
        handle = self.client.get_workflow_handle(appeal.workflow_id)
        state = await self._until(handle, lambda s: s.executor is not None)
        if state is None or state.executor is None:
            self._give_up(f"{appeal.workflow_id}: never routed")
            return
        executor = state.executor.address
        await self._think()
        if not await self.update(handle, "acknowledge", Acknowledge(by=executor)):
            return
        if plan.redirect:
            await self._think()
            to = Recipient(role="executor", address=f"chaos-redirect-{self._rng.randint(1, 9)}@permkrai.ru")
            await self.update(handle, "redirect", Redirect(by=executor, to=to, reason="Объект на балансе другого МКУ"))
        if plan.interim:
            await self._think()
            await self.update(handle, "interim_answer", InterimAnswer(by=executor, text=INTERIM))
        if not plan.answer:
            return
        text = next(t[4] for t in TOPICS if t[0] == appeal.category)
        for attempt in range(2):
            await self._think()
            answer = SubmitAnswer(by=executor, text=text, attachments=[PHOTO])
            if not await self.update(handle, "answer", answer, attempt=attempt):
                return
            state = await self._until(handle, lambda s: s.status in (AppealStatus.in_moderation, AppealStatus.rework))
            if state is None:
                self._give_up(f"{appeal.workflow_id}: never reached moderation")
                return
            if state.status == AppealStatus.rework:
                continue
            await self._think()
            if not await self.update(handle, "moderate", Moderate(by="chaos-moderator", accept=True), attempt=attempt):
                return
            state = await self._until(handle, lambda s: s.status != AppealStatus.in_moderation)
            if state is None:
                self._give_up(f"{appeal.workflow_id}: never published")
                return
            if plan.rate and state.status == AppealStatus.answered:
                await asyncio.sleep(self._rng.uniform(0.5, 3.0))  # within the 1-minute feedback window
                await self.update(handle, "rate", Rate(by="citizen", score=5), attempt=attempt)
            return

    def _give_up(self, why: str) -> None:
        if not self.closing:  # at the end of the run, unfinished journeys are expected
            self.gave_up.append(why)

    async def _think(self) -> None:
        await asyncio.sleep(self._rng.uniform(*self.think))

    async def _until(
        self, handle: WorkflowHandle[Any, Any], predicate: Callable[[AppealState], bool]
    ) -> AppealState | None:
        deadline = time.monotonic() + self.wait_cap
        while time.monotonic() < deadline and not self.closing:
            try:
                state: AppealState = await asyncio.wait_for(
                    handle.query("get_state", result_type=AppealState), QUERY_TIMEOUT
                )
            except Exception:  # the worker is down, the server restarting: ask again
                await asyncio.sleep(1.0)
                continue
            if predicate(state):
                return state
            await asyncio.sleep(self._rng.uniform(*POLL))
        return None

    async def update(self, handle: WorkflowHandle[Any, Any], action: str, arg: Any, *, attempt: int = 0) -> bool:
        """One operator action, with a stable update id so a retry never acts twice."""
        update_id = f"chaos-{action}-{attempt}"
        retries = 0
        if self.closing:
            return False
        async with self._gate:
            start = time.monotonic()
            deadline = start + self.update_cap
            token = object()
            self.in_flight[id(token)] = start
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    try:
                        await asyncio.wait_for(handle.execute_update(action, arg, id=update_id), max(remaining, 0.1))
                        outcome, error = "ok", None
                    except WorkflowUpdateFailedError as err:
                        outcome, error = "rejected", str(err.cause or err)
                    except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
                        if "already completed" in str(err):  # closed meanwhile: the action came too late
                            outcome, error = "rejected", str(err)
                            break
                        if _transient(err) and time.monotonic() < deadline:
                            retries += 1
                            await asyncio.sleep(1.0)
                            continue
                        outcome, error = "error", f"{type(err).__name__}: {err}"
                    except TimeoutError:
                        outcome, error = "timeout", f"no result within {self.update_cap:.0f}s"
                    break
            except asyncio.CancelledError:  # the run is over and this one has still not returned
                self.samples.append(UpdateSample(handle.id, action, start, time.monotonic(), "unfinished", retries))
                raise
            finally:
                del self.in_flight[id(token)]
            self.samples.append(UpdateSample(handle.id, action, start, time.monotonic(), outcome, retries, error))
        return outcome == "ok"

    async def drain(self, issued_before: float, cap: float) -> None:
        """Wait until every Update issued before `issued_before` has returned (at most `cap` s),
        so the next fault does not add to their latency."""
        deadline = time.monotonic() + cap
        while time.monotonic() < deadline:
            if not any(start <= issued_before for start in self.in_flight.values()):
                return
            await asyncio.sleep(0.5)
