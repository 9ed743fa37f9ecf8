"""Recipes API on the real app (PostgreSQL + Redis): upload, list, detail, delete, run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cache.cid import cid_of_bytes
from streamer.settings import Settings
from tests.api.helpers import api_error, app_client

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def chain_yaml(name: str) -> str:
    return (
        (RECIPES / "effects-chain.yaml").read_text().replace("name: effects-chain", f"name: {name}")
    )


def chain_sexp(name: str) -> str:
    text = (RECIPES / "effects-chain.sexp").read_text()
    return text.replace('"effects-chain"', f'"{name}"', 1)


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
        user="recipe-tester",
        redis_prefix=redis_prefix,
        queue_name=f"{redis_prefix}recipes-queue",
    ) as c:  # no worker: runs stay pending
        yield c


async def _upload(client: Any, text: str) -> dict[str, Any]:
    resp = await client.post(
        "/recipes/upload", files={"file": ("r.yaml", text.encode(), "application/x-yaml")}
    )
    assert resp.status_code in (200, 201), resp.text
    return dict(resp.json())


async def test_upload_list_get_delete(client: Any) -> None:
    name = f"chain-{uuid.uuid4().hex[:8]}"
    doc = await _upload(client, chain_yaml(name))
    assert doc["created"] is True and doc["name"] == name
    rid = doc["recipe_id"]
    assert len(rid) == 64
    # same recipe again (raw S-expression body this time): same id, not created
    resp = await client.post("/recipes/upload", content=chain_sexp(name).encode())
    assert resp.status_code == 200, resp.text
    assert resp.json()["recipe_id"] == rid and resp.json()["created"] is False

    listed = (await client.get("/recipes", params={"name": name.upper()})).json()
    assert listed["total"] == 1 and [r["recipe_id"] for r in listed["recipes"]] == [rid]
    assert (await client.get("/recipes", params={"name": "no-such-" + name})).json()["total"] == 0
    page = (await client.get("/recipes", params={"limit": 1, "offset": 0})).json()
    assert page["limit"] == 1 and len(page["recipes"]) == 1 and page["total"] >= 1
    api_error(await client.get("/recipes", params={"limit": 0}), 400)

    detail = (await client.get(f"/recipes/{rid}")).json()
    assert detail["source"] == chain_yaml(name)
    assert detail["canonical"]["name"] == name
    assert detail["inputs"] == [{"name": "video", "type": "video", "description": "Source video"}]
    node_ids = {n["id"] for n in detail["dag"]["nodes"]}
    assert {"segment_1", "effect_2", "transform_1"} <= node_ids
    assert {"from": "effect_1", "to": "effect_2", "port": 0} in detail["dag"]["edges"]
    assert detail["dag"]["output"] == "transform_1"
    seg = next(n for n in detail["dag"]["nodes"] if n["id"] == "segment_1")
    assert seg["line"] == chain_yaml(name).splitlines().index("- id: segment_1") + 1
    assert detail["plan"]["steps"] >= 5 and detail["plan"]["levels"] >= 5
    assert detail["plan"]["node_types"]["EFFECT"] == 2

    assert (await client.delete(f"/recipes/{rid}")).json() == {"deleted": rid}
    api_error(await client.get(f"/recipes/{rid}"), 404)
    api_error(await client.delete(f"/recipes/{rid}"), 404)


async def test_broken_recipe_is_422_with_line_and_column(client: Any) -> None:
    broken = chain_yaml("broken").replace("effect: blur, radius: 2.5", "effect: blurr")
    resp = await client.post("/recipes/upload", files={"file": ("bad.yaml", broken.encode())})
    doc = api_error(resp, 422)
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if "blurr" in t)
    assert doc["position"]["line"] == line
    assert doc["position"]["column"] == broken.splitlines()[line - 1].index("blurr") + 1
    assert "blurr" in doc["detail"] and doc["position"]["file"] == "bad.yaml"
    syntax = "name: x\nsteps: [\n"
    doc = api_error(await client.post("/recipes/upload", content=syntax.encode()), 422)
    assert doc["position"]["line"] >= 2
    sexp = '(recipe "x" :version "1.0"\n  (-> (source :input "video") (effect invert)'
    doc = api_error(await client.post("/recipes/upload", content=sexp.encode()), 422)
    assert doc["position"]["line"] >= 1 and doc["position"]["column"] >= 1
    api_error(await client.post("/recipes/upload", content=b""), 400)
    api_error(await client.post("/recipes/upload", content=b"\xff\xfe bad"), 400)
    api_error(await client.post("/recipes/upload", content=b"x" * ((1 << 20) + 10)), 413)


async def test_upload_needs_a_token(client: Any) -> None:
    resp = await client.post(
        "/recipes/upload", content=chain_yaml("x").encode(), headers={"Authorization": ""}
    )
    # an empty Authorization header counts as no token
    assert resp.status_code == 401, resp.text


async def test_run_then_delete_conflict(client: Any) -> None:
    name = f"run-{uuid.uuid4().hex[:8]}"
    rid = (await _upload(client, chain_yaml(name)))["recipe_id"]
    video = cid_of_bytes(b"not really a video")
    api_error(await client.post(f"/recipes/{rid}/run", json={"inputs": {}}), 422)
    api_error(await client.post(f"/recipes/{rid}/run", json={"recipe": "x", "inputs": {}}), 400)
    api_error(await client.post(f"/recipes/{'0' * 64}/run", json={"inputs": {"video": video}}), 404)
    resp = await client.post(f"/recipes/{rid}/run", json={"inputs": {"video": video}})
    assert resp.status_code == 201, resp.text
    run = resp.json()
    assert run["recipe_id"] == rid and run["status"] == "pending"
    got = (await client.get(f"/api/run/{run['run_id']}")).json()
    assert got["recipe_id"] == rid and got["inputs"] == {"video": video}
    doc = api_error(await client.delete(f"/recipes/{rid}"), 409)
    assert run["run_id"] in doc["detail"]
    # once the run is over the recipe can go
    resp = await client.post(f"/runs/{run['run_id']}/cancel")
    assert resp.status_code == 200, resp.text
    assert (await client.delete(f"/recipes/{rid}")).status_code == 200
