"""Intake: the library intake services use to start appeals (`starter.py` is its CLI, and the
HTTP API its service).

Submitting the same appeal again finds the existing workflow: the workflow id is
`appeal-<channel>-<external id>`, and a second start of that id is refused by Temporal.
No content is dropped silently: the same content answers "already submitted"; other
content goes to the running appeal as the `resubmitted` signal, which records it for an
operator; a closed appeal cannot take it, and that is an error (see `Outcome`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from appeals.models import AppealInput, changed_fields, received_at_problem
from appeals.state import AppealState
from stack import search_attributes as sa
from stack.errors import field_problem, join, reason
from stack.settings import WORKFLOW_TYPE, Settings

# A source clock may run a little ahead of ours; more than this is a wrong timestamp.
CLOCK_SKEW = timedelta(minutes=5)
RESUBMITTED_SIGNAL = "resubmitted"
QUERY_TIMEOUT = timedelta(seconds=10)


class InvalidAppeal(ValueError):
    """The appeal was refused before any workflow started; `problems` names each field."""

    def __init__(self, problems: list[str], where: str = "appeal") -> None:
        self.problems = problems
        super().__init__(f"{where} refused: {join(problems)}")


class Outcome(StrEnum):
    created = "created"  # a new appeal was started
    already_submitted = "already_submitted"  # it existed with the same content: nothing to do
    changes_recorded = "changes_recorded"  # it existed with other content, now recorded for an operator
    closed = "closed"  # it existed with other content but is closed: the new content was NOT recorded
    unverified = "unverified"  # it exists, its content could not be read: the new content was NOT recorded


@dataclass(frozen=True)
class Submission:
    workflow_id: str
    outcome: Outcome
    changes: tuple[str, ...] = ()  # the fields that differ from the existing appeal's
    detail: str = ""  # for `unverified`: why the existing appeal could not be read

    @property
    def created(self) -> bool:
        return self.outcome is Outcome.created

    @property
    def refused(self) -> bool:
        """The new content was not recorded anywhere."""
        return self.outcome in (Outcome.closed, Outcome.unverified)

    def describe(self) -> str:
        """One line for people."""
        changes = ", ".join(self.changes)
        match self.outcome:
            case Outcome.created:
                return self.workflow_id
            case Outcome.already_submitted:
                return f"{self.workflow_id}   (already submitted; existing appeal kept)"
            case Outcome.changes_recorded:
                return (
                    f"{self.workflow_id} already exists with different content: "
                    f"changes to {changes} were recorded against it for an operator"
                )
            case Outcome.closed:
                return (
                    f"{self.workflow_id} already exists and is closed: "
                    f"the new content (changes to {changes}) was not recorded"
                )
        return (
            f"{self.workflow_id} already exists, but its content could not be compared "
            f"({self.detail}): the new content was not recorded; try again when its worker runs"
        )


def parse_appeal(
    payload: dict[str, Any] | str | bytes, *, now: datetime | None = None, where: str = "appeal"
) -> AppealInput:
    """Validate an appeal as an intake service sends it, naming every bad field.

    The door also checks what needs a clock: received_at may not be ahead of `now`
    (the wall clock by default) by more than CLOCK_SKEW.
    """
    try:
        appeal = (
            AppealInput.model_validate(payload)
            if isinstance(payload, dict)
            else AppealInput.model_validate_json(payload)
        )
    except ValidationError as err:
        raise InvalidAppeal([field_problem(e) for e in err.errors(include_url=False)], where) from None
    problem = received_at_problem(appeal.received_at, now or datetime.now(UTC), ahead=CLOCK_SKEW)
    if problem:
        raise InvalidAppeal([problem], where)
    return appeal


def revalidated(appeal: AppealInput) -> AppealInput:
    """`appeal` checked against the model's rules, whoever built it; InvalidAppeal names the fields."""
    try:
        return AppealInput.model_validate(appeal.model_dump(warnings=False))
    except ValidationError as err:
        raise InvalidAppeal([field_problem(e) for e in err.errors(include_url=False)]) from None


async def _existing(client: Client, workflow_id: str) -> AppealInput:
    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(QUERY_TIMEOUT.total_seconds() + 5):
        state = await handle.query("get_state", result_type=AppealState, rpc_timeout=QUERY_TIMEOUT)
    return state.appeal  # type: ignore[no-any-return]


