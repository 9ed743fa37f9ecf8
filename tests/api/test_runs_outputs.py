"""A live run without IPFS: analysis of its ANALYZE step, provenance in the spec's shape,
and its output as MP4 from the local content store (the README's default server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamer.content.stores import hls_dir
from tests.api.conftest import LiveServer
from tests.api.live_media import parse_playlist
from tests.api.walkthrough import RECIPE, make_media

pytestmark = pytest.mark.timeout(180)


async def test_live_run_outputs_without_ipfs(live_server: LiveServer, tmp_path: Path) -> None:
    live = live_server
    c = live.client
    video, audio = await make_media(tmp_path, seconds=2)
    cids = {}
    for name, path in (("video", video), ("audio", audio)):
        resp = await c.post(
            "/cache/upload", content=path.read_bytes(), params={"filename": path.name}
        )
        assert resp.status_code == 201, resp.text
        cids[name] = resp.json()["cid"]
    # a variant of the walkthrough's recipe: the walkthrough expects to upload it first
    recipe = RECIPE.replace('version: "1.0"', 'version: "1.0-outputs"')
    resp = await c.post("/runs", json={"recipe": recipe, "inputs": cids})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
    assert run["status"] == "completed" and run["playlist_cid"] is None, run

    analysis = (await c.get(f"/api/run/{run_id}/analysis")).json()
    assert analysis["beats"]["input_cid"] == cids["audio"]
    assert len(analysis["beats"]["audio"]["beats"]) >= 2

    prov = (await c.get(f"/api/run/{run_id}/provenance")).json()["records"]
    assert len(prov) == 1
    rec = prov[0]["record"]
    assert rec["output"] == {"name": "walkthrough.m3u8", "cid": run["output_cid"]}
    assert {i["name"]: i["cid"] for i in rec["inputs"]} == cids
    assert rec["rendered_by"] == "@tester@" + rec["rendered_by"].split("@")[2]
    assert rec["infrastructure"]["software"]["name"] == "infra:artdag"
    assert run["provenance"]["record_cid"] == prov[0]["record_cid"]

    # every segment is in the content store: the MP4 works without IPFS and after the
    # run's HLS folder is gone
    pl = parse_playlist((await c.get(f"/runs/{run_id}/playlist.m3u8")).text)
    for uri, _ in pl["segments"]:
        raw = await c.get(f"/cache/{uri.rsplit('.', 1)[0]}/raw")
        assert raw.status_code == 200 and raw.content[0] == 0x47
    resp = await c.delete(f"/runs/{run_id}")
    assert resp.status_code == 200, resp.text
    assert not hls_dir(live.settings, run_id).exists()
    mp4 = await c.get(f"/cache/{run['output_cid']}/mp4", headers={"Range": "bytes=0-99"})
    assert mp4.status_code == 206, mp4.text
    assert mp4.content[4:8] == b"ftyp" and len(mp4.content) == 100
