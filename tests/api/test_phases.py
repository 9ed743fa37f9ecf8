"""The 3-phase API on the live app + worker: POST /api/plan, /api/execute, /api/run-recipe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import LiveServer
from tests.api.helpers import api_error

pytestmark = pytest.mark.timeout(240)


def two_branch_recipe(seed: int) -> str:
    """Two effect branches joined by a SEQUENCE (three rendered steps)."""
    return f"""\
name: phases-test
version: '1.0'
steps:
- id: a
  type: SOURCE
  config: {{generator: testsrc, duration: 1, width: 96, height: 64, fps: 10}}
- id: b
  type: SOURCE
  config: {{generator: noise, duration: 1, width: 96, height: 64, fps: 10, seed: {seed}}}
- id: fa
  type: EFFECT
  inputs: [a]
  config: {{effect: invert}}
- id: fb
  type: EFFECT
  inputs: [b]
  config: {{effect: blur, radius: 2}}
- id: joined
  type: SEQUENCE
  inputs: [fa, fb]
output: joined
"""


async def _done(live: LiveServer, run_id: str) -> dict[str, Any]:
    return await live.wait_run(
        run_id, lambda r: r["status"] in ("completed", "failed", "cancelled"), timeout=150
    )


async def test_plan_then_execute_then_everything_is_cached(live_server: LiveServer) -> None:
    c = live_server.client
    body = {"recipe": two_branch_recipe(11)}
    resp = await c.post("/api/plan", json=body)
    assert resp.status_code == 200, resp.text
    plan = resp.json()
    assert plan["total_steps"] == 5 and plan["cached_steps"] == 0
    assert [[s["step_id"] for s in lv] for lv in plan["levels"]] == [
        ["a", "b"],
        ["fa", "fb"],
        ["joined"],
    ]
    assert all(len(s["cache_id"]) == 64 for lv in plan["levels"] for s in lv)
    assert plan["plan"]["plan_id"] == plan["plan_id"]

    resp = await c.post("/api/execute", json={"plan_id": plan["plan_id"]})
    assert resp.status_code == 201, resp.text
    assert resp.json()["plan_id"] == plan["plan_id"]
    run = await _done(live_server, resp.json()["run_id"])
    assert run["status"] == "completed", run
    assert run["output_cid"] and run["progress"] == 1.0 and run["plan_id"] == plan["plan_id"]
    prov = (await c.get(f"/api/run/{run['run_id']}/provenance")).json()
    assert prov["records"][0]["cid"] == run["output_cid"]
    assert prov["records"][0]["record"]["infrastructure"]["software"]["name"] == "infra:artdag"

    again = (await c.post("/api/plan", json=body)).json()
    assert again["plan_id"] == plan["plan_id"]
    cached = {s["step_id"]: s["cached"] for lv in again["levels"] for s in lv}
    assert cached == {"a": False, "b": False, "fa": True, "fb": True, "joined": True}

    # the full pipeline on the same recipe reuses every step
    resp = await c.post("/api/run-recipe", json=body)
    assert resp.status_code == 201, resp.text
    rerun = await _done(live_server, resp.json()["run_id"])
    assert rerun["status"] == "completed", rerun
    assert rerun["output_cid"] == run["output_cid"]


async def test_run_recipe_renders_a_new_recipe(live_server: LiveServer) -> None:
    resp = await live_server.client.post("/api/run-recipe", json={"recipe": two_branch_recipe(12)})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["status"] == "pending" and created["recipe_id"]
    run = await _done(live_server, created["run_id"])
    assert run["status"] == "completed", run
    media = await live_server.client.get(f"/api/run/{created['run_id']}/plan")
    assert media.status_code == 200 and media.json()["output"] == "joined"


async def test_bad_recipe_is_422_with_its_position(live_server: LiveServer) -> None:
    bad = two_branch_recipe(1).replace("effect: blur", "effect: blurr")
    for path in ("/api/plan", "/api/run-recipe"):
        doc = api_error(await live_server.client.post(path, json={"recipe": bad}), 422)
        assert "blurr" in doc["detail"]
        assert doc["position"]["line"] == 17, doc


async def test_request_errors(live_server: LiveServer) -> None:
    c = live_server.client
    api_error(await c.post("/api/plan", json={"inputs": {}}), 400)
    api_error(await c.post("/api/plan", json={"recipe": "x", "bogus": 1}), 400)
    api_error(await c.post("/api/execute", json={}), 400)
    api_error(await c.post("/api/execute", json={"plan_id": "ab" * 32, "plan": {}}), 400)
    doc = api_error(await c.post("/api/execute", json={"plan_id": "ab" * 32}), 404)
    assert doc["field"] == "plan_id"
    api_error(await c.post("/api/execute", json={"plan": {"version": 99}}), 422)
    api_error(await c.post("/api/plan", json={"recipe_id": "f" * 64}), 404)
    needs_input = "name: n\nversion: '1'\ninputs:\n  video: {type: video}\n" + (
        "steps:\n- id: fx\n  type: EFFECT\n  inputs: [video]\n  config: {effect: invert}\n"
        "output: fx\n"
    )
    doc = api_error(await c.post("/api/run-recipe", json={"recipe": needs_input}), 422)
    assert "video" in doc["detail"]
    doc = api_error(
        await c.post(
            "/api/plan",
            json={"recipe": needs_input, "inputs": {"video": "Qm" + "1" * 44, "extra": "x"}},
        ),
        400,  # 'x' is not a CID
    )
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        api_error(await anonymous.post("/api/plan", json={"recipe": two_branch_recipe(1)}), 401)
