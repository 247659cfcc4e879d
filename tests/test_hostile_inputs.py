"""The hostile-input suite: every entry point, every class of bad input, one dev server, one worker.

Every case in tests/hostile_cases.py must end in exactly one of:
- refused clearly: one line that names the field or the reason, no traceback, exit code 2 for our
  CLIs, nothing started and no state changed (a signal's refusal is a `signal_refused` entry in
  the timeline, stored like any other event);
- accepted correctly: the appeal exists once as a workflow and a row with its content stored, or
  the action's event is stored with its content.

Then, over everything the suite started: no workflow has a pending workflow task at attempt > 1,
no row is half-written (an appeals row without its workflow, a workflow without its row, a
timeline entry without its appeal_events row), and no output carries a traceback.

The table (tried, refused clearly, accepted correctly, bad) is printed; bad must be 0.
Run it alone: `pytest tests/test_hostile_inputs.py -s`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
import pytest_asyncio
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import RawValue
from temporalio.exceptions import FailureError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from appeals.models import ActionReceipt, AppealInput, Attachment, Author
from appeals.state import AppealState, TimelineEntry
from devstack import binaries
from stack import intake_watch
from stack.errors import reason
from starter import InvalidAppeal, parse_appeal, submit
from tests.conftest import running_worker
from tests.hostile_cases import ACCEPT, CASES, EITHER, EXT, REFUSE, REPORTED, SOON, Case, appeal

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
TRACEBACK = "Traceback (most recent call last)"
SETTLE = 45.0  # how long a start may take to be refused or registered
ROUTE = 90.0  # how long a target appeal may take to be routed while ~250 cases run on two cores
ACT = 45.0  # how long an Update may take to return (the dev server is slow under the suite's load)
SIGNAL = 30.0  # how long a signal may take to show in the timeline
T = TypeVar("T")


class Bad(Exception):
    """The case ended badly; the message is the evidence."""


@dataclass
class Outcome:
    case: Case
    verdict: str = "bad"  # refused | accepted | bad
    why: str = ""
    workflows: set[str] = field(default_factory=set)
    outputs: list[str] = field(default_factory=list)


@dataclass
class Report:
    outcomes: list[Outcome]
    stuck: list[str]  # workflow-task retry loops, with evidence
    half_written: list[str]
    tracebacks: list[str]
    unowned: list[str]  # global findings on workflows no case owns

    @property
    def bad(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == "bad"]


# --- Small helpers ----------------------------------------------------------------------------


class TracebackCatcher(logging.Handler):
    """Every log record of the run that carries a traceback (the worker's own output), with the
    workflow it came from when the SDK says so."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.found: dict[tuple[str, str], int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info:
            return
        details = getattr(record, "temporal_workflow", None)
        workflow_id = details.get("workflow_id", "") if isinstance(details, dict) else ""
        if not workflow_id:  # "Failed handling activation ... run ID ...": the run id is all it names
            workflow_id = f"run:{record.getMessage().rsplit(' ', 1)[-1]}" if "run ID" in record.getMessage() else ""
        error = record.exc_info[1]
        said = " ".join(f"{record.getMessage()[:160]} ({type(error).__name__}: {str(error)[:200]})".split())
        key = (workflow_id, said)
        self.found[key] = self.found.get(key, 0) + 1


def one_line(text: str) -> str | None:
    """The single non-blank line of `text`, or None if there is not exactly one."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0].strip() if len(lines) == 1 else None


def names(message: str, mentions: tuple[str, ...]) -> bool:
    return not mentions or any(m.lower() in message.lower() for m in mentions)


def _variants(sent: str) -> set[str]:
    """What a stored copy of `sent` may look like: as sent, stripped, or cleaned of the control
    and format characters that the models may strip where harmless."""
    norm = sent.replace("\r\n", "\n").replace("\r", "\n")
    no_control = "".join(c for c in norm if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    no_format = "".join(c for c in no_control if unicodedata.category(c) != "Cf")
    return {v for s in (sent, norm, no_control, no_format) for v in (s, s.strip(), " ".join(s.split()))}


def same(stored: Any, sent: Any) -> bool:
    if isinstance(sent, str):
        return isinstance(stored, str) and stored in _variants(sent)
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(same(stored.get(k), v) for k, v in sent.items() if v is not None)
    return bool(stored == sent)


def substitute(value: Any, table: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in table.items():
            value = value.replace(key, replacement)
        return value
    if isinstance(value, bytes):
        for key, replacement in table.items():
            value = value.replace(key.encode(), replacement.encode())
        return value
    if isinstance(value, dict):
        return {k: substitute(v, table) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(substitute(v, table) for v in value)
    return value


def raw_json(data: bytes) -> RawValue:
    """Exactly these JSON bytes as the argument, past the client's own serialiser."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"}, data=data))


async def within(seconds: float, awaitable: Awaitable[T], what: str) -> T:
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise Bad(f"{what}: no answer within {seconds:g} s") from None


def construct(payload: dict[str, Any]) -> AppealInput:
    """An AppealInput built without validation, as a careless intake service might."""
    fields = dict(payload)
    fields["author"] = Author.model_construct(**fields["author"])
    if "attachments" in fields:
        fields["attachments"] = [Attachment.model_construct(**a) for a in fields["attachments"]]
    return AppealInput.model_construct(**fields)


# --- The run: one dev server, one worker, every case concurrently ------------------------------


class Run:
    def __init__(self, env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, tmp: Path) -> None:
        self.client: Client = env.client
        self.pool = pool
        self.tmp = tmp
        self.tag = uuid.uuid4().hex[:6]
        self.task_queue = f"hostile-{self.tag}"
        self.address = self.client.service_client.config.target_host
        self.env = os.environ | {
            "TEMPORAL_ADDRESS": self.address,
            "APPEALS_TASK_QUEUE": self.task_queue,
            "APPEALS_DATABASE_URL": database_url,
            "APPEALS_LOG_LEVEL": "WARNING",
        }
        self.cli_gate = asyncio.Semaphore(2)  # two cores: keep the subprocesses from starving the worker
        self.start_gate = asyncio.Semaphore(24)
        self._other: asyncio.Task[str] | None = None
        self.owner: dict[str, Outcome] = {}
        self.runs: dict[str, str] = {}

    # Identities --------------------------------------------------------------------------

    def ext(self, index: int) -> str:
        return f"hx{self.tag}-{index:03d}"

    def table(self, index: int, target: str | None = None, other: str | None = None) -> dict[str, str]:
        ext = self.ext(index)
        table = {
            EXT: ext,
            "{incident}": f"hx{self.tag}-inc-{index:03d}",
            "{inc_category}": f"hxcat-{self.tag}-{index:03d}",
            "{inc_address}": f"Пермь, ул. Проверочная, {index}",
            "{soon}": SOON,
            "{tmp}": str(self.tmp),
            "{file}": str(self.tmp / f"{ext}.json"),
            "{dir}": str(self.tmp / f"{ext}.d"),
        }
        if target:
            table["{wf}"] = target
        if other:
            table["{other}"] = other
        return table

    # Temporal and PostgreSQL probes --------------------------------------------------------

    async def describe(self, workflow_id: str) -> Any | None:
        try:
            return await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    @staticmethod
    def attempt(description: Any) -> int:
        raw = description.raw_description
        return int(raw.pending_workflow_task.attempt) if raw.HasField("pending_workflow_task") else 0

    async def last_failures(self, workflow_id: str) -> tuple[str | None, str | None]:
        """(the workflow's failure, the last workflow-task failure), decoded, one line each."""
        handle = self.client.get_workflow_handle(workflow_id)
        failed = task = None
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                failed = await self._message(event.workflow_execution_failed_event_attributes.failure)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                task = await self._message(event.workflow_task_failed_event_attributes.failure)
        return failed, task

    async def _message(self, failure: Any) -> str:
        """The failure as decoded by the client (the codec may carry the message encrypted),
        keeping its raw line breaks: the top message, then each cause after ' <- '."""
        error: BaseException | None = await self.client.data_converter.decode_failure(failure)
        parts = []
        while error is not None:
            parts.append(error.message if isinstance(error, FailureError) else str(error))
            error = error.__cause__ if not isinstance(error, FailureError) else error.cause
        return " <- ".join(parts)

    async def row(self, workflow_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM appeals WHERE workflow_id = $1", workflow_id)

    async def wait_row(self, workflow_id: str, *, routed: bool = False, timeout: float = SETTLE) -> asyncpg.Record:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            row = await self.row(workflow_id)
            if row is not None and (not routed or row["executor"] is not None):
                return row
            if asyncio.get_running_loop().time() > deadline:
                description = await self.describe(workflow_id)
                evidence = await self.evidence(workflow_id) if description else "no such workflow"
                raise Bad(
                    f"{workflow_id}: no {'routed ' if routed else ''}appeals row after {timeout:g} s ({evidence})"
                )
            await asyncio.sleep(0.3)

    async def evidence(self, workflow_id: str) -> str:
        description = await self.describe(workflow_id)
        if description is None:
            return "no such workflow"
        failed, task = await self.last_failures(workflow_id)
        pending = [
            f"{a.activity_type.name} attempt {a.attempt}: {a.last_failure.message[:160]}"
            for a in description.raw_description.pending_activities
            if a.attempt > 1
        ]
        bits = [f"status {description.status.name if description.status else '?'}"]
        bits.append(f"workflow task attempt {self.attempt(description)}")
        if task:
            bits.append(f"last task failure: {task[:240]!r}")
        if failed:
            bits.append(f"failure: {failed[:240]!r}")
        if pending:
            bits.append("retrying activities: " + "; ".join(pending))
        return ", ".join(bits)

    async def state(self, workflow_id: str) -> AppealState:
        handle = self.client.get_workflow_handle(workflow_id)
        return await within(20, handle.query("get_state", result_type=AppealState), f"query {workflow_id}")

    async def snapshot(self, workflow_id: str) -> tuple[Any, ...]:
        """What a refused action must leave untouched: the state's content and the stored events."""
        state = await self.state(workflow_id)
        kept = [(e.seq, e.kind) for e in state.timeline if "refus" not in e.kind]
        stored = await self.pool.fetchval(
            "SELECT count(*) FROM appeal_events WHERE workflow_id = $1 AND kind NOT LIKE '%refus%'", workflow_id
        )
        return (
            state.status,
            state.acknowledged_by,
            state.answer,
            state.commitment,
            state.duplicate_of,
            state.incident_id,
            state.extended_until,
            state.executor,
            state.redirects,
            kept,
            stored,
        )

    async def settle(self, workflow_id: str, *, incident: bool = False) -> tuple[str, str]:
        """How a start ended: ("failed", message), ("running", ""), or raises Bad (a task loop,
        a closed workflow that should not be, or nothing after SETTLE seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE
        while True:
            description = await self.describe(workflow_id)
            if description is None:
                raise Bad(f"{workflow_id}: the start said started, but no such workflow")
            status = description.status
            if status == WorkflowExecutionStatus.FAILED:
                return "failed", await self.failed_intake(workflow_id)
            if status != WorkflowExecutionStatus.RUNNING:
                raise Bad(f"{workflow_id}: ended {status.name if status else '?'} instead of registering or failing")
            if incident:
                stored = await self.pool.fetchval(
                    "SELECT count(*) FROM incidents WHERE incident_id = $1", workflow_id.removeprefix("incident-")
                )
                if stored:
                    return "running", ""
            elif (row := await self.row(workflow_id)) is not None and row["executor"] is not None:
                return "running", ""
            if self.attempt(description) > 1:
                raise Bad(f"{workflow_id}: workflow task retry loop ({await self.evidence(workflow_id)})")
            if loop.time() > deadline:
                evidence = await self.evidence(workflow_id)
                raise Bad(f"{workflow_id}: neither registered nor failed after {SETTLE:g} s ({evidence})")
            await asyncio.sleep(0.3)

    async def failed_intake(self, workflow_id: str) -> str:
        """A failed start is recorded where operators look: its failed_intakes row, whose reason
        is what an operator reads (the intake watch runs beside the worker, as in `serve`)."""
        deadline = asyncio.get_running_loop().time() + SETTLE
        while True:
            found = await self.pool.fetchval(
                "SELECT reason FROM failed_intakes WHERE workflow_id = $1 ORDER BY failed_at DESC LIMIT 1", workflow_id
            )
            if found is not None:
                return str(found)
            if asyncio.get_running_loop().time() > deadline:
                failed, _ = await self.last_failures(workflow_id)
                raise Bad(f"{workflow_id} FAILED ({failed!r}), but no failed_intakes row after {SETTLE:g} s")
            await asyncio.sleep(0.5)

    async def absent(self, workflow_id: str) -> None:
        """A refusal at the door must not have started anything."""
        if await self.describe(workflow_id) is not None:
            raise Bad(f"refused, yet {workflow_id} was started ({await self.evidence(workflow_id)})")

    async def verify_appeal(self, workflow_id: str, sent: dict[str, Any]) -> None:
        """Accepted correctly: one workflow, running, and one row holding what was sent."""
        row = await self.wait_row(workflow_id, routed=True, timeout=ROUTE)
        description = await self.describe(workflow_id)
        if description is None or description.status not in (
            WorkflowExecutionStatus.RUNNING,
            WorkflowExecutionStatus.COMPLETED,
        ):
            raise Bad(f"{workflow_id}: accepted, but {await self.evidence(workflow_id)}")
        for key in ("channel", "external_id", "text", "category", "municipality", "address"):
            if key in sent and not same(row[key], sent[key]):
                raise Bad(f"{workflow_id}: {key} stored as {str(row[key])[:80]!r}, sent {str(sent[key])[:80]!r}")
        if not same(row["author"], sent["author"]):
            raise Bad(f"{workflow_id}: author stored as {row['author']!r}, sent {sent['author']!r}")
        # Stored means storable and harmless: no control character at all in a one-line field, and
        # none but line breaks and tabs in the text.
        stored = {f"author.{k}": v for k, v in row["author"].items()} | {
            k: row[k] for k in ("category", "municipality", "address", "text")
        }
        for key, value in stored.items():
            allowed = "\n\t" if key == "text" else ""
            controls = [f"U+{ord(c):04X}" for c in value or "" if unicodedata.category(c) == "Cc" and c not in allowed]
            if controls:
                raise Bad(f"{workflow_id}: {key} stored with the control characters {controls}: {value[:60]!r}")
        if isinstance(sent["received_at"], str):  # compared as instants, not as text
            if row["received_at"] != datetime.fromisoformat(sent["received_at"]):
                raise Bad(f"{workflow_id}: received_at stored as {row['received_at']}, sent {sent['received_at']}")
        runs = [w async for w in self.client.list_workflows(f'WorkflowId = "{workflow_id}"')]
        if len(runs) > 1:
            raise Bad(f"{workflow_id}: {len(runs)} executions for one appeal")

    async def recorded(self, workflow_id: str, text: str, timeout: float = SETTLE) -> None:
        """The new content of a resubmission is stored against the appeal for an operator."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await self.pool.fetchval(
                "SELECT count(*) FROM appeal_events WHERE workflow_id = $1 AND data::text LIKE '%' || $2 || '%'",
                workflow_id,
                json.dumps(text, ensure_ascii=False)[1:-1],
            )
            if found:
                return
            if asyncio.get_running_loop().time() > deadline:
                kinds = await self.pool.fetch(
                    "SELECT kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", workflow_id
                )
                raise Bad(
                    f"{workflow_id}: the resubmitted content was not recorded against the appeal "
                    f"(events: {[r['kind'] for r in kinds]})"
                )
            await asyncio.sleep(0.3)

    async def event(self, workflow_id: str, kind: str, data: dict[str, Any], after: int = 0) -> None:
        """An accepted action's event is stored, with its content."""
        deadline = asyncio.get_running_loop().time() + SETTLE
        while True:
            rows = await self.pool.fetch(
                "SELECT seq, kind, data FROM appeal_events WHERE workflow_id = $1 AND seq > $2 ORDER BY seq",
                workflow_id,
                after,
            )
            matching = [r for r in rows if r["kind"] == kind]
            if any(all(same(r["data"].get(k), v) for k, v in data.items()) for r in matching):
                return
            if asyncio.get_running_loop().time() > deadline:
                seen = [(r["kind"], {k: r["data"].get(k) for k in data}) for r in rows]
                raise Bad(f"{workflow_id}: no stored {kind} event with {data!r} (stored: {seen})")
            await asyncio.sleep(0.3)

    async def last_seq(self, workflow_id: str) -> int:
        return int(
            await self.pool.fetchval(
                "SELECT coalesce(max(seq), 0) FROM appeal_events WHERE workflow_id = $1", workflow_id
            )
        )

    # Targets -------------------------------------------------------------------------------

    async def target(self, index: int, setup: Iterable[tuple[str, Any]] = (), **overrides: Any) -> str:
        """A fresh appeal with this case's external id, routed, after the setup Updates."""
        fields = substitute(appeal(**overrides), self.table(index))
        async with self.start_gate:
            submission = await submit(self.client, AppealInput.model_validate(fields), task_queue=self.task_queue)
        await self.wait_row(submission.workflow_id, routed=True, timeout=ROUTE)
        handle = self.client.get_workflow_handle(submission.workflow_id)
        for name, args in setup:
            if name == "wait_closed":
                await within(SETTLE, handle.result(), f"{submission.workflow_id} closing after the setup")
                continue
            if "{other}" in json.dumps(args):
                args = substitute(args, {"{other}": await self.other()})
            try:
                await within(ACT, handle.execute_update(name, raw_json(json.dumps(args).encode())), f"setup {name}")
            except WorkflowUpdateFailedError as err:
                raise Bad(f"setup {name} refused: {reason(err)}") from None
        return submission.workflow_id

    async def other(self) -> str:
        """One routed appeal shared by the cases that need a real original."""
        if self._other is None:
            self._other = asyncio.create_task(self.target(999, text="Оригинальное обращение про снег."))
        return await self._other

    # Subprocesses ----------------------------------------------------------------------------

    async def run(self, argv: list[str], stdin: bytes | None, outcome: Outcome) -> tuple[int, str, str]:
        async with self.cli_gate:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await asyncio.wait_for(process.communicate(stdin), 90)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise Bad(f"{argv[1]} {' '.join(argv[2:4])}: no exit within 90 s") from None
        stdout, stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        outcome.outputs += [stdout, stderr]
        assert process.returncode is not None
        return process.returncode, stdout, stderr

    def prepare_files(self, case: Case, table: dict[str, str]) -> None:
        if case.file_content is not None:
            Path(table["{file}"]).write_bytes(substitute(case.file_content, table))
        directory = Path(table["{dir}"])
        if any("{dir}" in a for a in case.argv):
            directory.mkdir(exist_ok=True)

    # Verdicts ----------------------------------------------------------------------------------

    @staticmethod
    def refusal(case: Case, message: str | None, where: str) -> str:
        """A clear refusal, or Bad: exactly one line that names the field or the reason."""
        if message is None:
            raise Bad(f"{where}: the refusal is not one line")
        if TRACEBACK in message:
            raise Bad(f"{where}: a traceback: {message[:200]!r}")
        if not names(message, case.mentions):
            raise Bad(f"{where}: the refusal names none of {case.mentions}: {message[:240]!r}")
        return message

    # Entry points ------------------------------------------------------------------------------

    async def library(self, case: Case, index: int, outcome: Outcome) -> tuple[str, str]:
        table = self.table(index)
        payload = substitute(case.payload, table)
        if case.original is not None:
            original = substitute(case.original, table)
            first = await submit(self.client, parse_appeal(original), task_queue=self.task_queue)
            await self.wait_row(first.workflow_id, routed=True)
        workflow_id = f"appeal-vk-{self.ext(index)}"
        outcome.workflows.add(workflow_id)
        try:
            parsed = parse_appeal(payload)
        except InvalidAppeal as err:
            outcome.outputs.append(str(err))
            lines = [one_line(p) for p in err.problems]
            if not lines or any(line is None for line in lines):
                raise Bad(f"parse_appeal: a problem is not one line: {err.problems!r}") from None
            message = self.refusal(case, "; ".join(str(line) for line in lines), "parse_appeal")
            if case.original is None:
                await self.absent(workflow_id)
            return "refused", message
        except Exception as err:
            raise Bad(f"parse_appeal raised {type(err).__name__}, not InvalidAppeal: {str(err)[:200]!r}") from None
        try:
            async with self.start_gate:
                submission = await submit(self.client, parsed, task_queue=self.task_queue)
        except Exception as err:
            if case.reported and any(w in str(err).lower() for w in REPORTED):
                await self.recorded(workflow_id, payload["text"])
                return "accepted", f"reported: {str(err)[:120]}"
            raise Bad(f"submit raised {type(err).__name__}: {str(err)[:200]!r}") from None
        if case.original is not None:
            if submission.created:
                raise Bad(f"a resubmission started a second appeal: {submission!r}")
            if case.reported:
                if not any(w in repr(submission).lower() for w in REPORTED):
                    raise Bad(f"a resubmission with different content answered only {submission!r}")
                await self.recorded(workflow_id, payload["text"])
            await self.verify_appeal(submission.workflow_id, substitute(case.original, table))
            return "accepted", repr(submission)
        await self.verify_appeal(submission.workflow_id, payload)
        return "accepted", submission.workflow_id

    async def library_construct(self, case: Case, index: int, outcome: Outcome) -> tuple[str, str]:
        payload = substitute(case.payload, self.table(index))
        workflow_id = f"appeal-vk-{self.ext(index)}"
        outcome.workflows.add(workflow_id)
        try:
            async with self.start_gate:
                await submit(self.client, construct(payload), task_queue=self.task_queue)
        except (InvalidAppeal, ValueError) as err:
            message = self.refusal(case, one_line(str(err)), "submit")
            await self.absent(workflow_id)
            return "refused", message
        except Exception as err:
            raise Bad(f"submit raised {type(err).__name__}: {str(err)[:200]!r}") from None
        how, message = await self.settle(workflow_id)
        if how == "failed":
            return "refused", self.refusal(case, one_line(message), "the failed workflow's message")
        await self.verify_appeal(workflow_id, payload)
        return "accepted", workflow_id

    async def starter_cli(self, case: Case, index: int, outcome: Outcome) -> tuple[str, str]:
        table = self.table(index)
        self.prepare_files(case, table)
        if case.original is not None:
            first = await submit(
                self.client, parse_appeal(substitute(case.original, table)), task_queue=self.task_queue
            )
            await self.wait_row(first.workflow_id, routed=True)
        sent = [substitute(p, table) for p in case.batch]
        ids = {AppealInput.model_construct(**p).workflow_id for p in sent if "external_id" in p}
        outcome.workflows |= ids
        argv = [sys.executable, "starter.py", *(substitute(a, table) for a in case.argv)]
        code, stdout, stderr = await self.run(argv, substitute(case.stdin, table), outcome)
        return await self.cli_verdict(case, code, stdout, stderr, sent, table)

    async def cli_verdict(
        self, case: Case, code: int, stdout: str, stderr: str, sent: list[dict[str, Any]], table: dict[str, str]
    ) -> tuple[str, str]:
        if TRACEBACK in stdout + stderr:
            raise Bad(f"exit {code} with a traceback: {stderr.strip().splitlines()[-1][:200] if stderr else ''!r}")
        if code == 2:
            message = self.refusal(case, one_line(stderr), f"exit 2, stderr {stderr[:300]!r}")
            if case.original is None:
                for payload in sent:
                    await self.absent(AppealInput.model_construct(**payload).workflow_id)
            return "refused", message
        if code != 0:
            raise Bad(f"exit code {code}: {(stderr or stdout)[:300]!r}")
        versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for payload in sent:
            versions[AppealInput.model_construct(**payload).workflow_id].append(payload)
        for workflow_id, payloads in versions.items():
            if case.original is not None:
                payloads = [substitute(case.original, table), *payloads]
            if len(payloads) == 1:
                await self.verify_appeal(workflow_id, payloads[0])
                continue
            # One id, several contents: the first stays, every other one is reported and recorded.
            await self.verify_appeal(workflow_id, payloads[0])
            if any(p["text"] != payloads[0]["text"] for p in payloads[1:]):
                if not any(w in (stdout + stderr).lower() for w in REPORTED):
                    raise Bad(f"different content for {workflow_id} was not reported: {(stdout + stderr)[:300]!r}")
                for later in payloads[1:]:
                    await self.recorded(workflow_id, later["text"])
            elif "already" not in (stdout + stderr).lower():
                raise Bad(f"a resubmission did not say it already exists: {stdout[:200]!r}")
        return "accepted", one_line(stdout) or stdout.strip()[:120]

    async def appealctl(self, case: Case, index: int, outcome: Outcome) -> tuple[str, str]:
        target = other = None
        if case.needs_target:
            place: dict[str, str | None] = {"category": None, "address": None}
            if case.target_place:
                base = self.table(index)
                place = {"category": base["{inc_category}"], "address": base["{inc_address}"]}
            target = await self.target(index, case.setup, **{k: v for k, v in place.items() if v})
            outcome.workflows.add(target)
        if case.needs_other:
            other = await self.other()
        table = self.table(index, target, other)
        self.prepare_files(case, table)
        argv = [sys.executable, "appealctl.py", *(substitute(a, table) for a in case.argv)]
        acting = case.argv[0] == "act" and target is not None
        before = await self.snapshot(target) if acting and target else None
        after_seq = await self.last_seq(target) if target else 0
        code, stdout, stderr = await self.run(argv, None, outcome)
        if case.argv[:2] == ("incident", "open"):
            outcome.workflows.add(f"incident-{table['{incident}']}")
        if code == 2 and TRACEBACK not in stderr:
            message = self.refusal(case, one_line(stderr), f"exit 2, stderr {stderr[:300]!r}")
            if acting and target:
                if await self.snapshot(target) != before:
                    raise Bad(f"refused ({message}), yet the appeal's state changed")
            if case.argv[:2] == ("incident", "open"):
                await self.absent(f"incident-{table['{incident}']}")
            return "refused", message
        if code != 0 or TRACEBACK in stdout + stderr:
            return await self.cli_verdict(case, code, stdout, stderr, [], table)
        # Accepted: what it did must be stored.
        if acting and target:
            if case.argv[2] == "mark_duplicate":
                row = await self.wait_closed_row(target)
                if row["duplicate_of"] != other or row["status"] != "closed_duplicate":
                    raise Bad(f"{target}: stored as {row['status']} duplicate of {row['duplicate_of']!r}")
            elif case.accept_kind:
                await self.event(target, case.accept_kind, case.accept_data, after_seq)
        elif case.argv[:2] == ("incident", "open"):
            await self.incident_opened(case, table, target)
        elif not stdout.strip():
            raise Bad("exit 0 with no output")
        return "accepted", (one_line(stdout) or stdout.strip().splitlines()[0])[:120]

    async def wait_closed_row(self, workflow_id: str) -> asyncpg.Record:
        deadline = asyncio.get_running_loop().time() + SETTLE
        while True:
            row = await self.row(workflow_id)
            if row is not None and row["closed_at"] is not None:
                return row
            if asyncio.get_running_loop().time() > deadline:
                raise Bad(
                    f"{workflow_id}: not closed in PostgreSQL after {SETTLE:g} s ({await self.evidence(workflow_id)})"
                )
            await asyncio.sleep(0.3)

    async def incident_opened(self, case: Case, table: dict[str, str], target: str | None) -> None:
        incident_id = table["{incident}"]
        deadline = asyncio.get_running_loop().time() + SETTLE
        while not await self.pool.fetchval("SELECT count(*) FROM incidents WHERE incident_id = $1", incident_id):
            if asyncio.get_running_loop().time() > deadline:
                evidence = await self.evidence("incident-" + incident_id)
                raise Bad(f"incident {incident_id}: opened, but no incidents row ({evidence})")
            await asyncio.sleep(0.3)
        if target is None or case.linked_outcome is None:
            return
        committed = case.argv[case.argv.index("--committed-date") + 1]
        committed = substitute(committed, table)
        while True:
            entries = [
                e for e in (await self.state(target)).timeline if incident_id in json.dumps(e.model_dump(mode="json"))
            ]
            refused = [e for e in entries if "refus" in e.kind]
            linked = [e for e in entries if e.kind == "linked_to_incident"]
            if case.linked_outcome == "refused" and refused:
                return
            if case.linked_outcome == "refused" and linked:
                raise Bad(f"{target} took the impossible commitment {committed}: {linked[0].summary!r}")
            if case.linked_outcome == "linked" and linked:
                if linked[0].data.get("committed_date") != committed:
                    raise Bad(f"{target} linked without the commitment {committed}: {linked[0].data!r}")
                return
            if case.linked_outcome == "linked" and refused:
                raise Bad(f"{target} refused a valid incident: {refused[0].summary!r}")
            if asyncio.get_running_loop().time() > deadline:
                raise Bad(
                    f"{target}: nothing about incident {incident_id} in its timeline ({await self.evidence(target)})"
                )
            await asyncio.sleep(0.3)

    async def temporal_cli(self, case: Case, index: int, outcome: Outcome) -> tuple[str, str]:
        table = self.table(index)
        workflow_id = substitute(case.workflow_id, table)
        outcome.workflows.add(workflow_id)
        argv = [
            binaries.temporal_cli(),
            "workflow",
            "start",
            "--address",
            self.address,
            "--namespace",
            self.client.namespace,
            "--type",
            case.workflow_type,
            "--task-queue",
            self.task_queue,
            "--workflow-id",
            workflow_id,
            "--input",
            substitute(case.payload, table),
            *case.extra_flags,
        ]
        code, _, stderr = await self.run(argv, None, outcome)
        if "panic:" in stderr or "goroutine " in stderr:
            raise Bad(f"the temporal CLI panicked: {stderr[:200]!r}")
        if code != 0:
            await self.absent(workflow_id)
            return "refused", f"temporal CLI: {(one_line(stderr) or stderr.strip())[:160]}"
        how, message = await self.settle(workflow_id, incident=case.workflow_type == "IncidentWorkflow")
        if how == "failed":
            return "refused", self.refusal(case, one_line(message), f"the failed workflow's message {message[:300]!r}")
        if case.workflow_type == "AppealWorkflow":
            await self.verify_appeal(workflow_id, json.loads(substitute(case.payload, table)))
        return "accepted", workflow_id

    async def update(self, case: Case, index: int, outcome: Outcome) -> tuple[str, str]:
        target = await self.target(index, case.setup)
        outcome.workflows.add(target)
        other = await self.other() if "{other}" in json.dumps(case.args) else None
        table = self.table(index, target, other)
        data = case.raw if case.raw is not None else json.dumps(substitute(case.args, table)).encode()
        handle = self.client.get_workflow_handle(target)
        before = await self.snapshot(target)
        after_seq = await self.last_seq(target)
        try:
            receipt = await within(
                ACT,
                handle.execute_update(case.action, raw_json(data), result_type=ActionReceipt),
                f"Update {case.action} ({await self.evidence(target)})",
            )
        except WorkflowUpdateFailedError as err:
            message = self.refusal(case, one_line(reason(err)), f"Update refused with {reason(err)[:300]!r}")
            if await self.snapshot(target) != before:
                raise Bad(
                    f"refused ({message[:120]}), yet the appeal's state changed: the Update is half-applied"
                ) from None
            return "refused", message
        except RPCError as err:
            message = self.refusal(case, one_line(err.message), f"RPC error {err.message[:300]!r}")
            return "refused", message
        except Bad:
            raise
        except Exception as err:
            raise Bad(f"execute_update raised {type(err).__name__}: {str(err)[:200]!r}") from None
        outcome.outputs.append(receipt.model_dump_json())
        if case.action == "mark_duplicate":
            row = await self.wait_closed_row(target)
            if row["duplicate_of"] != other or row["status"] != "closed_duplicate":
                raise Bad(f"{target}: stored as {row['status']} duplicate of {row['duplicate_of']!r}")
        elif case.accept_kind:
            await self.event(target, case.accept_kind, case.accept_data, after_seq)
        return "accepted", f"{receipt.action} → {receipt.status}"

    async def signal(self, case: Case, index: int, outcome: Outcome) -> tuple[str, str]:
        target = await self.target(index, case.setup)
        outcome.workflows.add(target)
        table = self.table(index, target)
        data = case.raw if case.raw is not None else json.dumps(substitute(case.args, table)).encode()
        handle: WorkflowHandle[Any, Any] = self.client.get_workflow_handle(target)
        seen = max((e.seq for e in (await self.state(target)).timeline), default=0)
        await handle.signal(case.action, raw_json(data))
        deadline = asyncio.get_running_loop().time() + SIGNAL
        while True:
            description = await self.describe(target)
            if description is not None and self.attempt(description) > 1:
                raise Bad(
                    f"{target}: the signal put the workflow into a task retry loop ({await self.evidence(target)})"
                )
            if description is not None and description.status != WorkflowExecutionStatus.RUNNING:
                raise Bad(f"{target}: the signal ended the appeal ({await self.evidence(target)})")
            new: list[TimelineEntry] = [e for e in (await self.state(target)).timeline if e.seq > seen]
            refused = [e for e in new if "refus" in e.kind]
            accepted = [e for e in new if e.kind == case.accept_kind]
            if refused:
                entry = refused[0]
                told = entry.summary + " " + json.dumps(entry.data, ensure_ascii=False)
                self.refusal(case, one_line(entry.summary), f"timeline refusal {told[:300]!r}")
                if not names(told, case.mentions):
                    raise Bad(f"the refusal names none of {case.mentions}: {told[:240]!r}")
                outcome.outputs.append(entry.summary)
                await self.event(target, entry.kind, {}, entry.seq - 1)
                return "refused", entry.summary
            if accepted:
                entry = accepted[0]
                wanted = case.accept_data or (
                    {"text": case.args["text"]} if isinstance(case.args, dict) and "text" in case.args else {}
                )
                if not all(same(entry.data.get(k), v) for k, v in wanted.items()):
                    raise Bad(f"{case.accept_kind} recorded {entry.data!r}, sent {wanted!r}")
                await self.event(target, entry.kind, {}, entry.seq - 1)
                return "accepted", entry.summary
            if asyncio.get_running_loop().time() > deadline:
                kinds = [e.kind for e in new]
                raise Bad(
                    f"the {case.action} signal left no trace in the timeline after {SIGNAL:g} s "
                    f"(new entries: {kinds}; {await self.evidence(target)})"
                )
            await asyncio.sleep(0.3)

    # One case --------------------------------------------------------------------------------

    async def one(self, case: Case, index: int) -> Outcome:
        outcome = Outcome(case)
        runner: Callable[[Case, int, Outcome], Awaitable[tuple[str, str]]] = getattr(self, case.entry)
        try:
            verdict, why = await asyncio.wait_for(runner(case, index, outcome), 180)
        except Bad as err:
            outcome.why = str(err)
            return outcome
        except TimeoutError:
            outcome.why = "the case did not finish within 180 s"
            return outcome
        except Exception as err:
            outcome.why = f"the runner failed: {type(err).__name__}: {str(err)[:300]}"
            return outcome
        if verdict == "refused" and case.expect == ACCEPT:
            outcome.why = f"must be accepted, but was refused: {why}"
        elif verdict == "accepted" and case.expect == REFUSE:
            outcome.why = f"must be refused, but was accepted: {why}"
        else:
            outcome.verdict, outcome.why = verdict, why
        return outcome

    # The global checks --------------------------------------------------------------------------

    async def global_checks(self, outcomes: list[Outcome]) -> tuple[list[str], list[str], list[str]]:
        for outcome in outcomes:
            for workflow_id in outcome.workflows:
                self.owner.setdefault(workflow_id, outcome)
        stuck: list[str] = []
        half: list[str] = []
        unowned: list[str] = []

        def blame(workflow_id: str, finding: str, bucket: list[str]) -> None:
            bucket.append(f"{workflow_id}: {finding}")
            owner = self.owner.get(workflow_id)
            if owner is None:
                unowned.append(f"{workflow_id}: {finding}")
            elif owner.verdict != "bad":
                owner.verdict, owner.why = "bad", f"global check: {finding}"

        executions = [e async for e in self.client.list_workflows(f'TaskQueue = "{self.task_queue}"')]
        self.runs = {f"run:{e.run_id}": e.id for e in executions}
        appeals: dict[str, Any] = {}
        recorded = {
            r["workflow_id"]
            for r in await self.pool.fetch(
                "SELECT workflow_id FROM failed_intakes WHERE workflow_id LIKE $1", f"%hx{self.tag}%"
            )
        }
        for execution in executions:
            description = await self.describe(execution.id)
            if description is None:
                continue
            if description.status == WorkflowExecutionStatus.FAILED and execution.id not in recorded:
                if execution.workflow_type in ("AppealWorkflow", "IncidentWorkflow"):
                    blame(execution.id, "a failed start not recorded in failed_intakes", half)
            if self.attempt(description) > 1:
                blame(
                    execution.id,
                    f"workflow task attempt {self.attempt(description)} ({await self.evidence(execution.id)})",
                    stuck,
                )
            if execution.workflow_type == "AppealWorkflow":
                appeals[execution.id] = description
        rows = {
            r["workflow_id"]: r
            for r in await self.pool.fetch(
                "SELECT workflow_id, closed_at, last_event_seq FROM appeals WHERE external_id LIKE $1",
                f"hx{self.tag}-%",
            )
        }
        for workflow_id in rows:
            if workflow_id not in appeals and await self.describe(workflow_id) is None:
                blame(workflow_id, "an appeals row without its workflow", half)
        for workflow_id, description in appeals.items():
            status = description.status
            row = rows.get(workflow_id)
            if status == WorkflowExecutionStatus.FAILED:
                if row is not None and row["closed_at"] is None:
                    blame(workflow_id, "the workflow FAILED, but its row stays open", half)
            elif status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED) and row is None:
                if self.attempt(description) <= 1:
                    blame(workflow_id, f"a {status.name} workflow without its appeals row", half)
        # Every state change has its appeal_events row, and nothing is stored that the state lacks.
        checked = [w for w, d in appeals.items() if w in rows and d.status != WorkflowExecutionStatus.FAILED]
        pending = set(checked)
        deadline = asyncio.get_running_loop().time() + 20
        findings: dict[str, str] = {}
        while pending:
            for workflow_id in sorted(pending):
                try:
                    state = await self.state(workflow_id)
                except Exception as err:
                    findings[workflow_id] = f"query failed: {err}"
                    continue
                timeline = [(e.seq, e.kind) for e in state.timeline]
                stored = [
                    (r["seq"], r["kind"])
                    for r in await self.pool.fetch(
                        "SELECT seq, kind FROM appeal_events WHERE workflow_id = $1 ORDER BY seq", workflow_id
                    )
                ]
                last = await self.pool.fetchval(
                    "SELECT last_event_seq FROM appeals WHERE workflow_id = $1", workflow_id
                )
                if timeline == stored and last == (timeline[-1][0] if timeline else 0):
                    pending.discard(workflow_id)
                    findings.pop(workflow_id, None)
                else:
                    missing = sorted(set(timeline) - set(stored))
                    extra = sorted(set(stored) - set(timeline))
                    findings[workflow_id] = (
                        f"timeline and appeal_events differ: not stored {missing}, stored but not in the state "
                        f"{extra}, last_event_seq {last}"
                    )
            if not pending or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        for workflow_id in pending:
            blame(workflow_id, findings.get(workflow_id, "unchecked"), half)
        return stuck, half, unowned

    async def cleanup(self) -> None:
        async for execution in self.client.list_workflows(
            f'TaskQueue = "{self.task_queue}" AND ExecutionStatus = "Running"'
        ):
            try:
                await self.client.get_workflow_handle(execution.id).terminate("hostile-input suite over")
            except RPCError:
                pass


