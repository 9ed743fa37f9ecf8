"""Runs end to end without IPFS: POST /runs -> worker -> local live HLS -> served."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from cache.cid import cid_of_bytes
from streamer.content.stores import hls_dir
from tests.api.conftest import LiveServer
from tests.api.helpers import api_error
from tests.api.live_media import (
    INPUT_RECIPE,
    ffprobe_json,
    live_recipe,
    make_clip_bytes,
    parse_playlist,
)


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
    assert live.res.keys.run_events(run_id).endswith(":events")


async def test_malformed_requests_get_the_json_error_shape(live_server: LiveServer) -> None:
    c = live_server.client
    api_error(
        await c.post("/runs", content=b"{nope", headers={"content-type": "application/json"}), 400
    )
    api_error(await c.post("/runs", json=[1, 2]), 400)
    api_error(await c.post("/runs", json={}), 400)
    api_error(await c.post("/runs", json={"recipe": "x", "bogus": 1}), 400)
    doc = api_error(await c.post("/runs", json={"recipe_id": "f" * 64}), 404)
    assert doc["field"] == "recipe_id"
    bad = live_recipe(2.0).replace("effect: hue", "effect: huee")
    doc = api_error(await c.post("/runs", json={"recipe": bad}), 422)
    assert doc["position"]["line"] == 13 and doc["position"]["column"] > 1, doc
    doc = api_error(await c.post("/runs", json={"recipe": "name: [unclosed\n"}), 422)
    assert doc["position"]["line"] >= 1
    doc = api_error(
        await c.post("/runs", json={"recipe": live_recipe(), "inputs": {"video": "nope"}}), 400
    )
    assert doc["field"] == "inputs.video"
    doc = api_error(
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
    api_error(await c.post("/runs", json={"recipe": live_recipe(), "pace": -1}), 400)
    api_error(await c.get("/runs/no-such-run"), 404)
    api_error(await c.get("/api/run/no-such-run"), 404)
    api_error(await c.get("/api/run/no-such-run/plan"), 404)
    api_error(await c.delete("/runs/no-such-run"), 404)
    api_error(await c.get("/runs/no-such-run/playlist.m3u8"), 404)
    api_error(await c.get("/runs", params={"limit": 0}), 400)
    api_error(await c.get("/runs", params={"status": "weird"}), 400)
    api_error(await c.get("/ipfs/not-a-cid"), 400)
    api_error(await c.get("/ipfs/not-a-cid/raw"), 400)


async def test_cancel_stops_a_running_render_then_delete(live_server: LiveServer) -> None:
    live = live_server
    resp = await live.client.post("/runs", json={"recipe": live_recipe(60.0), "pace": 1.0})
    run_id = resp.json()["run_id"]
    await live.wait_run(run_id, lambda r: r["segment_count"] >= 1)
    t0 = asyncio.get_running_loop().time()
    resp = await live.client.post(f"/runs/{run_id}/cancel")
    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert run["status"] == "cancelled", run
    assert asyncio.get_running_loop().time() - t0 < 5.0
    assert 1 <= run["segment_count"] < 60
    # the aborted playlist is closed so players stop waiting
    pl = parse_playlist((await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text)
    assert pl["endlist"] and len(pl["segments"]) < 60
    await asyncio.sleep(0.5)
    assert (await live.client.get(f"/api/run/{run_id}")).json()["status"] == "cancelled"
    resp = await live.client.delete(f"/runs/{run_id}")
    assert resp.status_code == 200 and resp.json()["deleted"] is True
    assert (await live.client.get(f"/runs/{run_id}")).status_code == 404
    assert not hls_dir(live.settings, run_id).exists()


async def test_delete_cancels_a_running_render_first(live_server: LiveServer) -> None:
    live = live_server
    resp = await live.client.post("/runs", json={"recipe": live_recipe(60.0), "pace": 1.0})
    run_id = resp.json()["run_id"]
    await live.wait_run(run_id, lambda r: r["status"] == "running")
    resp = await live.client.delete(f"/runs/{run_id}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"
    assert (await live.client.get(f"/api/run/{run_id}")).status_code == 404


async def test_missing_input_fails_the_run_clearly(live_server: LiveServer) -> None:
    live = live_server
    cid = cid_of_bytes(b"a clip nobody has")
    resp = await live.client.post("/runs", json={"recipe": INPUT_RECIPE, "inputs": {"video": cid}})
    assert resp.status_code == 201, resp.text
    run = await live.wait_run(
        resp.json()["run_id"], lambda r: r["status"] not in ("pending", "running")
    )
    assert run["status"] == "failed"
    assert "input 'video'" in run["error"] and cid in run["error"]


async def test_input_from_local_cache_and_sse_progress(live_server: LiveServer) -> None:
    live = live_server
    item = live.res.stores.local.put_bytes(make_clip_bytes(2.0), suffix=".mp4")
    resp = await live.client.post(
        "/runs", json={"recipe": INPUT_RECIPE, "inputs": {"video": item.cid}, "pace": 2.0}
    )
    run_id = resp.json()["run_id"]
    events: list[tuple[str, dict[str, Any]]] = []
    async with live.client.stream("GET", f"/runs/{run_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kind = None
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind:
                events.append((kind, json.loads(line.split(":", 1)[1])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "status" and "playlist" in kinds and "progress" in kinds
    assert events[-1][0] == "status" and events[-1][1]["status"] == "completed"
    counts = [e["segment_count"] for k, e in events if k == "playlist"]
    assert counts == sorted(counts) and counts[-1] >= 2
    run = (await live.client.get(f"/api/run/{run_id}")).json()
    assert run["status"] == "completed" and run["segment_count"] == counts[-1]


async def test_ipfs_raw_with_the_node_down_is_503(live_server: LiveServer) -> None:
    cid = cid_of_bytes(b"x")
    resp = await live_server.client.get(f"/ipfs/{cid}/raw")
    assert resp.status_code == 503 and resp.json()["status"] == 503
    redirect = await live_server.client.get(f"/ipfs/{cid}", follow_redirects=False)
    assert redirect.status_code == 302  # the redirect needs no node


async def test_analysis_endpoint(live_server: LiveServer) -> None:
    live = live_server
    analysis = {"version": 1, "tempo": 120.0}
    resp = await live.client.post("/runs", json={"recipe": live_recipe(1.0), "analysis": analysis})
    run_id = resp.json()["run_id"]
    assert (await live.client.get(f"/api/run/{run_id}/analysis")).json() == analysis
    await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
    other = await live.client.post("/runs", json={"recipe": live_recipe(1.0)})
    doc = await live.client.get(f"/api/run/{other.json()['run_id']}/analysis")
    assert doc.status_code == 404 and doc.json()["status"] == 404
    await live.wait_run(other.json()["run_id"], lambda r: r["status"] not in ("pending", "running"))


async def test_fmp4_runs_serve_init_and_media_segments(live_factory: Any, ffprobe: str) -> None:
    async with live_factory(HLS_CONTAINER="fmp4") as live:
        resp = await live.client.post("/runs", json={"recipe": live_recipe(2.0)})
        run_id = resp.json()["run_id"]
        run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
        assert run["status"] == "completed", run
        text = (await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text
        init = text.split('#EXT-X-MAP:URI="', 1)[1].split('"', 1)[0]
        assert init.endswith(".mp4")
        r = await live.client.get(f"/runs/{run_id}/{init}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("video/mp4")
        media = parse_playlist(text)["segments"][0][0]
        assert media.endswith(".m4s")
        r = await live.client.get(f"/runs/{run_id}/{media}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("video/iso.segment")
        probe = await ffprobe_json(
            ffprobe,
            f"{live.url}/runs/{run_id}/playlist.m3u8",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_streams",
        )
        assert int(probe["streams"][0]["nb_read_frames"]) == 50


async def test_segment_names_outside_the_run_are_404(live_server: LiveServer) -> None:
    live = live_server
    resp = await live.client.post("/runs", json={"recipe": live_recipe(1.0)})
    run_id = resp.json()["run_id"]
    await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
    secret = live.cache_dir / "secret.ts"
    secret.write_bytes(b"\x47" * 188)
    for name in (
        "..%2Fsecret.ts",
        "..%2F..%2Fsecret.ts",
        "secret.ts",
        "playlist.ipfs.m3u8",
        "x.exe",
    ):
        r = await live.client.get(f"/runs/{run_id}/{name}")
        assert r.status_code == 404, name
        assert r.json()["status"] == 404
