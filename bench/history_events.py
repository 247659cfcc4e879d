"""Count the history events of an appeal's journeys (and record them for replay tests).

    .venv/bin/python -m bench.history_events                         # print the counts
    .venv/bin/python -m bench.history_events --record tests/histories  # also write histories

Runs on the time-skipping test server with real embedded PostgreSQL activities.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from activities import db
from bench.journeys import (
    address_confirmed,
    address_corrected,
    escalated_path,
    full_path,
    happy_path,
    running_worker,
    thirty_day_path,
)
from devstack import binaries
from devstack.embedded import EmbeddedPostgres
from stack import search_attributes
from stack.client import DATA_CONVERTER
from stack.codec import decode_message
from stack.logs import configure

JOURNEYS = {
    "happy_path": happy_path,
    "escalated_path": escalated_path,
    "thirty_day_path": thirty_day_path,
    "full_path": full_path,
    "address_confirmed": address_confirmed,
    "address_corrected": address_corrected,
}


def max_pending_timers(history: WorkflowHistory) -> int:
    """The most durable timers the appeal held between two workflow tasks.

    Within one task a timer may be started and the old one cancelled; what the server holds
    is the count once the task's commands are applied.
    """
    pending = peak = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            pending += 1
        elif event.event_type in (EventType.EVENT_TYPE_TIMER_FIRED, EventType.EVENT_TYPE_TIMER_CANCELED):
            pending -= 1
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            peak = max(peak, pending)
    return peak


async def main(record: Path | None) -> None:
    configure("WARNING")
    postgres = EmbeddedPostgres(Path(tempfile.mkdtemp()) / "pg", delete_on_stop=True)
    pool = await db.create_pool(await postgres.ensure_database())
    await db.migrate(pool)
    try:
        for name, journey in JOURNEYS.items():
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=DATA_CONVERTER,
                test_server_existing_path=binaries.temporal_test_server(),
            )
            await search_attributes.add(env.client, search_attributes.ALL)
            async with running_worker(env.client, pool, f"bench-{name}"):
                handle = await journey(env, f"bench-{name}")
                history = await handle.fetch_history()
            await env.shutdown()
            kinds = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events)
            timers = max_pending_timers(history)
            print(f"{name}: {len(history.events)} events, at most {timers} timer(s) pending")
            for kind, n in kinds.most_common():
                print(f"    {n:3d}  {kind}")
            if record:
                # Recorded histories are read by every later build: store them decoded (the test
                # data is synthetic), not under a key that only this run had.
                proto = History(events=history.events)
                assert DATA_CONVERTER.payload_codec is not None
                await decode_message(proto, DATA_CONVERTER.payload_codec)
                history = WorkflowHistory(history.workflow_id, list(proto.events))
                record.mkdir(parents=True, exist_ok=True)
                (record / f"{name}.json").write_text(history.to_json())
                print(f"    recorded {record / f'{name}.json'}")
    finally:
        await pool.close()
        postgres.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--record", type=Path, help="write each history as JSON into this folder")
    asyncio.run(main(parser.parse_args().record))
