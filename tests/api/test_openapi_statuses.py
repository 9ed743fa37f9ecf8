"""Every error status the API answers is documented for its operation (found by the fuzz tests).

Each case makes the request that answers the status and checks that
``/docs/openapi.json`` lists that status for the operation, in the API's one
error shape. Also: the OpenAPI links name operations and parameters that exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from streamer.auth import tokens
from streamer.keys import RedisKeys
from streamer.settings import Settings
from tests.api.helpers import api_error, app_client
from tests.api.live_media import live_recipe

BAD_RECIPE = "name: x\nversion: '1'\nsteps:\n  - id: a\n    type: [\n"
UNKNOWN_CID = "Qm" + "1" * 44


@dataclasses.dataclass
class Api:
    client: Any
    doc: dict[str, Any]
    settings: Settings

    def documented(self, method: str, path: str) -> dict[str, Any]:
        responses: dict[str, Any] = self.doc["paths"][path][method.lower()]["responses"]
        return responses

    async def check(
        self, status: int, method: str, path: str, url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """``method url`` answers ``status`` in the error shape, documented for ``path``."""
        body = api_error(await self.client.request(method, url or path, **kwargs), status)
        response = self.documented(method, path).get(str(status))
        assert response is not None, f"{method} {path}: {status} is not documented"
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
        return body


@pytest.fixture
async def api(pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
            "IMPORT_ROOTS": str(tmp_path / "imports"),
        }
    )
    (tmp_path / "imports").mkdir()
    async with app_client(
        settings,
        user="statuses",
        redis_prefix=redis_prefix,
        queue_name=f"{redis_prefix}statuses-queue",  # no worker: runs stay pending
    ) as c:
        resp = await c.get("/docs/openapi.json")
        assert resp.status_code == 200, resp.text
        yield Api(c, resp.json(), settings)


async def _recipe(api: Api, text: str) -> str:
    resp = await api.client.post("/recipes/upload", json={"recipe": text})
    assert resp.status_code in (200, 201), resp.text
    return str(resp.json()["recipe_id"])


async def test_missing_resources_answer_a_documented_404(api: Api) -> None:
    await api.check(404, "GET", "/runs/{run_id}", "/runs/nope")
    await api.check(404, "POST", "/runs/{run_id}/cancel", "/runs/nope/cancel")
    await api.check(404, "GET", "/recipes/{recipe_id}", "/recipes/nope")
    await api.check(404, "GET", "/cache/{cid}/meta", f"/cache/{UNKNOWN_CID}/meta")
    await api.check(404, "GET", "/storage/{provider_id}", "/storage/999999")
    await api.check(404, "GET", "/storage/type/{kind}", "/storage/type/nope")
    # the id names a resource in the body: declared on the handler
    body = await api.check(404, "POST", "/runs", json={"recipe_id": "nope"})
    assert body["field"] == "recipe_id"
    await api.check(404, "POST", "/api/plan", json={"recipe_id": "nope"})
    await api.check(404, "POST", "/api/run-recipe", json={"recipe_id": "nope"})
    body = await api.check(404, "POST", "/api/execute", json={"plan_id": "nope"})
    assert body["field"] == "plan_id"
    imports = api.settings.storage.import_roots[0]
    body = await api.check(404, "POST", "/cache/import", params={"path": f"{imports}/nope"})
    assert body["field"] == "path"


async def test_invalid_recipes_and_plans_answer_a_documented_422(api: Api) -> None:
    for path in ("/runs", "/api/plan", "/api/run-recipe"):
        body = await api.check(422, "POST", path, json={"recipe": BAD_RECIPE})
        assert body["field"] == "recipe" and body["position"]["line"] > 0
    await api.check(422, "POST", "/recipes/upload", json={"recipe": BAD_RECIPE})
    await api.check(422, "POST", "/api/execute", json={"plan": {}})
    body = await api.check(
        422,
        "POST",
        "/cache/upload",
        params={"media_only": "true", "filename": "notes.txt"},
        content=b"plain text, not media",
    )
    assert body["field"] == "file"


async def test_refusals_answer_a_documented_401_or_403(api: Api) -> None:
    body = await api.check(401, "GET", "/auth", params={"auth_token": "garbage"})
    assert body["field"] == "Authorization"
    body = await api.check(403, "POST", "/cache/import", params={"path": "/etc/hostname"})
    assert body["field"] == "path"
    other, _ = tokens.mint_token(tokens.cluster_key(api.settings), "someone-else")
    body = await api.check(403, "POST", "/auth/revoke", json={"token": other})
    assert body["field"] == "token"
    body = await api.check(403, "POST", "/auth/revoke-user", json={"user": "someone-else"})
    assert body["field"] == "user"
    # a literal private address: refused before any connection
    s3 = {"bucket": "fuzz-bucket", "endpoint_url": "http://10.255.0.1:9000"}
    body = await api.check(
        403, "POST", "/storage/add", json={"type": "s3", "name": "private", "config": s3}
    )
    assert body["field"] == "config.endpoint_url"


async def test_conflicts_answer_a_documented_409(api: Api, tmp_path: Path) -> None:
    store = tmp_path / "data" / "store"
    store.mkdir(parents=True)
    provider = {"type": "local", "name": "twice", "config": {"path": str(store)}}
    resp = await api.client.post("/storage/add", json=provider)
    assert resp.status_code == 201, resp.text
    body = await api.check(409, "POST", "/storage/add", json=provider)
    assert body["field"] == "name"

    recipe_id = await _recipe(api, live_recipe(1.0, name="status-409"))
    resp = await api.client.post(f"/recipes/{recipe_id}/run", json={})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    try:
        body = await api.check(409, "DELETE", "/recipes/{recipe_id}", f"/recipes/{recipe_id}")
        assert body["field"] == "recipe_id"
    finally:
        # the pending run's queued job: arq's key is outside the session prefix
        assert (await api.client.delete(f"/runs/{run_id}")).status_code == 200
        # (the app's clients live on the test client's loop: a client of our own)
        client = aioredis.Redis.from_url(api.settings.services.redis_url)
        await client.delete(f"arq:job:{RedisKeys.render_job_id(run_id)}")
        await client.aclose()


async def test_empty_recipe_upload_answers_a_documented_400(api: Api) -> None:
    body = await api.check(400, "POST", "/recipes/upload", content=b"  \n")
    assert body["field"] == "file"


async def test_health_documents_its_own_503_body(api: Api) -> None:
    """/health answers 503 with the Health document, not the error shape."""
    schema = api.documented("GET", "/health")["503"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Health"}


async def test_links_name_operations_and_parameters_that_exist(api: Api) -> None:
    operations = {
        op["operationId"]: (path, op)
        for path, item in api.doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    links = [
        (source, link)
        for source, item in api.doc["paths"].items()
        for op in item.values()
        if isinstance(op, dict)
        for response in op.get("responses", {}).values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 20, links
    targets = set()
    for source, link in links:
        path, op = operations[link["operationId"]]
        targets.add(path)
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert set(link.get("parameters", {})) == names, (source, link)
        if "requestBody" in link:
            assert "requestBody" in op, (source, link)
    assert {"/runs/{run_id}", "/recipes/{recipe_id}", "/cache/{cid}", "/api/execute"} <= targets
