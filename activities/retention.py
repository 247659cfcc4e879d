"""Retention (152-ФЗ): erase the personal data of appeals closed long ago, in batches.

Where a citizen's personal data lands, and what erasure leaves there:

- `appeals`: `text` and `address` become "[erased]", each value of `author` too (its keys stay);
- `appeal_events`: in `data`, the values under PII_KEYS (free text and the citizen's identifiers)
  and any value that holds one of the citizen's identifiers become "[erased]"; the same words are
  replaced in `summary`. Rows, kinds, seqs and times stay: the audit trail keeps its shape. The
  append-only trigger lets exactly this through (migration 0004);
- `notifications`: the body, and the citizen's address (also inside the idempotency key);
  officials' addresses stay, since reports count by executor;
- `publications`: the recipient, the text and the attachments;
- `appeal_clocks`: the reasons given for pauses.

Incidents describe a place, not a person, and are shared by many appeals: they stay.
Open appeals are never touched. Each batch is one transaction, and an erased appeal is
never selected again, so a retried or repeated run erases nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from pydantic import AwareDatetime, Field
from temporalio import activity

from appeals.models import Model

ERASED = "[erased]"
# Keys of appeal_events.data whose values are free text or identify the citizen. An event that
# carries personal data must put it under one of these keys (or the erasure will not know it).
PII_KEYS = frozenset(
    {
        "text", "question", "reason", "reasons", "comment", "note", "recipient", "author", "name",
        "handle", "contact", "address", "coordinates", "attachments", "appeal", "content", "changes",
        "input", "payload", "raw",
    }
)  # fmt: skip
# Identifiers shorter than this are matched as whole values only, never inside longer text.
MIN_LEN_IN_TEXT = 4

log = structlog.get_logger(__name__)


class RetentionRequest(Model):
    """The retention workflow's input, as the schedule starts it."""

    retention_days: int = Field(ge=1, description="Erase appeals closed more than this many days ago")
    batch_size: int = Field(200, ge=1, le=5000, description="Appeals per transaction")
    cutoff: AwareDatetime | None = Field(None, description="Unset: now minus retention_days (workflow time)")


class RetentionRun(Model):
    run_key: str = Field(min_length=1)
    cutoff: AwareDatetime
    retention_days: int


class RetentionBatch(Model):
    run_key: str = Field(min_length=1)
    cutoff: AwareDatetime
    limit: int = Field(ge=1)


class RetentionReport(Model):
    run_key: str
    cutoff: datetime
    started_at: datetime
    finished_at: datetime | None
    appeals_erased: int


# --- Pure: what to erase ----------------------------------------------------------------------


