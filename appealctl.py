"""Operator commands for the appeals engine.

    python appealctl.py deadline --start 2026-12-30T17:00+05:00 --policy social --clock answer
    python appealctl.py deadline --start 2026-12-02T10:00+05:00 --duration "30 calendar days" \
        --municipality Кунгур --json
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from pydantic import ValidationError

from activities.planning import ConfigError
from appeals.durations import Duration
from stack import deadlines
from stack.settings import Settings


def _start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset, e.g. 2026-12-30T17:00+05:00")
    return moment


def deadline(args: argparse.Namespace) -> int:
    config_dir = Settings().config_dir
    if args.duration:
        duration = Duration.model_validate(args.duration)
    else:
        duration = deadlines.duration_of(config_dir, args.policy, args.clock)
    explanation = deadlines.explain(config_dir, args.start, duration, args.municipality)
    if args.json:
        print(explanation.model_dump_json(indent=2))
        return 0
    print(f"start      {args.start.isoformat()}")
    print(f"duration   {duration}")
    print(f"zone       {explanation.zone}")
    print(f"deadline   {explanation.deadline_local.isoformat()}   ({explanation.deadline.isoformat()})")
    print("why")
    for line in explanation.reasons:
        print(f"  - {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appealctl.py", description="Operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    due = commands.add_parser("deadline", help="when is it due? the deadline and the reasoning")
    due.add_argument("--start", type=_start, required=True, help="ISO 8601 instant with offset")
    what = due.add_mutually_exclusive_group(required=True)
    what.add_argument("--duration", help='e.g. "8 working hours", "30 calendar days"')
    what.add_argument("--policy", help="a policy name from sla.toml (with --clock)")
    due.add_argument("--clock", default="answer", help=f"with --policy: {', '.join(deadlines.CLOCKS)}")
    due.add_argument("--municipality", help="picks the time zone (calendar.toml); default Perm")
    due.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    try:
        return deadline(args)
    except (ConfigError, KeyError, ValidationError) as err:
        message = err.args[0] if isinstance(err, KeyError) else str(err)
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
