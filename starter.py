"""Intake: start appeals. Both a library for intake services and a CLI.

    python starter.py submit examples/appeal.json      # one appeal (or - for stdin)
    python starter.py batch examples/appeals.jsonl     # many, one JSON object a line
    python starter.py schema --out schema/             # JSON Schema for other languages

From Python:

    from starter import parse_appeal, submit
    submission = await submit(client, parse_appeal(payload))

Submitting the same appeal again returns the existing workflow: the workflow id is
`appeal-<channel>-<external id>`, and a second start of that id is refused by Temporal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from appeals.incidents import IncidentAnswer, LinkAppeal, OpenIncident
from appeals.models import ACTIONS, AppealInput, CitizenReply
from stack import search_attributes as sa
from stack.client import connect
from stack.process import exit_now
from stack.settings import WORKFLOW_TYPE, Settings

# A source clock may run a little ahead of ours; more than this is a wrong timestamp.
CLOCK_SKEW = timedelta(minutes=5)


class InvalidAppeal(ValueError):
    """The appeal was refused before any workflow started; `problems` names each field."""

    def __init__(self, problems: list[str], where: str = "appeal") -> None:
        self.problems = problems
        super().__init__(f"{where} refused:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Submission:
    workflow_id: str
    created: bool  # False: the appeal already existed, nothing new was started


def parse_appeal(
    payload: dict[str, Any] | str | bytes, *, now: datetime | None = None, where: str = "appeal"
) -> AppealInput:
    """Validate an appeal as an intake service sends it, naming every bad field."""
    try:
        appeal = (
            AppealInput.model_validate(payload)
            if isinstance(payload, dict)
            else AppealInput.model_validate_json(payload)
        )
    except ValidationError as err:
        raise InvalidAppeal([_describe(e) for e in err.errors()], where) from None
    now = now or datetime.now(UTC)
    if appeal.received_at > now + CLOCK_SKEW:
        raise InvalidAppeal(
            [f"received_at: {appeal.received_at.isoformat()} is in the future (now {now.isoformat()})"],
            where,
        )
    return appeal


def _describe(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(the whole appeal)"
    return f"{field}: {error['msg']}"


async def submit(client: Client, appeal: AppealInput, *, task_queue: str | None = None) -> Submission:
    """Start the appeal's workflow, or find the one that already exists."""
    attributes: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.APPEAL_STATUS, "registered"),
        SearchAttributePair(sa.APPEAL_CHANNEL, appeal.channel.value),
    ]
    if appeal.category:
        attributes.append(SearchAttributePair(sa.APPEAL_CATEGORY, appeal.category))
    if appeal.municipality:
        attributes.append(SearchAttributePair(sa.MUNICIPALITY, appeal.municipality))
    try:
        await client.start_workflow(
            WORKFLOW_TYPE,
            appeal,
            id=appeal.workflow_id,
            task_queue=task_queue or Settings().task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(attributes),
            memo={"summary": appeal.summary()},
            static_summary=appeal.summary(),
        )
    except WorkflowAlreadyStartedError:
        return Submission(appeal.workflow_id, created=False)
    return Submission(appeal.workflow_id, created=True)


async def submit_many(
    client: Client,
    appeals: Iterable[AppealInput],
    *,
    concurrency: int = 32,
    on_done: Callable[[Submission], None] | None = None,
) -> list[Submission]:
    """Submit appeals concurrently, in bounded parallel; results keep the input order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(appeal: AppealInput) -> Submission:
        async with gate:
            submission = await submit(client, appeal)
        if on_done:
            on_done(submission)
        return submission

    return list(await asyncio.gather(*(one(a) for a in appeals)))


def parse_batch(lines: Iterable[str], *, now: datetime | None = None) -> list[AppealInput]:
    """Validate a JSON-lines batch whole: if any line is bad, nothing is submitted."""
    appeals, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            appeals.append(parse_appeal(line, now=now, where=f"line {number}"))
        except InvalidAppeal as err:
            problems += [f"line {number}: {p}" for p in err.problems]
    if problems:
        raise InvalidAppeal(problems, "batch")
    return appeals


def write_schemas(out: Path) -> list[Path]:
    """JSON Schema of the input and of every action, for intake services in any language."""
    out.mkdir(parents=True, exist_ok=True)
    models = (
        {"appeal-input": AppealInput}
        | {f"action-{n}": m for n, m in ACTIONS.items()}
        | {"signal-citizen_replied": CitizenReply, "incident-open": OpenIncident}
        | {"incident-action-link_appeal": LinkAppeal, "incident-action-answer": IncidentAnswer}
    )
    written = []
    for name, model in models.items():
        path = out / f"{name}.schema.json"
        schema = model.model_json_schema()
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


# --- CLI ---------------------------------------------------------------------------------


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.exists():
        raise InvalidAppeal([f"{source}: no such file"], "input")
    return path.read_text(encoding="utf-8")


async def _cli(args: argparse.Namespace) -> int:
    if args.command == "schema":
        for path in write_schemas(Path(args.out)):
            print(path)
        return 0
    if args.command == "submit":
        appeal = parse_appeal(_read(args.file))
        client = await connect(Settings())
        submission = await submit(client, appeal)
        note = "" if submission.created else "   (already submitted; existing appeal kept)"
        print(submission.workflow_id + note)
        return 0
    appeals = parse_batch(_read(args.file).splitlines())
    client = await connect(Settings())
    done = {"new": 0, "existing": 0}

    def progress(submission: Submission) -> None:
        done["new" if submission.created else "existing"] += 1
        count = done["new"] + done["existing"]
        if count % max(1, len(appeals) // 20) == 0 or count == len(appeals):
            print(f"  {count}/{len(appeals)} submitted", file=sys.stderr, flush=True)

    await submit_many(client, appeals, on_done=progress)
    print(f"{done['new']} new, {done['existing']} already existed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="starter.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("submit", help="submit one appeal from a JSON file or stdin")
    one.add_argument("file", nargs="?", default="-", help="JSON file, or - for stdin")
    many = commands.add_parser("batch", help="submit a JSON-lines file of appeals")
    many.add_argument("file")
    schema = commands.add_parser("schema", help="write the JSON Schemas of input and actions")
    schema.add_argument("--out", default="schema")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_cli(args))
    except InvalidAppeal as err:
        print(err, file=sys.stderr)
        return 2
    except ConnectionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    exit_now(main())
