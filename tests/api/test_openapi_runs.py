"""The OpenAPI document of the runs, recipes and 3-phase routers documents every body.

Every operation that takes a body has a request schema, every 2xx answer a
content schema (redirects, streams and files their media type), and the
documented limits are the ones the API enforces. The answers of a real upload
and run carry exactly the documented fields.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.models import CID_PATTERN, MAX_DURATION, MAX_LIMIT, MAX_OFFSET, MAX_PACE
from cache.cid import cid_of_bytes
from streamer.runs.status import RunStatus
from streamer.settings import Settings
from tests.api.helpers import api_error, app_client

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
TAGS = {"runs", "recipes", "phases"}
#: (method, path) -> the media type a non-JSON 2xx answer documents.
NOT_JSON = {
    ("get", "/runs/{run_id}/playlist.m3u8"): "application/vnd.apple.mpegurl",
    ("get", "/runs/{run_id}/events"): "text/event-stream",
    ("get", "/runs/{run_id}/{segment}"): "application/octet-stream",
}
REDIRECTS = {("get", "/runs/{run_id}/ipfs/{rung}")}
#: 302 to IPFS, or (a live ABR ladder run) 200 with a multivariant playlist.
REDIRECT_OR_PLAYLIST = {("get", "/runs/{run_id}/ipfs")}
WITHOUT_BODY = {("post", "/runs/{run_id}/cancel")}
EXPECTED = {
    ("post", "/runs"),
    ("get", "/runs"),
    ("get", "/runs/{run_id}"),
    ("delete", "/runs/{run_id}"),
    ("post", "/runs/{run_id}/cancel"),
    ("get", "/api/run/{run_id}"),
    ("get", "/api/run/{run_id}/plan"),
    ("get", "/api/run/{run_id}/analysis"),
    ("get", "/api/run/{run_id}/provenance"),
    ("post", "/recipes/upload"),
    ("post", "/recipes/validate"),
    ("get", "/recipes"),
    ("get", "/recipes/{recipe_id}"),
    ("delete", "/recipes/{recipe_id}"),
    ("post", "/recipes/{recipe_id}/run"),
    ("post", "/api/plan"),
    ("post", "/api/execute"),
    ("post", "/api/run-recipe"),
    *NOT_JSON,
    *REDIRECTS,
    *REDIRECT_OR_PLAYLIST,
}


@pytest.fixture
async def client(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Any]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )
    async with app_client(
        settings,
        user="openapi-tester",
        redis_prefix=redis_prefix,
        queue_name=f"{redis_prefix}openapi-queue",
    ) as c:  # no worker: runs stay pending
        yield c


@pytest.fixture
async def doc(client: Any) -> dict[str, Any]:
    resp = await client.get("/docs/openapi.json")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and TAGS & set(op.get("tags", []))
    }


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def _component(doc: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][name]
    return schema


def _json_schema(doc: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    schema = content["application/json"]["schema"]
    if "oneOf" in schema:  # an optional body: the model or null
        schema = next(s for s in schema["oneOf"] if s.get("type") != "null")
    return _resolve(doc, schema)


async def test_every_body_and_answer_has_a_schema(doc: dict[str, Any]) -> None:
    ops = _operations(doc)
    assert set(ops) == EXPECTED
    for key, op in ops.items():
        method, _ = key
        if method in ("post", "put", "patch") and key not in WITHOUT_BODY:
            content = op["requestBody"]["content"]
            assert content, key
            for media_type, body in content.items():
                schema = body["schema"]
                assert schema.get("$ref") or schema.get("type") or schema.get("oneOf"), (
                    key,
                    media_type,
                )
            if "application/json" in content:
                assert _json_schema(doc, content)["type"] == "object", key
        else:
            assert "requestBody" not in op, key
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if key in REDIRECTS:
            assert not ok and "location" in op["responses"]["302"]["headers"], key
            continue
        if key in REDIRECT_OR_PLAYLIST:
            assert "location" in op["responses"]["302"]["headers"], key
            assert list(ok) == ["200"], key
            assert list(ok["200"]["content"]) == ["application/vnd.apple.mpegurl"], key
            continue
        assert ok, key
        for code, answer in ok.items():
            if key in NOT_JSON:
                assert list(answer["content"]) == [NOT_JSON[key]], key
                continue
            schema = _json_schema(doc, answer["content"])
            assert schema["type"] == "object", (key, code)
            if key != ("get", "/api/run/{run_id}/analysis"):  # free-form JSON by design
                assert schema["properties"] and schema["required"], (key, code)


async def test_documented_limits_are_the_enforced_ones(doc: dict[str, Any]) -> None:
    run = _component(doc, "RunRequest")["properties"]
    assert run["pace"]["maximum"] == MAX_PACE and run["pace"]["exclusiveMinimum"] == 0
    assert run["duration"]["maximum"] == MAX_DURATION
    assert run["duration"]["exclusiveMinimum"] == 0
    assert run["inputs"]["additionalProperties"]["pattern"] == CID_PATTERN
    assert run["params"]["additionalProperties"]["type"] == "number"
    for name in ("recipe", "recipe_id", "inputs", "pace", "duration"):
        assert run[name]["description"], name
    assert set(_component(doc, "RenderRequest")["properties"]) == set(run) - {
        "recipe",
        "recipe_id",
    }
    assert set(_component(doc, "PlanRequest")["properties"]) == {
        "recipe",
        "recipe_id",
        "inputs",
        "params",
    }
    assert _component(doc, "ExecuteRequest")["properties"]["plan_id"]["pattern"]
    assert _component(doc, "RunStatus")["enum"] == [s.value for s in RunStatus]
    assert _component(doc, "RunView")["properties"]["status"]["$ref"].endswith("/RunStatus")
    assert set(_component(doc, "RunLinks")["required"]) >= {"self", "playlist", "events"}

    for path in ("/runs", "/recipes"):
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}
        assert params["limit"]["schema"]["minimum"] == 1
        assert params["limit"]["schema"]["maximum"] == MAX_LIMIT
        assert params["offset"]["schema"]["minimum"] == 0
        assert params["offset"]["schema"]["maximum"] == MAX_OFFSET
        assert all(p["description"] for p in params.values()), path
    status = next(p for p in doc["paths"]["/runs"]["get"]["parameters"] if p["name"] == "status")
    assert status["schema"]["oneOf"][0]["$ref"].endswith("/RunStatus")

    upload = doc["paths"]["/recipes/upload"]["post"]
    assert set(upload["requestBody"]["content"]) == {
        "multipart/form-data",
        "application/json",
        "text/plain",
    }
    assert {"200", "201"} <= set(upload["responses"])
    assert doc["paths"]["/recipes/{recipe_id}/run"]["post"]["requestBody"]["required"] is False


async def test_the_limits_answer_400(client: Any) -> None:
    for params, field in (
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "paused"}, "status"),
    ):
        assert api_error(await client.get("/runs", params=params), 400)["field"] == field
    assert (await client.get("/runs", params={"limit": MAX_LIMIT})).status_code == 200
    for body, field in (
        ({"recipe": "x", "pace": MAX_PACE * 2}, "pace"),
        ({"recipe": "x", "pace": 0}, "pace"),
        ({"recipe": "x", "duration": MAX_DURATION + 1}, "duration"),
        ({"recipe": "x", "inputs": {"video": "not-a-cid"}}, "inputs.video"),
        ({"recipe": "x", "colour": "red"}, "colour"),
        ({"recipe": "x", "recipe_id": "y"}, "recipe"),
        ({"recipe": "  "}, "recipe"),
    ):
        assert api_error(await client.post("/runs", json=body), 400)["field"] == field, body
    assert re.match(CID_PATTERN, cid_of_bytes(b"x")) and not re.match(CID_PATTERN, "not-a-cid")


async def test_answers_carry_the_documented_fields(client: Any, doc: dict[str, Any]) -> None:
    def check(body: dict[str, Any], name: str) -> None:
        schema = _component(doc, name)
        assert set(schema["required"]) <= set(body) <= set(schema["properties"]), name

    name = f"openapi-{uuid.uuid4().hex[:8]}"
    text = (
        (RECIPES / "effects-chain.yaml").read_text().replace("name: effects-chain", f"name: {name}")
    )
    resp = await client.post("/recipes/upload", json={"recipe": text})
    assert resp.status_code in (200, 201), resp.text
    check(resp.json(), "RecipeUploaded")
    check(resp.json()["links"], "RecipeLinks")
    rid = resp.json()["recipe_id"]
    check((await client.get("/recipes", params={"limit": 1})).json(), "RecipeList")
    detail = (await client.get(f"/recipes/{rid}")).json()
    check(detail, "RecipeDetail")
    check(detail["dag"]["edges"][0], "DagEdge")
    check(detail["plan"], "PlanSummary")

    # no body: the recipe's defaults, and it needs a video
    assert api_error(await client.post(f"/recipes/{rid}/run"), 422)["field"] == "inputs.video"
    resp = await client.post(f"/recipes/{rid}/run", json={"inputs": {"video": cid_of_bytes(b"v")}})
    assert resp.status_code == 201, resp.text
    check(resp.json(), "RecipeRunCreated")
    run_id = resp.json()["run_id"]
    view = (await client.get(f"/api/run/{run_id}")).json()
    check(view, "RunView")
    check(view["links"], "RunLinks")
    check((await client.get("/runs", params={"limit": 1})).json()["runs"][0], "RunSummary")
    check((await client.get(f"/api/run/{run_id}/plan")).json(), "PlanDocument")
    check((await client.get(f"/api/run/{run_id}/provenance")).json(), "ProvenanceList")
    check((await client.post(f"/runs/{run_id}/cancel")).json(), "RunDetail")
    check((await client.delete(f"/runs/{run_id}")).json(), "RunDeleted")
    check((await client.delete(f"/recipes/{rid}")).json(), "RecipeDeleted")
