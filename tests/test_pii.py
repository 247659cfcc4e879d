"""No personal data at rest in Temporal nor in any log line (152-ФЗ).

A full lifecycle runs on a dev server whose SQLite file this test owns, with the real worker and
`starter.py`: submitted, acknowledged, answered with a photo, accepted by the moderator, rated 5
by the citizen. Then the citizen's name, handle, phone, address and words are searched for in:
the SQLite file's bytes, the raw history and the describe/list answers fetched by a client with
NO codec, `temporal workflow show` without a codec, and every log line written meanwhile (stdlib
logging and structlog, the CLI's output, the processes' stdout and stderr). 0 hits expected.

Positive controls keep the scan honest: the same data is found once decoded with the key, and
through the codec server with its credential (which refuses a missing or wrong one with 401).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import structlog
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.history.v1 import History
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest, ListWorkflowExecutionsRequest
from temporalio.client import Client
from temporalio.converter import PayloadCodec
from temporalio.testing import WorkflowEnvironment

from appeals.models import Acknowledge, Attachment, Rate
from appeals.state import AppealResult
from devstack import binaries
from stack import codec_server, search_attributes
from stack.client import DATA_CONVERTER
from stack.codec import ENCODING, EncryptionCodec, decode_message
from tests.conftest import free_port, make_appeal, run_script, running_worker
from tests.scenarios import answer_and_publish, wait_for
from workflows.appeal import AppealWorkflow

pytestmark = pytest.mark.e2e

NAME = "Евлампия Феоктистовна Криптонова"
HANDLE = "id-kriptonova-7719"
PHONE = "+7 912 771-33-99"
ADDRESS = "ул. Засекреченная, д. 17, кв. 42"
TEXT = "Во дворе провалился люк возле качелей, дети Засекреченной улицы падают в яму каждый день."
PHOTO = "https://vk.example/photo-kriptonova-7719.jpg"
NEEDLES = {
    "name": NAME,
    "first name": "Евлампия",
    "patronymic": "Феоктистовна",
    "surname": "Криптонова",
    "handle": HANDLE,
    "phone": PHONE,
    "phone digits": "9127713399",
    "address": ADDRESS,
    "street": "Засекреченн",
    "text": TEXT,
    "words of the text": "провалился люк возле качелей",
    "citizen's photo": "photo-kriptonova",
}
TOKEN = "pii-test-token-0123456789abcdef"


def _forms(value: str) -> set[bytes]:
    """The needle as bytes: UTF-8, JSON-escaped ASCII (\\uXXXX), UTF-16."""
    return {value.encode(), json.dumps(value)[1:-1].encode(), value.encode("utf-16-le")}


def hits(where: str, data: bytes) -> list[str]:
    found = []
    for label, value in NEEDLES.items():
        for form in _forms(value):
            at = data.find(form)
            if at >= 0:
                context = data[max(0, at - 120) : at + len(form) + 60].decode("utf-8", "replace")
                found.append(f"{where}: {label} at byte {at}: …{context!r}…")
    return found


@contextmanager
def every_log_line() -> Iterator[io.StringIO]:
    """Every stdlib and structlog record at INFO (the production default), rendered as the
    process renders it (stack/logs.py's JSON lines)."""
    root = logging.getLogger()
    formatter = next(h.formatter for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter))
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(formatter)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def temporal_show(address: str, workflow_id: str, *codec: str) -> bytes:
    """`temporal workflow show` as an operator runs it, in text and in JSON; the JSON's payloads
    (base64 there) are parsed back into protobuf bytes, so plain text inside them is seen."""
    command = [binaries.temporal_cli(), "workflow", "show", "--address", address, "-w", workflow_id, *codec]
    text = subprocess.run(command, capture_output=True, timeout=60, check=True)
    as_json = subprocess.run([*command, "-o", "json"], capture_output=True, timeout=60, check=True)
    history = json_format.Parse(as_json.stdout, History(), ignore_unknown_fields=True)
    return text.stdout + text.stderr + as_json.stderr + history.SerializeToString()