async def _resubmit(client: Client, appeal: AppealInput) -> Submission:
    """The id exists: compare the content, and record a different one against a running appeal."""
    workflow_id = appeal.workflow_id
    try:
        existing = await _existing(client, workflow_id)
    except TimeoutError:
        return Submission(workflow_id, Outcome.unverified, detail="it did not answer the get_state query in time")
    except Exception as err:  # any failure to read it: say so, never pretend it was the same
        return Submission(workflow_id, Outcome.unverified, detail=reason(err) or type(err).__name__)
    changes = tuple(changed_fields(existing, appeal))
    if not changes:
        return Submission(workflow_id, Outcome.already_submitted)
    handle = client.get_workflow_handle(workflow_id)
    closed = Submission(workflow_id, Outcome.closed, changes)
    if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
        return closed
    try:
        await handle.signal(RESUBMITTED_SIGNAL, appeal)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return closed  # it closed in between
        raise
    return Submission(workflow_id, Outcome.changes_recorded, changes)


async def submit(client: Client, appeal: AppealInput, *, task_queue: str | None = None) -> Submission:
    """Start the appeal's workflow; if the id exists, see `Outcome` for what happens.

    The appeal is validated again here (an intake service may have built it with
    `model_construct`); the clock check stays in `parse_appeal` and in the workflow.
    """
    appeal = revalidated(appeal)
    attributes: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.APPEAL_STATUS, "registered"),
        SearchAttributePair(sa.APPEAL_CHANNEL, appeal.channel.value),
    ]
    if appeal.category:
        attributes.append(SearchAttributePair(sa.APPEAL_CATEGORY, appeal.category))
    if appeal.municipality:
        attributes.append(SearchAttributePair(sa.MUNICIPALITY, appeal.municipality))
    summary = appeal.summary()  # channel, category, municipality: no personal data
    try:
        await client.start_workflow(
            WORKFLOW_TYPE,
            appeal,
            id=appeal.workflow_id,
            task_queue=task_queue or Settings().task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(attributes),
            memo={"summary": summary},
            static_summary=summary,
        )
    except WorkflowAlreadyStartedError:
        return await _resubmit(client, appeal)
    return Submission(appeal.workflow_id, Outcome.created)


def distinct(appeals: Iterable[tuple[str, AppealInput]], where: str = "batch") -> list[tuple[str, AppealInput]]:
    """Labelled appeals without exact repeats; two versions of one id refuse the whole lot."""
    first: dict[str, tuple[str, AppealInput]] = {}
    kept, problems = [], []
    for label, appeal in appeals:
        seen = first.get(appeal.workflow_id)
        if seen is None:
            first[appeal.workflow_id] = (label, appeal)
            kept.append((label, appeal))
            continue
        changes = changed_fields(seen[1], appeal)
        if changes:
            problems.append(
                f"{seen[0]} and {label}: two versions of {appeal.workflow_id} (they differ in {', '.join(changes)})"
            )
    if problems:
        raise InvalidAppeal(problems, where)
    return kept


async def submit_many(
    client: Client,
    appeals: Iterable[AppealInput],
    *,
    concurrency: int = 32,
    on_done: Callable[[Submission], None] | None = None,
    task_queue: str | None = None,
) -> list[Submission]:
    """Submit appeals concurrently, in bounded parallel; results keep the input order.

    All or nothing on content: two versions of one id raise InvalidAppeal before anything
    starts. An exact repeat is submitted once and its result given for each position.
    """
    given = list(appeals)
    unique = [a for _, a in distinct((f"item {n}", a) for n, a in enumerate(given, start=1))]
    gate = asyncio.Semaphore(concurrency)

    async def one(appeal: AppealInput) -> Submission:
        async with gate:
            submission = await submit(client, appeal, task_queue=task_queue)
        if on_done:
            on_done(submission)
        return submission

    done = await asyncio.gather(*(one(a) for a in unique))
    by_id = {s.workflow_id: s for s in done}
    return [by_id[a.workflow_id] for a in given]


def parse_batch(lines: Iterable[str], *, now: datetime | None = None) -> list[AppealInput]:
    """Validate a JSON-lines batch whole: if any line is bad, nothing is submitted.

    Exact repeats of a line are kept once; two versions of one id refuse the batch.
    """
    appeals, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            appeals.append((f"line {number}", parse_appeal(line, now=now, where=f"line {number}")))
        except InvalidAppeal as err:
            problems += [f"line {number}: {p}" for p in err.problems]
    if problems:
        raise InvalidAppeal(problems, "batch")
    return [appeal for _, appeal in distinct(appeals)]
