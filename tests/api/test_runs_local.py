"""Runs end to end without IPFS: POST /runs -> worker -> local live HLS -> served."""

from __future__ import annotations

from typing import Any

from streamer.live import events_channel
from tests.api.conftest import LiveServer
from tests.api.live_media import live_recipe, parse_playlist


async def test_run_renders_and_serves_local_hls(live_server: LiveServer) -> None:
    live = live_server
    resp = await live.client.post("/runs", json={"recipe": live_recipe(3.0)})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    run = await live.wait_run(run_id, lambda r: r["status"] in ("completed", "failed"))
    assert run["status"] == "completed", run
    assert run["playlist_cid"] is None  # no IPFS: nothing to redirect to
    assert run["output_cid"] and run["progress"] == 1.0
    resp = await live.client.get(f"/runs/{run_id}/playlist.m3u8")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert resp.headers["access-control-allow-origin"] == "*"
    pl = parse_playlist(resp.text)
    assert pl["endlist"] and pl["segments"]
    assert run["segment_count"] == len(pl["segments"])
    assert abs(sum(d for _, d in pl["segments"]) - 3.0) < 0.05
    seg = await live.client.get(f"/runs/{run_id}/{pl['segments'][0][0]}")
    assert seg.status_code == 200
    assert seg.headers["content-type"].startswith("video/mp2t")
    assert "immutable" in seg.headers["cache-control"]
    assert seg.content[0] == 0x47  # MPEG-TS sync byte
    ipfs = await live.client.get(f"/runs/{run_id}/ipfs", follow_redirects=False)
    assert ipfs.status_code == 404 and ipfs.json()["status"] == 404
    listing = (await live.client.get("/runs", params={"status": "completed"})).json()
    assert run_id in [r["run_id"] for r in listing["runs"]] and listing["total"] >= 1
    plan = (await live.client.get(f"/api/run/{run_id}/plan")).json()
    assert plan["recipe_id"] == run["recipe_id"] and plan["steps"]
    prov = (await live.client.get(f"/api/run/{run_id}/provenance")).json()
    assert prov["records"][0]["cid"] == run["output_cid"]
    assert events_channel(run_id).endswith(":events")


def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert doc["status"] == status and doc["title"] and doc["detail"]
    return doc


async def test_malformed_requests_get_the_json_error_shape(live_server: LiveServer) -> None:
    c = live_server.client
    _error(
        await c.post("/runs", content=b"{nope", headers={"content-type": "application/json"}), 400
    )
    _error(await c.post("/runs", json=[1, 2]), 400)
    _error(await c.post("/runs", json={}), 400)
    _error(await c.post("/runs", json={"recipe": "x", "bogus": 1}), 400)
    doc = _error(await c.post("/runs", json={"recipe_id": "f" * 64}), 404)
    assert doc["field"] == "recipe_id"
    bad = live_recipe(2.0).replace("effect: hue", "effect: huee")
    doc = _error(await c.post("/runs", json={"recipe": bad}), 422)
    assert doc["position"]["line"] == 13 and doc["position"]["column"] > 1, doc
    doc = _error(await c.post("/runs", json={"recipe": "name: [unclosed\n"}), 422)
    assert doc["position"]["line"] >= 1
    doc = _error(
        await c.post("/runs", json={"recipe": live_recipe(), "inputs": {"video": "nope"}}), 400
    )
    assert doc["field"] == "inputs.video"
    doc = _error(
        await c.post(
            "/runs",
            json={
                "recipe": live_recipe(),
                "inputs": {"video": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"},
            },
        ),
        422,
    )
    assert doc["field"] == "inputs.video"
    _error(await c.post("/runs", json={"recipe": live_recipe(), "pace": -1}), 400)
    _error(await c.get("/runs/no-such-run"), 404)
    _error(await c.get("/api/run/no-such-run"), 404)
    _error(await c.get("/api/run/no-such-run/plan"), 404)
    _error(await c.delete("/runs/no-such-run"), 404)
    _error(await c.get("/runs/no-such-run/playlist.m3u8"), 404)
    _error(await c.get("/runs", params={"limit": 0}), 400)
    _error(await c.get("/runs", params={"status": "weird"}), 400)
    _error(await c.get("/ipfs/not-a-cid"), 400)
    _error(await c.get("/ipfs/not-a-cid/raw"), 400)