class Encodings(PayloadCodec):
    """Walks like a codec and notes each payload's encoding, changing nothing."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.seen += [p.metadata.get("encoding", b"") for p in payloads]
        return list(payloads)


async def encodings_outside_search_attributes(history: History) -> list[bytes]:
    """The encoding of every payload in the history but the search attributes (which Temporal indexes)."""
    copy = History()
    copy.CopyFrom(history)
    for event in copy.events:
        event.workflow_execution_started_event_attributes.ClearField("search_attributes")
        event.ClearField("upsert_workflow_search_attributes_event_attributes")
    walker = Encodings()
    await decode_message(copy, walker)
    return walker.seen


async def post_decode(url: str, body: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers={"X-Namespace": "default", **headers}) as response:
            return response.status, await response.text()


async def test_no_personal_data_in_temporal_storage_nor_in_logs(tmp_path: Path, pool, task_queue, capfd):
    db_file = tmp_path / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=binaries.temporal_cli(),
        dev_server_database_filename=str(db_file),
        search_attributes=search_attributes.ALL,
    )
    address = env.client.service_client.config.target_host
    appeal = make_appeal(
        datetime.now(UTC),
        text=TEXT,
        author={"name": NAME, "handle": HANDLE, "contact": PHONE},
        address=ADDRESS,
        attachments=[Attachment(url=PHOTO, kind="photo")],
    )
    wid = appeal.workflow_id
    corpus: dict[str, bytes] = {}
    try:
        with every_log_line() as logged:
            async with running_worker(env.client, pool, task_queue):
                submitted = await asyncio.to_thread(
                    run_script, "starter.py", address, task_queue, "submit", "-", stdin=appeal.model_dump_json()
                )
                assert submitted.returncode == 0, submitted.stderr
                corpus["starter.py output"] = (submitted.stdout + submitted.stderr).encode()
                handle = env.client.get_workflow_handle(wid, result_type=AppealResult)
                await wait_for(handle, lambda s: s.executor is not None)
                await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
                await answer_and_publish(handle)  # with a photo, accepted by the moderator
                await handle.execute_update(AppealWorkflow.rate, Rate(by="citizen", score=5))
                result = await handle.result()
                assert result.status == "closed"
        corpus["log records (stdlib and structlog)"] = logged.getvalue().encode()

        # What Temporal holds, read by a client that has no codec.
        raw = await Client.connect(address, namespace=env.client.namespace)
        history = await raw.get_workflow_handle(wid).fetch_history()
        history_proto = History(events=history.events)
        corpus["raw history (protobuf)"] = history_proto.SerializeToString()
        corpus["raw history (JSON)"] = history.to_json().encode()
        execution = WorkflowExecution(workflow_id=wid)
        described = await raw.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=raw.namespace, execution=execution)
        )
        corpus["describe (memo, summary, search attributes)"] = described.SerializeToString()
        # Every payload is encrypted: the memo, the static summary, and all of the history's
        # (inputs, results, Update and signal arguments, markers, timer and activity summaries, failures).
        memo = described.workflow_execution_info.memo.fields
        assert memo and {p.metadata["encoding"] for p in memo.values()} == {ENCODING}
        assert described.execution_config.user_metadata.summary.metadata["encoding"] == ENCODING
        encodings = await encodings_outside_search_attributes(history_proto)
        assert len(encodings) >= 10 and set(encodings) == {ENCODING}, sorted(set(encodings))
        assert any(e.user_metadata.HasField("summary") for e in history.events), "no timer or activity summary"
        listed = await raw.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(namespace=raw.namespace, query=f'WorkflowId = "{wid}"')
        )
        assert listed.executions, "visibility does not list the appeal"
        corpus["visibility list"] = listed.SerializeToString()
        corpus["temporal workflow show (no codec)"] = await asyncio.to_thread(temporal_show, address, wid)

        # Positive control 1: decoded with the key, the data is there, so the scan can find it.
        codec = DATA_CONVERTER.payload_codec
        assert isinstance(codec, EncryptionCodec)
        decoded = History()
        decoded.CopyFrom(history_proto)
        await decode_message(decoded, codec)
        assert hits("decoded history", decoded.SerializeToString()), "the scan finds nothing even in decoded data"

        # The codec server: 401 without or with a wrong credential; decodes with the right one.
        creds = codec_server.parse_tokens(f"pii-test:{TOKEN}", "test")
        port = free_port()
        runner = await codec_server.start(
            codec_server.build_app(codec, creds, ["http://localhost:8233"]), "127.0.0.1", port
        )
        try:
            url = f"http://127.0.0.1:{port}"
            started = history.events[0].workflow_execution_started_event_attributes.input
            body = json_format.MessageToJson(started)
            assert (await post_decode(f"{url}/decode", body))[0] == 401
            assert (await post_decode(f"{url}/decode", body, Authorization="Bearer not-the-token-000000"))[0] == 401
            status, text = await post_decode(f"{url}/decode", body, Authorization=f"Bearer {TOKEN}")
            assert status == 200
            [payload] = json_format.Parse(text, Payloads()).payloads
            assert NAME.encode() in payload.data  # positive control 2
            # The README's command: the CLI decodes through the codec server with the credential.
            auth = ["--codec-endpoint", url, "--codec-auth", f"Bearer {TOKEN}"]
            assert NAME.encode() in await asyncio.to_thread(temporal_show, address, wid, *auth)
        finally:
            await runner.cleanup()
    finally:
        await env.shutdown()

    # The dev server's SQLite file (with its WAL and journal, if any), once the server has stopped.
    files = sorted(db_file.parent.glob(db_file.name + "*"))
    assert files and any(wid.encode() in f.read_bytes() for f in files), "the appeal is not in the SQLite file"
    for f in files:
        corpus[f"SQLite {f.name}"] = f.read_bytes()
    out, err = capfd.readouterr()
    corpus["stdout and stderr of this process and its children"] = (out + err).encode()

    found = [hit for where, data in corpus.items() for hit in hits(where, data)]
    print(f"PII scan: {len(corpus)} sources, {sum(map(len, corpus.values()))} bytes, {len(found)} hits")
    assert not found, "personal data found:\n" + "\n".join(found)
