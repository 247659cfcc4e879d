"""Operator commands for the appeals engine (tables by default, --json for scripts).

python appealctl.py submit examples/appeal.json        # or a .jsonl batch, with progress
python appealctl.py show appeal-vk-wall-123456_789     # state and SLA timeline, local time
python appealctl.py act appeal-vk-wall-123456_789 acknowledge by=ivanov
python appealctl.py act ID answer --input '{"by": "ivanov", "text": "..."}'
python appealctl.py overdue                            # open appeals past a deadline
python appealctl.py deadline --start 2026-12-30T17:00+05:00 --policy social --clock answer
python appealctl.py deadline --start 2026-03-19T16:00+03:00 --duration "4 working hours" --municipality Казань
python appealctl.py municipalities --unknown               # appeals planned on the default zone/calendar
python appealctl.py incident open --id heat-mira-12 --title "..." --category heating --address "..."
python appealctl.py incident link heat-mira-12 appeal-vk-123
python appealctl.py incident show heat-mira-12
python appealctl.py schema --out schema/

Tables and labels are in Russian, or in English with APPEALS_LANGUAGE=en (stack/texts/);
error messages are in English.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import ValidationError

from activities.db import create_pool
from activities.planning import CALENDAR_FILE, ConfigError, load, load_calendars
from appeals.durations import Duration
from appeals.incidents import LinkAppeal, OpenIncident, committed_date_problem
from appeals.safety import EARLIEST, LATEST
from appeals.working_calendar import CalendarConfig, Explanation
from stack.client import connect
from stack.errors import OneLineParser, check_arguments, describe, one_line, printable, unexpected
from stack.filters import filters
from stack.process import exit_now
from stack.settings import Settings
from stack.text_table import text_table
from stack.texts import Texts, label_width, texts
from starter import InvalidAppeal, write_schemas
from starter import main as starter_main
from tools import deadlines, reports
from tools import operator_commands as ops
from tools.municipalities import assumed as assumed_appeals
from tools.municipalities import known as known_municipalities


def _start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset, e.g. 2026-12-30T17:00+05:00")
    _in_range(moment.date())
    return moment


def _day(text: str) -> date:
    try:
        return _in_range(date.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def _in_range(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise argparse.ArgumentTypeError(f"{day.isoformat()} is outside {EARLIEST.isoformat()}..{LATEST.isoformat()}")
    return day


def _payload(args: argparse.Namespace) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if args.input:
        try:
            payload = json.loads(args.input)
        except json.JSONDecodeError as err:
            raise ops.CommandError(f"--input is not JSON: {err}") from None
        if not isinstance(payload, dict):
            raise ops.CommandError('--input must be a JSON object, e.g. {"by": "ivanov"}')
    for pair in args.fields:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ops.CommandError(f"{pair!r}: write fields as key=value")
        payload[key] = value
    return payload


def deadline(args: argparse.Namespace) -> int:
    settings = Settings()
    config_dir = settings.config_dir
    try:
        duration = (
            Duration.model_validate(args.duration)
            if args.duration
            else deadlines.duration_of(config_dir, args.policy, args.clock)
        )
    except ValidationError as err:
        raise ops.CommandError(f"--duration: {describe(err)}") from None
    try:
        explanation = deadlines.explain(config_dir, args.start, duration, args.municipality)
    except ValueError as err:
        raise ops.CommandError(str(err)) from None
    if args.json:
        print(explanation.model_dump_json(indent=2))
        return 0
    t = texts(settings.language)
    lines = [
        (t["cli_start"], args.start.isoformat()),
        (t["cli_duration"], str(duration)),
        (t["cli_zone"], explanation.zone),
        (t["cli_calendar"], _calendar_line(t, explanation)),
        (t["cli_deadline"], f"{explanation.deadline_local.isoformat()}   ({explanation.deadline.isoformat()})"),
    ]
    width = label_width(*(label for label, _ in lines))
    for label, value in lines:
        print(f"{label:<{width}} {value}")
    print(t["cli_why"])
    for line in explanation.reasons:  # worded by the calendar (appeals/working_calendar.py): English
        print(f"  - {line}")
    return 0


def _calendar_line(t: Texts, explanation: Explanation) -> str:
    if explanation.assumed:
        return t["cli_calendar_assumed"]
    if explanation.region:
        return t["cli_calendar_regional"].format(region=explanation.region)
    return t["cli_calendar_federal"]


async def municipalities(args: argparse.Namespace) -> int:
    settings = Settings()
    t = texts(settings.language)
    if not args.unknown:
        rows = known_municipalities(load_calendars(settings.config_dir)[0])
        if args.json:
            print(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, indent=2))
        else:
            table = ("municipality", "zone", "region", "region_file")
            print(text_table(t["cli_municipality_columns"], [[getattr(r, c) for c in table] for r in rows]))
        return 0
    if not settings.database_url:
        raise ops.CommandError("municipalities --unknown needs APPEALS_DATABASE_URL")
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        found = await assumed_appeals(pool, include_closed=not args.open)
    except asyncpg.UndefinedTableError:
        raise ops.CommandError("the database has no appeals tables yet: start a worker once to migrate it") from None
    finally:
        await pool.close()
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in found], ensure_ascii=False, indent=2, default=str))
    else:
        columns = ("workflow_id", "municipality", "status", "routed_at", "note")
        print(text_table(t["cli_unknown_columns"], [[getattr(r, c) for c in columns] for r in found]))
        print(t["cli_unknown_count"].format(count=len(found)))
    return 0


def _incident(args: argparse.Namespace) -> OpenIncident:
    problem = args.committed_date and committed_date_problem(args.committed_date, datetime.now(UTC).date())
    if problem:
        raise ops.CommandError(f"--{problem.replace('_', '-')}")
    return OpenIncident(
        incident_id=args.id,
        title=args.title,
        category=args.category,
        address=args.address,
        municipality=args.municipality,
        opened_by=args.by,
        committed_date=args.committed_date,
        reason=args.reason,
    )


async def against_temporal(args: argparse.Namespace) -> int:
    settings = Settings()
    # What can be refused without a server is refused before connecting.
    payload = _payload(args) if args.command == "act" else {}
    if args.command == "act":
        ops.validate_action(args.action, payload)
    incident = _incident(args) if args.command == "incident" and args.incident == "open" else None
    if args.command == "incident" and args.incident == "link":
        LinkAppeal(by=args.by, workflow_id=args.appeal)
    t = texts(settings.language)
    client = await connect(settings)
    if args.command == "show":
        state, sla, text = await ops.show(client, args.workflow_id, settings.language)
        print(
            json.dumps(
                {"state": state.model_dump(mode="json"), "sla": json.loads(ops.dumps(sla))},
                ensure_ascii=False,
                indent=2,
            )
            if args.json
            else text
        )
    elif args.command == "act":
        receipt = await ops.act(client, args.workflow_id, args.action, payload)
        print(
            ops.dumps(receipt)
            if args.json
            else t["cli_act_accepted"].format(
                action=receipt.action, at=f"{receipt.accepted_at:%Y-%m-%d %H:%M:%S %Z}", status=receipt.status
            )
        )
    elif args.command == "overdue":
        found = await ops.overdue(client)
        columns = ("workflow_id", "status", "executor", "escalation_level", "answer_deadline")
        table = text_table(t["cli_overdue_columns"], [[r[c] for c in columns] for r in found])
        print(ops.dumps(found) if args.json else table)
    elif incident is not None:
        print(await ops.open_incident(client, incident, settings))
    elif args.incident == "link":
        linked = await ops.link(client, args.incident_id, args.appeal, args.by)
        said = t["cli_incident_linked"].format(incident_id=linked.incident_id, count=linked.count)
        print(ops.dumps(linked) if args.json else said)
    else:
        incident_state = await ops.incident_state(client, args.incident_id)
        print(
            ops.dumps(incident_state)
            if args.json
            else t["cli_incident_show"].format(
                incident_id=incident_state.incident_id,
                status=incident_state.status,
                title=incident_state.title,
                count=incident_state.count,
                linked=", ".join(incident_state.linked),
            )
        )
    return 0


async def report(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.start > args.end:
        raise ops.CommandError(f"--from {args.start.isoformat()} is after --to {args.end.isoformat()}")
    if not settings.database_url:
        raise ops.CommandError("report needs APPEALS_DATABASE_URL (the embedded database prints it at start)")
    config, _ = load(settings.config_dir / CALENDAR_FILE, CalendarConfig)
    zone = ZoneInfo(config.default_zone)
    start = datetime.combine(args.start, time(0), zone)
    end = datetime.combine(args.end + timedelta(days=1), time(0), zone)
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        built = await reports.build_report(pool, start, end, config)
    except asyncpg.UndefinedTableError:
        raise ops.CommandError("the database has no appeals tables yet: start a worker once to migrate it") from None
    finally:
        await pool.close()
    if args.json:
        print(json.dumps(dataclasses.asdict(built), ensure_ascii=False, indent=2, default=str))
    else:
        print(reports.render_table(built, settings.language))
    if args.csv:
        args.csv.write_text(reports.render_csv(built, settings.language), encoding="utf-8")
        print(f"CSV:  {args.csv}")
    if args.html:
        args.html.write_text(reports.render_html(built, settings.language), encoding="utf-8")
        print(f"HTML: {args.html}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = OneLineParser(prog="appealctl.py", description="Operator commands for the appeals engine")
    commands = root.add_subparsers(dest="command", required=True)

    submit = commands.add_parser("submit", help="submit an appeal (JSON) or a batch (.jsonl)")
    submit.add_argument("file", help="a .json file, a .jsonl batch, or - for stdin")

    show = commands.add_parser("show", help="an appeal's state and SLA timeline, in local time")
    show.add_argument("workflow_id")
    show.add_argument("--json", action="store_true")

    act = commands.add_parser("act", help="send an action (a Temporal Update) to an appeal")
    act.add_argument("workflow_id")
    act.add_argument("action", help="acknowledge, answer, moderate, redirect, pause, ... (see README)")
    act.add_argument("fields", nargs="*", help="key=value fields of the action")
    act.add_argument("--input", help="the action as JSON")
    act.add_argument("--json", action="store_true")

    overdue = commands.add_parser("overdue", help=f"list appeals with {ops.OVERDUE}")
    overdue.add_argument("--json", action="store_true")

    due = commands.add_parser("deadline", help="when is it due? the deadline and the reasoning")
    due.add_argument("--start", type=_start, required=True, help="ISO 8601 instant with offset")
    what = due.add_mutually_exclusive_group(required=True)
    what.add_argument("--duration", help='e.g. "8 working hours", "30 calendar days"')
    what.add_argument("--policy", help="a policy name from sla.toml (with --clock)")
    due.add_argument("--clock", default="answer", help=f"with --policy: {', '.join(deadlines.CLOCKS)}")
    due.add_argument(
        "--municipality", help="picks the zone and the region's calendar (calendar.toml); unknown: the default, said"
    )
    due.add_argument("--json", action="store_true", help="machine-readable output")

    incident = commands.add_parser("incident", help="systemic incidents: open, link, show")
    verbs = incident.add_subparsers(dest="incident", required=True)
    opening = verbs.add_parser("open")
    for name in ("id", "title", "category", "address"):
        opening.add_argument(f"--{name}", required=True)
    opening.add_argument("--municipality")
    opening.add_argument("--committed-date", type=_day)
    opening.add_argument("--reason")
    opening.add_argument("--by", default="operator")
    linking = verbs.add_parser("link")
    linking.add_argument("incident_id")
    linking.add_argument("appeal")
    linking.add_argument("--by", default="operator")
    linking.add_argument("--json", action="store_true")
    showing = verbs.add_parser("show")
    showing.add_argument("incident_id")
    showing.add_argument("--json", action="store_true")

    report = commands.add_parser("report", help="SLA report from PostgreSQL for a period")
    report.add_argument("--from", dest="start", type=_day, required=True, help="first day, e.g. 2026-11-01")
    report.add_argument("--to", dest="end", type=_day, required=True, help="last day, inclusive")
    report.add_argument("--csv", type=Path, help="also write the rows as CSV here")
    report.add_argument("--html", type=Path, help="also write a self-contained HTML report with charts here")
    report.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")

    listing = commands.add_parser("filters", help="ready-made list filters for the UI, with today's instants")
    listing.add_argument("--executor", default="perm-roads@gorodperm.ru")
    listing.add_argument("--municipality", help="whose working hours (default Perm)")

    places = commands.add_parser("municipalities", help="the municipalities calendar.toml knows, or --unknown")
    places.add_argument("--unknown", action="store_true", help="appeals whose municipality was unknown (PostgreSQL)")
    places.add_argument("--open", action="store_true", help="with --unknown: only appeals not closed yet")
    places.add_argument("--json", action="store_true")

    schema = commands.add_parser("schema", help="write the JSON Schemas of the input and every action")
    schema.add_argument("--out", default="schema")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        check_arguments(vars(args))
        if args.command == "submit":
            verb = "batch" if args.file.endswith(".jsonl") else "submit"
            return starter_main([verb, args.file])
        if args.command == "deadline":
            return deadline(args)
        if args.command == "report":
            return asyncio.run(report(args))
        if args.command == "municipalities":
            return asyncio.run(municipalities(args))
        if args.command == "filters":
            settings = Settings()
            calendar = deadlines.calendar_for(settings.config_dir, args.municipality)
            headings = texts(settings.language)["filters"]
            for question, query in filters(datetime.now(UTC), calendar, args.executor).items():
                print(f"# {headings.get(question, question)}\n{query}\n")
            return 0
        if args.command == "schema":
            for path in write_schemas(Path(args.out)):
                print(path)
            return 0
        return asyncio.run(against_temporal(args))
    except ValidationError as err:
        print(f"error: {describe(err)}", file=sys.stderr)
        return 2
    except (ConfigError, KeyError, ValueError, ops.CommandError, InvalidAppeal) as err:
        message = str(err.args[0]) if isinstance(err, KeyError) else str(err)
        print(f"error: {one_line(message)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output went into `head` or a pager that closed: not an error
        return 0
    except ConnectionError as err:
        print(f"error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. --csv into a directory that does not exist
        print(f"error: {printable(str(err))}", file=sys.stderr)
        return 2
    except Exception as err:  # never a traceback for the operator; APPEALS_DEBUG=1 shows it
        print(unexpected(err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    exit_now(main())
