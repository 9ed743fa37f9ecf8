"""The issue-6 acceptance walkthrough (docs/walkthrough.md) as HTTP calls on a live stack.

Real PostgreSQL, Redis, IPFS node and arq worker; the token comes from the
``artdag token create`` CLI, the media from the document's ffmpeg commands.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from cache.cid import cid_of_bytes
from interpreter.ids import canonical_json
from streamer.content.provenance import descriptor_cid, hardware_descriptor, software_descriptor
from streamer.keys import RedisKeys
from tests.api.conftest import LiveServer
from tests.api.live_media import parse_playlist
from tests.api.walkthrough import (
    CLIP_SECONDS,
    RECIPE,
    artdag_token,
    assert_error,
    make_media,
    sse_events,
)

pytestmark = pytest.mark.timeout(300)


async def _alice(live: LiveServer, redis_url: str, redis_prefix: str) -> httpx.AsyncClient:
    env = {"ARTDAG_DATA_DIR": str(live.settings.storage.data_dir), "REDIS_URL": redis_url}
    token = await artdag_token("alice", env, key_prefix=redis_prefix)
    return httpx.AsyncClient(
        base_url=live.url, timeout=60.0, headers={"Authorization": f"Bearer {token}"}
    )


async def _exec_total(live: LiveServer) -> int:
    counts = await live.redis.hgetall(RedisKeys(queue=live.queue_name).exec_counts)
    return sum(int(v) for v in counts.values())


@pytest.mark.asyncio(loop_scope="session")
async def test_walkthrough(
    live_server_ipfs: LiveServer, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    live = live_server_ipfs
    # 1. a token from the CLI; writes without it are refused
    c = await _alice(live, redis_url, redis_prefix)
    async with httpx.AsyncClient(base_url=live.url) as anonymous:
        assert_error(await anonymous.post("/recipes/upload", content=RECIPE.encode()), 401)
    try:
        await _walk(live, c, tmp_path)
    finally:
        await c.aclose()


async def _walk(live: LiveServer, c: httpx.AsyncClient, tmp_path: Path) -> None:
    # 2. upload the recipe (200 on a repeat upload of the same text)
    resp = await c.post(
        "/recipes/upload", content=RECIPE.encode(), headers={"Content-Type": "application/x-yaml"}
    )
    assert resp.status_code == 201, resp.text
    recipe = resp.json()
    rid = recipe["recipe_id"]
    assert re.fullmatch(r"[0-9a-f]{64}", rid) and recipe["name"] == "walkthrough"
    assert recipe["created"] is True
    again = await c.post("/recipes/upload", content=RECIPE.encode())
    assert again.status_code == 200 and again.json()["created"] is False
    detail = (await c.get(f"/recipes/{rid}")).json()
    assert sorted(i["name"] for i in detail["inputs"]) == ["audio", "video"], detail

    # 3. upload the two media files made with ffmpeg
    video, audio = await make_media(tmp_path)
    cids: dict[str, str] = {}
    for name, path, kind in (("video", video, "video"), ("audio", audio, "audio")):
        with path.open("rb") as fh:
            resp = await c.post("/cache/upload", files={"file": (path.name, fh)})
        assert resp.status_code == 201, resp.text
        cids[name] = resp.json()["cid"]
        assert cids[name] == cid_of_bytes(path.read_bytes())
        info = (await c.get(f"/cache/{cids[name]}")).json()
        assert info["kind"] == kind, info

    # 4. start a live run of the stored recipe
    resp = await c.post(f"/recipes/{rid}/run", json={"inputs": cids})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    assert resp.json()["links"]["events"] == f"/runs/{run_id}/events"

    # 5. follow it to the end with the SSE events
    events = await sse_events(c, f"/runs/{run_id}/events")
    kinds = [k for k, _ in events]
    assert kinds[0] == "status" and kinds[-1] == "status", kinds
    assert events[-1][1]["status"] == "completed", events[-1]
    playlists = [e for k, e in events if k == "playlist"]
    assert playlists and playlists[-1]["ended"] is True, kinds
    run = (await c.get(f"/runs/{run_id}")).json()
    assert run["status"] == "completed" and run["progress"] == 1.0, run
    assert run["inputs"] == cids and run["recipe_id"] == rid
    assert run["playlist_cid"] == run["output_cid"]  # IPFS reachable: the IPFS playlist

    # 6. plan, analysis, provenance
    plan = (await c.get(f"/api/run/{run_id}/plan")).json()
    assert plan["recipe_id"] == rid and plan["output"] == "out"
    assert {s["step_id"] for s in plan["steps"]} >= {"beats", "flash", "out"}
    assert [a["input_cid"] for a in plan["analysis"]] == [cids["audio"]]
    analysis = (await c.get(f"/api/run/{run_id}/analysis")).json()
    assert set(analysis) == {"beats"}, analysis.keys()
    assert analysis["beats"]["input_cid"] == cids["audio"]
    beats = analysis["beats"]["audio"]["beats"]
    assert len(beats) >= 3, beats
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert all(abs(g - 0.5) < 0.06 for g in gaps), gaps  # 120 BPM clicks
    prov = (await c.get(f"/api/run/{run_id}/provenance")).json()
    assert len(prov["records"]) == 1, prov
    entry = prov["records"][0]
    rec = entry["record"]
    assert set(rec) == {
        "task_id",
        "rendered_at",
        "rendered_by",
        "output",
        "inputs",
        "effects",
        "infrastructure",
    }
    assert rec["output"] == {"name": "walkthrough.m3u8", "cid": run["output_cid"]}
    assert sorted((i["name"], i["cid"]) for i in rec["inputs"]) == sorted(cids.items())
    assert [e["name"] for e in rec["effects"]] == ["hue"] and rec["effects"][0]["version"]
    assert rec["rendered_by"].startswith("@alice@")
    assert rec["task_id"] == f"render:{run_id}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", rec["rendered_at"])
    infra = rec["infrastructure"]
    assert infra["software"] == {
        "name": "infra:artdag",
        "cid": descriptor_cid(software_descriptor()),
    }
    hw = hardware_descriptor()
    assert infra["hardware"] == {"name": f"infra:{hw['hostname']}", "cid": descriptor_cid(hw)}
    assert entry["record_cid"] == cid_of_bytes(canonical_json(rec).encode())
    assert run["provenance"]["record_cid"] == entry["record_cid"]
    assert run["links"]["provenance"] == f"/api/run/{run_id}/provenance"
    # the record (and the descriptors) are on IPFS, byte for byte
    on_ipfs = await c.get(f"/ipfs/{entry['record_cid']}/raw")
    assert on_ipfs.status_code == 200, on_ipfs.text
    assert json.loads(on_ipfs.content) == rec

    # 7. outputs: the live playlist, a segment, and the MP4 with a Range request
    pl = parse_playlist((await c.get(f"/runs/{run_id}/playlist.m3u8")).text)
    assert pl["endlist"] and abs(sum(d for _, d in pl["segments"]) - CLIP_SECONDS) < 0.1
    seg = await c.get(f"/runs/{run_id}/{pl['segments'][0][0]}")
    assert seg.status_code == 200 and seg.content[0] == 0x47
    out = run["output_cid"]
    head = await c.get(f"/cache/{out}/mp4", headers={"Range": "bytes=0-1023"})
    assert head.status_code == 206, head.text
    assert head.headers["content-type"].startswith("video/mp4")
    total = int(head.headers["content-range"].rsplit("/", 1)[1])
    assert head.headers["content-range"] == f"bytes 0-1023/{total}" and len(head.content) == 1024
    assert head.content[4:8] == b"ftyp"
    tail = await c.get(f"/cache/{out}/mp4", headers={"Range": f"bytes={total - 100}-"})
    assert tail.status_code == 206 and len(tail.content) == 100
    full = await c.get(f"/cache/{out}/mp4")
    assert full.status_code == 200 and len(full.content) == total
    assert full.content[:1024] == head.content and full.content[-100:] == tail.content
    with av.open(io.BytesIO(full.content), mode="r") as mp4:
        assert {s.type for s in mp4.streams} == {"video", "audio"}
        assert abs(float(mp4.duration or 0) / 1e6 - CLIP_SECONDS) < 0.15
    assert_error(await c.get(f"/cache/{out}/mp4", headers={"Range": f"bytes={total}-"}), 416)

    # 8. the 3-phase pipeline twice: the second run executes nothing and is quick
    body = {"recipe_id": rid, "inputs": cids}
    first = await _run_recipe(live, c, body)
    assert first["status"] == "completed", first
    executed = await _exec_total(live)
    assert executed >= 2, executed  # flash and out at least
    t0 = asyncio.get_running_loop().time()
    second = await _run_recipe(live, c, body, poll=0.02)
    elapsed = asyncio.get_running_loop().time() - t0
    assert second["status"] == "completed", second
    assert second["output_cid"] == first["output_cid"]
    assert await _exec_total(live) == executed, "the cached re-run executed a step"
    assert elapsed < 1.0, f"the cached re-run took {elapsed:.2f} s"
    prov2 = (await c.get(f"/api/run/{second['run_id']}/provenance")).json()["records"]
    assert len(prov2) == 1 and prov2[0]["record"]["output"]["cid"] == second["output_cid"]
    assert set(prov2[0]["record"]) == set(rec)
    assert (await c.get(f"/api/run/{second['run_id']}/analysis")).json()

    # 9. delete: runs, then the recipe (no run uses it), then an input nobody uses any more
    for rid_ in (run_id, first["run_id"], second["run_id"]):
        resp = await c.delete(f"/runs/{rid_}")
        assert resp.status_code == 200 and resp.json()["deleted"] is True, resp.text
        assert_error(await c.get(f"/runs/{rid_}"), 404)
    assert_error(await c.get(f"/runs/{run_id}/playlist.m3u8"), 404)
    resp = await c.delete(f"/recipes/{rid}")
    assert resp.status_code == 200 and resp.json() == {"deleted": rid}, resp.text
    assert_error(await c.get(f"/recipes/{rid}"), 404)
    resp = await c.delete(f"/cache/{cids['video']}")
    assert resp.status_code == 200 and resp.json()["deleted"] == cids["video"], resp.text
    assert_error(await c.get(f"/cache/{cids['video']}/raw"), 404)


async def _run_recipe(
    live: LiveServer, c: httpx.AsyncClient, body: dict[str, Any], poll: float = 0.1
) -> dict[str, Any]:
    resp = await c.post("/api/run-recipe", json=body)
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 180
    while loop.time() < deadline:
        run: dict[str, Any] = (await c.get(f"/runs/{run_id}")).json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        await asyncio.sleep(poll)
    raise AssertionError(f"run {run_id} did not finish")
