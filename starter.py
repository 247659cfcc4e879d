"""Intake: start appeals. Both a library for intake services and a CLI.

    python starter.py submit examples/appeal.json      # one appeal (or - for stdin)
    python starter.py batch examples/appeals.jsonl     # many, one JSON object a line
    python starter.py schema --out schema/             # JSON Schema for other languages

From Python, the library is `stack.intake` (re-exported here):

    from stack.intake import parse_appeal, submit
    submission = await submit(client, parse_appeal(payload))

Submitting the same appeal again finds the existing workflow: the workflow id is
`appeal-<channel>-<external id>`, and a second start of that id is refused by Temporal.
No content is dropped silently: the same content answers "already submitted"; other
content goes to the running appeal as the `resubmitted` signal, which records it for an
operator; a closed appeal cannot take it, and that is an error (see `Outcome`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from temporalio.service import RPCError

from appeals.incidents import IncidentAnswer, LinkAppeal, OpenIncident
from appeals.models import ACTIONS, AppealInput, CitizenReply
from stack.client import connect
from stack.errors import (
    OneLineParser,
    check_arguments,
    join,
    one_line,
    printable,
    read_text,
    unexpected,
)
from stack.intake import (  # noqa: F401 (the library, re-exported for intake services)
    CLOCK_SKEW,
    QUERY_TIMEOUT,
    RESUBMITTED_SIGNAL,
    InvalidAppeal,
    Outcome,
    Submission,
    distinct,
    parse_appeal,
    parse_batch,
    revalidated,
    submit,
    submit_many,
)
from stack.process import exit_now
from stack.settings import Settings


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
    try:
        return read_text(source)
    except ValueError as err:
        raise InvalidAppeal([str(err)], "input") from None


async def _cli(args: argparse.Namespace) -> int:
    if args.command == "schema":
        for path in write_schemas(Path(args.out)):
            print(path)
        return 0
    if args.command == "submit":
        appeal = parse_appeal(_read(args.file))
        client = await connect(Settings())
        submission = await submit(client, appeal)
        if submission.refused:
            print(f"error: {submission.describe()}", file=sys.stderr)
            return 2
        print(submission.describe())
        return 0
    appeals = parse_batch(_read(args.file).splitlines())
    client = await connect(Settings())
    counts = dict.fromkeys(Outcome, 0)

    def progress(submission: Submission) -> None:
        counts[submission.outcome] += 1
        count = sum(counts.values())
        if count % max(1, len(appeals) // 20) == 0 or count == len(appeals):
            print(f"  {count}/{len(appeals)} submitted", file=sys.stderr, flush=True)

    done = await submit_many(client, appeals, on_done=progress)
    print(
        f"{counts[Outcome.created]} new, {counts[Outcome.already_submitted]} already existed, "
        f"{counts[Outcome.changes_recorded]} existed with different content (recorded for an operator), "
        f"{counts[Outcome.closed] + counts[Outcome.unverified]} not recorded"
    )
    refused = [s.describe() for s in done if s.refused]
    if refused:
        print(f"error: {len(refused)} not recorded: {join(refused, 5)}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="starter.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("submit", help="submit one appeal from a JSON file or stdin")
    one.add_argument("file", nargs="?", default="-", help="JSON file, or - for stdin")
    many = commands.add_parser("batch", help="submit a JSON-lines file of appeals")
    many.add_argument("file")
    schema = commands.add_parser("schema", help="write the JSON Schemas of input and actions")
    schema.add_argument("--out", default="schema")
    args = parser.parse_args(argv)
    try:
        check_arguments(vars(args))
        return asyncio.run(_cli(args))
    except (InvalidAppeal, ValueError) as err:
        print(f"error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output went into `head` or a pager that closed: not an error
        return 0
    except ConnectionError as err:
        print(f"error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the schema directory cannot be written
        print(f"error: {printable(str(err))}", file=sys.stderr)
        return 2
    except RPCError as err:
        print(f"error: Temporal refused the request: {printable(err.message)}", file=sys.stderr)
        return 2
    except Exception as err:  # never a traceback for the user; APPEALS_DEBUG=1 shows it
        print(unexpected(err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    exit_now(main())