def table_text(report: Report) -> str:
    outcomes = report.outcomes
    lines = []

    def row(label: str, group: list[Outcome]) -> str:
        verdicts = Counter(o.verdict for o in group)
        return f"{label:<34}{len(group):>6}{verdicts['refused']:>10}{verdicts['accepted']:>10}{verdicts['bad']:>6}"

    header = f"{'':<34}{'tried':>6}{'refused':>10}{'accepted':>10}{'bad':>6}"
    lines += ["", "Hostile inputs: refused clearly / accepted correctly / bad", header, "-" * len(header)]
    lines.append(row("all", outcomes))
    lines.append("")
    for entry in dict.fromkeys(o.case.entry for o in outcomes):
        lines.append(row(f"entry {entry}", [o for o in outcomes if o.case.entry == entry]))
    lines.append("")
    for klass in sorted({o.case.klass for o in outcomes}):
        lines.append(row(f"class {klass}", [o for o in outcomes if o.case.klass == klass]))
    lines.append("")
    lines.append(f"workflow-task retry loops: {len(report.stuck)}")
    lines.append(f"half-written rows: {len(report.half_written)}")
    lines.append(f"outputs with a traceback: {len(report.tracebacks)}")
    lines += [f"  {t}" for t in report.tracebacks]
    if os.environ.get("HOSTILE_VERBOSE"):
        lines += ["", "Every case:"]
        for o in outcomes:
            lines.append(f"  {o.verdict:<8} [{o.case.entry}] {o.case.name}: {o.why[:300]}")
    if report.bad:
        lines += ["", "BAD cases:"]
        for o in report.bad:
            lines.append(f"  [{o.case.entry}] {o.case.name} ({o.case.klass}, expect {o.case.expect}): {o.why}")
    if report.unowned:
        lines += ["", "Findings on workflows no case owns:", *(f"  {u}" for u in report.unowned)]
    return "\n".join(lines)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def hostile_report(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Report]:
    run = Run(dev_env, pool, database_url, tmp_path_factory.mktemp("hostile"))
    catcher = TracebackCatcher()
    logging.getLogger().addHandler(catcher)
    async with running_worker(dev_env.client, pool, run.task_queue):
        watcher = asyncio.create_task(intake_watch.watch(dev_env.client, pool, None, run.task_queue, every=1.0))
        try:
            outcomes = list(await asyncio.gather(*(run.one(case, i) for i, case in enumerate(CASES))))
            stuck, half, unowned = await run.global_checks(outcomes)
            tracebacks = [
                f"[{o.case.entry}] {o.case.name}" for o in outcomes for text in o.outputs if TRACEBACK in text
            ]
            for (workflow_id, message), times in catcher.found.items():
                workflow_id = run.runs.get(workflow_id, workflow_id)
                owner = run.owner.get(workflow_id)
                where = f"[{owner.case.entry}] {owner.case.name}" if owner else workflow_id or "the worker"
                tracebacks.append(f"worker log, {where}: {message} (x{times})")
                if owner is not None and owner.verdict != "bad":
                    owner.verdict, owner.why = "bad", f"a traceback in the worker's log: {message}"
            report = Report(outcomes, stuck, half, tracebacks, unowned)
            print(table_text(report))
            yield report
        finally:
            logging.getLogger().removeHandler(catcher)
            watcher.cancel()
            await run.cleanup()


