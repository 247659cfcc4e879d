"""The HTTP API over real HTTP (uvicorn on a loopback port) against the dev server, a worker and
PostgreSQL. Every exchange is checked against the API's own /openapi.json (openapi-core)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openapi_spec_validator import validate
from temporalio.service import RPCError

from appeals.models import ACTIONS
from tests.api_support import Api, api
from tests.conftest import eventually, make_appeal

pytestmark = pytest.mark.e2e
__all__ = ["api"]  # the fixture


def appeal(minutes_ago: float = 5, **overrides: Any) -> dict[str, Any]:
    received = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return make_appeal(received, **overrides).model_dump(mode="json")


def wid(payload: dict[str, Any]) -> str:
    return f"appeal-{payload['channel']}-{payload['external_id']}"


async def started(api: Api, workflow_id: str) -> bool:
    try:
        await api.services.client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False
    return True


async def test_the_openapi_document_types_every_route_from_the_engine_models(api: Api):
    document = api.document
    validate(document)  # a valid OpenAPI 3.1 document
    paths = document["paths"]
    assert {"/appeals", "/appeals/{workflow_id}", "/healthz"} <= set(paths)
    schemas = document["components"]["schemas"]
    for name, model in ACTIONS.items():
        operation = paths[f"/appeals/{{workflow_id}}/actions/{name}"]["post"]
        assert operation["operationId"] == f"act_{name}"
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert set(schemas[model.__name__]["properties"]) == set(model.model_json_schema()["properties"])
        assert operation["security"] == [{"ApiKey": []}]
    intake = paths["/appeals"]["post"]["requestBody"]["content"]
    assert set(intake) == {"application/json", "application/x-ndjson"}
    assert set(schemas["AppealInput"]["properties"]) == set(make_appeal(datetime.now(UTC)).model_dump())
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    client = api.client(None, check=False)
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower() and "/openapi.json" in docs.text
    await client.close()


async def test_submitting_is_idempotent_201_then_200(api: Api):
    client = api.client("intake")
    payload = appeal()
    first = await client.post("/appeals", json=payload)
    assert first.status_code == 201, first.text
    assert first.json() == {"workflow_id": wid(payload), "outcome": "created", "changes": [], "detail": ""}
    assert first.headers["location"] == f"/appeals/{wid(payload)}"
    again = await client.post("/appeals", json=payload)
    assert again.status_code == 200 and again.json()["outcome"] == "already_submitted"
    changed = await client.post("/appeals", json=payload | {"text": "Снег так и не вывезли, уже неделя."})
    assert changed.status_code == 200
    assert changed.json()["outcome"] == "changes_recorded" and changed.json()["changes"] == ["text"]
    assert await started(api, wid(payload))
    await client.close()


async def test_a_bad_appeal_gets_422_naming_every_field_and_starts_nothing(api: Api):
    client = api.client("intake")
    payload = appeal() | {
        "text": "\u200b\u200b",
        "author": {},
        "coordinates": {"lat": 91, "lon": 0},
        "attachments": [{"url": "ftp://files/x"}],
        "colour": "red",
    }
    refused = await client.post("/appeals", json=payload)
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    fields = {p.split(":", 1)[0] for p in problems}
    assert {"text", "author", "coordinates.lat", "attachments.0.url", "colour"} <= fields, problems
    assert "Мария" not in refused.text and "\n" not in refused.json()["error"]
    ahead = appeal(minutes_ago=-60)
    late = await client.post("/appeals", json=ahead)
    assert late.status_code == 422 and late.json()["problems"][0].startswith("received_at:"), late.text
    not_json = await client.post("/appeals", content=b'{"channel": "vk",', headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and "JSON" in not_json.json()["error"]
    form = await client.post("/appeals", content=b"a=b", headers={"content-type": "text/plain"}, check=False)
    assert form.status_code == 415
    for sent in (payload, ahead):
        assert not await started(api, wid(sent))
    await client.close()


async def test_batches_are_all_or_nothing(api: Api):
    client = api.client("intake")
    one, two = appeal(), appeal()
    batch = await client.post("/appeals", json=[one, two, one])
    assert batch.status_code == 200, batch.text
    body = batch.json()
    assert body["counts"]["created"] == 2  # an exact repeat is one appeal, answered at each position
    assert [r["workflow_id"] for r in body["results"]] == [wid(one), wid(two), wid(one)]
    assert body["not_recorded"] == 0
    three = appeal()
    lines = "\n".join(json.dumps(p, ensure_ascii=False) for p in (two, three)) + "\n"
    ndjson = await client.post("/appeals", content=lines.encode(), headers={"content-type": "application/x-ndjson"})
    assert ndjson.status_code == 200, ndjson.text
    assert [r["outcome"] for r in ndjson.json()["results"]] == ["already_submitted", "created"]
    # One bad line refuses the batch; the good lines do not start.
    good, bad = appeal(), appeal() | {"text": ""}
    lines = json.dumps(good) + "\n" + json.dumps(bad) + "\n"
    refused = await client.post("/appeals", content=lines.encode(), headers={"content-type": "application/x-ndjson"})
    assert refused.status_code == 422
    assert refused.json()["problems"] == ["line 2: text: String should have at least 1 character"]
    # Two versions of one id refuse it too.
    other = appeal()
    versions = await client.post("/appeals", json=[other, other | {"text": "Другой текст обращения."}])
    assert versions.status_code == 422 and "two versions of" in versions.json()["error"]
    empty = await client.post("/appeals", json=[])
    assert empty.status_code == 422
    for sent in (good, other):
        assert not await started(api, wid(sent))
    await client.close()


async def _submitted(api: Api, **overrides: Any) -> str:
    client = api.client("intake")
    payload = appeal(**overrides)
    assert (await client.post("/appeals", json=payload)).status_code == 201
    await client.close()
    operator = api.client()

    async def routed() -> bool:
        response = await operator.get(f"/appeals/{wid(payload)}")
        return response.status_code == 200 and response.json()["state"]["status"] == "awaiting_acknowledgment"

    assert await eventually(routed)
    await operator.close()
    return wid(payload)


async def test_actions_execute_the_updates_and_refusals_are_409(api: Api):
    workflow_id = await _submitted(api)
    client = api.client()
    done = await client.post(f"/appeals/{workflow_id}/actions/acknowledge", json={"by": "ivanov"})
    assert done.status_code == 200, done.text
    assert done.json()["action"] == "acknowledge" and done.json()["status"] == "in_progress"
    twice = await client.post(f"/appeals/{workflow_id}/actions/acknowledge", json={"by": "ivanov"})
    assert twice.status_code == 409
    assert twice.json()["error"].startswith("acknowledge refused: already acknowledged by ivanov")
    assert "\n" not in twice.json()["error"]
    # The handler's ApplicationError is a refusal too.
    missing = f"appeal-vk-missing-{uuid.uuid4().hex[:8]}"
    dup = await client.post(f"/appeals/{workflow_id}/actions/mark_duplicate", json={"by": "op", "original": missing})
    assert dup.status_code == 409 and f"original: {missing} is not a registered appeal" in dup.json()["error"]
    # An Idempotency-Key makes a retry safe: the same outcome, not a second pause.
    pause = {"by": "ivanov", "reason": "Уточняем адрес у заявителя"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await client.post(f"/appeals/{workflow_id}/actions/pause", json=pause, headers=key)
    retry = await client.post(f"/appeals/{workflow_id}/actions/pause", json=pause, headers=key)
    assert first.status_code == retry.status_code == 200 and first.json() == retry.json()
    fresh = await client.post(f"/appeals/{workflow_id}/actions/pause", json=pause)
    assert fresh.status_code == 409, fresh.text
    await client.close()


async def test_an_action_right_after_the_submission_waits_for_the_routing(api: Api):
    client = api.client()
    for _ in range(3):
        payload = appeal()
        assert (await client.post("/appeals", json=payload)).status_code == 201
        done = await client.post(f"/appeals/{wid(payload)}/actions/acknowledge", json={"by": "ivanov"})
        assert done.status_code == 200, done.text
    await client.close()


async def test_unknown_actions_appeals_and_bad_bodies(api: Api):
    workflow_id = await _submitted(api)
    client = api.client()
    unknown = await client.post(f"/appeals/{workflow_id}/actions/frobnicate", json={"by": "x"})
    assert unknown.status_code == 404 and unknown.json()["actions"] == list(ACTIONS)
    nobody = f"appeal-vk-nobody-{uuid.uuid4().hex[:8]}"
    assert (await client.post(f"/appeals/{nobody}/actions/acknowledge", json={"by": "x"})).status_code == 404
    assert (await client.get(f"/appeals/{nobody}")).status_code == 404
    assert (await client.get("/appeals/hello")).status_code == 404
    empty = await client.post(f"/appeals/{workflow_id}/actions/answer", json={"by": "", "text": "  "})
    assert empty.status_code == 422
    assert {p.split(":")[0] for p in empty.json()["problems"]} == {"by", "text"}
    assert empty.json()["error"].startswith("answer refused: ")
    closing = {"by": "operator", "reason": "Реклама, не обращение"}
    assert (await client.post(f"/appeals/{workflow_id}/actions/mark_not_appeal", json=closing)).status_code == 200
    closed = await client.post(f"/appeals/{workflow_id}/actions/acknowledge", json={"by": "x"})
    assert closed.status_code == 409 and "closed" in closed.json()["error"], closed.text
    await client.close()


async def test_reading_an_appeal_gives_state_timeline_and_sla_in_its_zone(api: Api):
    workflow_id = await _submitted(api)
    client = api.client()
    response = await client.get(f"/appeals/{workflow_id}")
    view = response.json()
    assert view["zone"] == "Asia/Yekaterinburg"
    assert view["state"]["appeal"]["received_at"].endswith("+05:00")
    assert "timeline" not in view["state"]
    kinds = [e["kind"] for e in view["timeline"]]
    assert "routed" in kinds and all(e["at"].endswith("+05:00") for e in view["timeline"])
    assert {c["clock"]["name"] for c in view["sla"]} >= {"acknowledge", "answer"}
    assert all(c["clock"]["started_at"].endswith("+05:00") for c in view["sla"])
    forbidden = await api.client("intake").get(f"/appeals/{workflow_id}")
    assert forbidden.status_code == 403 and "may not read" in forbidden.json()["error"]
    await client.close()


async def test_listing_runs_the_ready_filters_with_paging(api: Api):
    category = f"api-{uuid.uuid4().hex[:8]}"
    intake = api.client("intake")
    old = [appeal(minutes_ago=30 * 24 * 60, category=category) for _ in range(3)]
    new = appeal(category=category)
    for payload in [*old, new]:
        assert (await intake.post("/appeals", json=payload)).status_code == 201
    await intake.close()
    client = api.client()
    mine = {"category": category, "executor": "tsur-triage@permkrai.ru"}

    async def listed(**params: Any) -> set[str]:
        response = await client.get("/appeals", params=mine | params)
        assert response.status_code == 200, response.text
        return {item["workflow_id"] for item in response.json()["items"]}

    assert await eventually(lambda: _equal(listed(), {wid(p) for p in [*old, new]}), timeout=40)
    assert await eventually(lambda: _equal(listed(filter="overdue"), {wid(p) for p in old}), timeout=40)
    assert await eventually(lambda: _equal(listed(filter=["breached", "overdue"]), {wid(p) for p in old}), timeout=40)
    first = (await client.get("/appeals", params=mine | {"filter": "overdue", "page_size": 2})).json()
    assert len(first["items"]) == 2 and first["next_page_token"]
    assert 'AppealCategory = "' + category + '"' in first["query"]
    more = {"filter": "overdue", "page_size": 2, "page_token": first["next_page_token"]}
    rest = await client.get("/appeals", params=mine | more)
    paged = [i["workflow_id"] for i in first["items"] + rest.json()["items"]]
    assert sorted(paged) == sorted(wid(p) for p in old) and rest.json()["next_page_token"] is None
    item = first["items"][0]
    assert item["ack_deadline"].endswith("+05:00") and item["sla_breached"] is True
    for bad in ({"filter": "soon"}, {"executor": 'x" OR 1=1'}, {"page_size": 1000}, {"page_token": "%%%"}):
        refused = await client.get("/appeals", params=bad)
        assert refused.status_code == 422, (bad, refused.text)
    await client.close()


async def _equal(found: Any, expected: set[str]) -> bool:
    return bool(await found == expected)