def strings_in(value: Any) -> Iterable[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def holds_identifier(value: Any, identifiers: set[str]) -> bool:
    return any(
        s in identifiers or any(len(i) >= MIN_LEN_IN_TEXT and i in s for i in identifiers) for s in strings_in(value)
    )


def erase_data(data: dict[str, Any], identifiers: set[str]) -> tuple[dict[str, Any], set[str]]:
    """The event's data with personal values replaced (keys kept), and the strings taken out."""
    erased: dict[str, Any] = {}
    taken: set[str] = set()
    for key, value in data.items():
        personal = (key in PII_KEYS and any(True for _ in strings_in(value))) or holds_identifier(value, identifiers)
        if personal and value != ERASED:
            erased[key] = ERASED
            taken.update(s for s in strings_in(value) if s.strip() and s != ERASED)
        else:
            erased[key] = value
    return erased, taken


def scrub(text: str, words: set[str]) -> str:
    """`text` with every occurrence of the given words replaced, the longest first."""
    for word in sorted((w for w in words if len(w) >= MIN_LEN_IN_TEXT), key=len, reverse=True):
        text = text.replace(word, ERASED)
    return text


def identifiers_of(row: asyncpg.Record) -> set[str]:
    """The citizen's name, handle, contact and the appeal's address and text, as stored."""
    author = row["author"] if isinstance(row["author"], dict) else {}
    found = {str(v) for v in author.values() if v not in (None, "", ERASED)}
    found.update(v for v in (row["address"], row["text"]) if v and v != ERASED)
    return found


# --- SQL --------------------------------------------------------------------------------------

_START_RUN = """
INSERT INTO retention_runs (run_key, cutoff, retention_days) VALUES ($1, $2, $3)
ON CONFLICT (run_key) DO NOTHING
"""

_FINISH_RUN = """
UPDATE retention_runs SET finished_at = COALESCE(finished_at, now()) WHERE run_key = $1
RETURNING run_key, cutoff, started_at, finished_at, appeals_erased
"""

_DUE = """
SELECT workflow_id, text, author, address FROM appeals
WHERE closed_at IS NOT NULL AND closed_at < $1 AND status LIKE 'closed%' AND erased_at IS NULL
ORDER BY closed_at, workflow_id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""

_ERASE_APPEAL = """
UPDATE appeals SET
    text = $2,
    author = COALESCE((SELECT jsonb_object_agg(key, to_jsonb($2::text)) FROM jsonb_each(author)), '{}'::jsonb),
    address = CASE WHEN address IS NULL THEN NULL ELSE $2 END,
    erased_at = now()
WHERE workflow_id = $1
"""

_EVENTS = "SELECT seq, summary, data FROM appeal_events WHERE workflow_id = $1 AND erased_at IS NULL ORDER BY seq"
_ERASE_EVENT = "UPDATE appeal_events SET data = $3, summary = $4, erased_at = now() WHERE workflow_id = $1 AND seq = $2"

_NOTIFICATIONS = """
SELECT idempotency_key, seq, recipient_role, recipient, subject FROM notifications
WHERE workflow_id = $1 AND erased_at IS NULL
"""
_ERASE_NOTIFICATION = """
UPDATE notifications SET idempotency_key = $2, recipient = $3, subject = $4, body = $5, erased_at = now()
WHERE idempotency_key = $1
"""

_ERASE_PUBLICATIONS = """
UPDATE publications SET recipient = $2, text = $2, attachments = '[]'::jsonb, erased_at = now()
WHERE workflow_id = $1 AND erased_at IS NULL
"""

_ERASE_PAUSE_REASONS = """
UPDATE appeal_clocks SET pauses = (
    SELECT COALESCE(jsonb_agg(
        CASE WHEN jsonb_typeof(p -> 'reason') = 'string' THEN jsonb_set(p, '{reason}', to_jsonb($2::text)) ELSE p END
        ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(pauses) WITH ORDINALITY AS t(p, n))
WHERE workflow_id = $1 AND jsonb_typeof(pauses) = 'array' AND jsonb_array_length(pauses) > 0
"""

_COUNT = "UPDATE retention_runs SET appeals_erased = appeals_erased + $2 WHERE run_key = $1"


class RetentionActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def start_retention_run(self, run: RetentionRun) -> None:
        """Record the run (once: a retry or a continued run finds its row)."""
        await self._pool.execute(_START_RUN, run.run_key, run.cutoff, run.retention_days)

    @activity.defn
    async def erase_closed_appeals(self, batch: RetentionBatch) -> int:
        """Erase up to `limit` appeals closed before the cutoff, in one transaction; returns how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('appeals.erasure', 'on', true)")
            due = await conn.fetch(_DUE, batch.cutoff, batch.limit)
            for row in due:
                await _erase_appeal(conn, row)
            await conn.execute(_COUNT, batch.run_key, len(due))
        log.info("retention batch", run=batch.run_key, appeals_erased=len(due))
        return len(due)

    @activity.defn
    async def finish_retention_run(self, run_key: str) -> RetentionReport:
        row = await self._pool.fetchrow(_FINISH_RUN, run_key)
        if row is None:
            raise RuntimeError(f"retention run {run_key} was never started")
        return RetentionReport(**dict(row))


async def _erase_appeal(conn: asyncpg.Connection, appeal: asyncpg.Record) -> None:
    workflow_id = appeal["workflow_id"]
    identifiers = identifiers_of(appeal)
    events = await conn.fetch(_EVENTS, workflow_id)
    erased_events = []
    words = set(identifiers)
    for event in events:
        data = event["data"] if isinstance(event["data"], dict) else {}
        new_data, taken = erase_data(data, identifiers)
        words |= taken
        erased_events.append((event, new_data))
    updates = []
    for event, new_data in erased_events:
        summary = scrub(event["summary"], words)
        if new_data != event["data"] or summary != event["summary"]:
            updates.append((workflow_id, event["seq"], new_data, summary))
    await conn.executemany(_ERASE_EVENT, updates)
    notifications = []
    for n in await conn.fetch(_NOTIFICATIONS, workflow_id):
        key, recipient = n["idempotency_key"], n["recipient"]
        if n["recipient_role"] == "citizen" or recipient in identifiers:
            # The key ends with the address; keep it unique without keeping the address.
            key, recipient = f"{workflow_id}:{n['seq']}:erased-{uuid.uuid4().hex[:12]}", ERASED
        notifications.append((n["idempotency_key"], key, recipient, scrub(n["subject"], words), ERASED))
    await conn.executemany(_ERASE_NOTIFICATION, notifications)
    await conn.execute(_ERASE_PUBLICATIONS, workflow_id, ERASED)
    await conn.execute(_ERASE_PAUSE_REASONS, workflow_id, ERASED)
    await conn.execute(_ERASE_APPEAL, workflow_id, ERASED)