# --- The assertions -----------------------------------------------------------------------------


def test_the_table_has_at_least_120_cases_through_every_entry_point() -> None:
    assert len(CASES) >= 120
    assert len({(c.entry, c.name) for c in CASES}) == len(CASES), "case names repeat"
    entries = {c.entry for c in CASES}
    assert entries >= {"library", "library_construct", "starter_cli", "appealctl", "temporal_cli", "update", "signal"}
    assert all(c.expect in (REFUSE, ACCEPT, EITHER) for c in CASES)


@pytest.mark.timeout(600)
async def test_every_hostile_input_is_refused_clearly_or_accepted_correctly(hostile_report: Report) -> None:
    bad = [f"[{o.case.entry}] {o.case.name}: {o.why}" for o in hostile_report.bad]
    assert not bad, f"{len(bad)} of {len(hostile_report.outcomes)} cases ended badly:\n" + "\n".join(bad)


@pytest.mark.timeout(600)
async def test_no_workflow_task_is_retried(hostile_report: Report) -> None:
    assert not hostile_report.stuck, "\n".join(hostile_report.stuck)


@pytest.mark.timeout(600)
async def test_no_row_is_half_written(hostile_report: Report) -> None:
    assert not hostile_report.half_written, "\n".join(hostile_report.half_written)


@pytest.mark.timeout(600)
async def test_no_output_carries_a_traceback(hostile_report: Report) -> None:
    assert not hostile_report.tracebacks, "\n".join(hostile_report.tracebacks)
