"""Live runs on a real IPFS node: the playlist CID in the row while rendering, the
/runs/{id}/ipfs redirect before completion, exact HLS checks with ffprobe, CIDs
equal to the node's, and an IPFS outage mid-render that loses nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from cache.cid import cid_of_bytes
from cache.errors import StorageUnavailableError
from cache.ipfs import IPFSStore
from streamer.content.stores import hls_dir
from streamer.resources import resources_of
from tests.api.conftest import LiveServer
from tests.api.live_media import (
    INPUT_RECIPE,
    ffprobe_json,
    live_recipe,
    make_clip_bytes,
    parse_playlist,
)

SECONDS = 6.0
FPS = 25


def _ipfs_text(local_text: str, directory: Path) -> str:
    """The local playlist with every segment URI rewritten as the IPFS output does."""

    def uri(name: str) -> str:
        cid = cid_of_bytes((directory / name).read_bytes())
        return f"/ipfs/{cid}?filename={name}"

    out = []
    for line in local_text.splitlines():
        if line and not line.startswith("#"):
            line = uri(line)
        elif line.startswith("#EXT-X-MAP:URI="):
            name = re.search(r'URI="([^"]+)"', line)[1]  # type: ignore[index]
            line = line.replace(name, uri(name))
        out.append(line)
    return "\n".join(out) + ("\n" if local_text.endswith("\n") else "")


async def _segment_starts_with_keyframe(ffprobe: str, path: Path) -> bool:
    doc = await ffprobe_json(
        ffprobe,
        str(path),
        "-select_streams",
        "v:0",
        "-show_frames",
        "-show_entries",
        "frame=key_frame,pict_type",
        "-read_intervals",
        "%+#1",
    )
    first = doc["frames"][0]
    return bool(first["key_frame"] == 1 and first["pict_type"] == "I")


async def test_live_run_on_ipfs(live_server_ipfs: LiveServer, ffprobe: str, ipfs_api: str) -> None:
    live = live_server_ipfs
    resp = await live.client.post("/runs", json={"recipe": live_recipe(SECONDS, FPS), "pace": 1.0})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    url = f"{live.url}/runs/{run_id}/playlist.m3u8"

    # mid-render: the row has an IPFS playlist CID and the redirect follows it
    run = await live.wait_run(
        run_id,
        lambda r: (
            r["playlist_cid"] is not None or (r["status"] != "pending" and r["status"] != "running")
        ),
    )
    assert run["status"] == "running", run
    redirect = await live.client.get(f"/runs/{run_id}/ipfs", follow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    cid_now = location.rsplit("/", 1)[1]
    assert location.startswith(live.settings.ipfs.gateway_url)
    pl_text = (await live.client.get(url)).text
    mid = parse_playlist(pl_text)
    assert not mid["endlist"] and mid["type"] == "EVENT"
    row = await live.client.get(f"/api/run/{run_id}")
    assert row.json()["status"] == "running"
    # the CID the row pointed at is a real playlist on the node, listing only uploaded segments
    store = live.res.stores.ipfs
    assert store is not None
    on_node = (await store.cat(cid_now)).decode()
    node_pl = parse_playlist(on_node)
    assert not node_pl["endlist"] and node_pl["segments"]
    assert all(u.startswith("/ipfs/") and "?filename=" in u for u, _ in node_pl["segments"])
    # ffprobe reads the live playlist over HTTP while it is still growing
    probe = await ffprobe_json(ffprobe, url, "-show_streams")
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)
    assert any(s["codec_type"] == "audio" for s in probe["streams"])
    # ... and through the redirect to the IPFS gateway, before rendering completes
    probe = await ffprobe_json(
        ffprobe, f"{live.url}/runs/{run_id}/ipfs", "-f", "hls", "-show_streams"
    )
    assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}
    assert (await live.client.get(f"/api/run/{run_id}")).json()["status"] == "running"

    # the playlist only grows: media sequence constant, earlier segments stay listed
    seen: list[str] = []
    while True:
        pl = parse_playlist((await live.client.get(url)).text)
        assert pl["sequence"] == 0
        names = [u for u, _ in pl["segments"]]
        assert names[: len(seen)] == seen
        seen = names
        if pl["endlist"]:
            break
        await asyncio.sleep(0.2)

    run = await live.wait_run(run_id, lambda r: r["status"] != "running")
    assert run["status"] == "completed", run
    directory = hls_dir(live.settings, run_id)
    final_text = (directory / "playlist.m3u8").read_text()
    final = parse_playlist(final_text)
    assert final["endlist"] and final["type"] == "EVENT"
    assert run["segment_count"] == len(final["segments"])
    assert all(d <= final["target"] + 0.5 for _, d in final["segments"])
    assert abs(sum(d for _, d in final["segments"]) - SECONDS) < 1e-3
    # exact frame count and duration through a real HLS client
    probe = await ffprobe_json(
        ffprobe, url, "-select_streams", "v:0", "-count_frames", "-show_streams", "-show_format"
    )
    assert int(probe["streams"][0]["nb_read_frames"]) == round(SECONDS * FPS)
    assert abs(float(probe["format"]["duration"]) - SECONDS) < 0.1
    for name, _ in final["segments"]:
        assert await _segment_starts_with_keyframe(ffprobe, directory / name), name

    # the row's final playlist CID is what the node holds: the local playlist rewritten for IPFS
    assert run["playlist_cid"] == run["output_cid"]
    on_node = (await store.cat(run["playlist_cid"])).decode()
    assert on_node == _ipfs_text(final_text, directory)
    for name, _ in final["segments"]:
        data = (directory / name).read_bytes()
        assert await store.add_bytes(data, only_hash=True) == name.split(".")[0]
    redirect = await live.client.get(f"/runs/{run_id}/ipfs", follow_redirects=False)
    assert redirect.headers["location"].endswith("/" + run["playlist_cid"])
    # a real client follows our redirect to the node's gateway and plays the IPFS copy
    probe = await ffprobe_json(
        ffprobe,
        f"{live.url}/runs/{run_id}/ipfs",
        "-f",
        "hls",
        "-select_streams",
        "v:0",
        "-count_frames",
        "-show_streams",
    )
    assert int(probe["streams"][0]["nb_read_frames"]) == round(SECONDS * FPS)


class FlakyIPFS:
    """An IPFSStore whose adds fail while ``down`` is set (a node outage)."""

    def __init__(self, inner: IPFSStore) -> None:
        self.inner = inner
        self.down = asyncio.Event()
        self.failed = 0

    async def ping(self) -> dict[str, Any]:
        return await self.inner.ping()

    async def add_bytes(self, data: bytes, *, pin: bool = True) -> str:
        if self.down.is_set():
            self.failed += 1
            raise StorageUnavailableError("simulated IPFS outage")
        return await self.inner.add_bytes(data, pin=pin)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_ipfs_outage_mid_render_loses_nothing(live_server_ipfs: LiveServer) -> None:
    live = live_server_ipfs
    stores = resources_of(live.worker.ctx).stores
    real = stores.ipfs
    assert real is not None
    flaky = FlakyIPFS(real)
    stores.ipfs = flaky  # type: ignore[assignment]  # a stand-in with the store's interface
    try:
        resp = await live.client.post(
            "/runs", json={"recipe": live_recipe(SECONDS, FPS), "pace": 2.0}
        )
        run_id = resp.json()["run_id"]
        run = await live.wait_run(
            run_id, lambda r: r["segment_count"] >= 1 or r["status"] not in ("pending", "running")
        )
        flaky.down.set()  # the node "goes away" for a while
        before = run["playlist_cid"]
        await asyncio.sleep(1.5)
        during = (await live.client.get(f"/api/run/{run_id}")).json()
        assert during["status"] == "running"
        assert during["playlist_cid"] is not None and flaky.failed > 0
        await asyncio.sleep(0.6)
        later = (await live.client.get(f"/api/run/{run_id}")).json()
        # no new IPFS playlist while uploads fail: the row keeps the last playable CID...
        assert later["playlist_cid"] == during["playlist_cid"]
        assert later["segment_count"] == during["segment_count"]
        # ...while the render goes on locally (the outage never stalls it)
        local = parse_playlist((await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text)
        assert len(local["segments"]) > later["segment_count"]
        flaky.down.clear()
        run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
    finally:
        stores.ipfs = real
    assert run["status"] == "completed", run
    assert before is not None
    directory = hls_dir(live.settings, run_id)
    final_text = (directory / "playlist.m3u8").read_text()
    final = parse_playlist(final_text)
    on_node = (await real.cat(run["playlist_cid"])).decode()
    assert on_node == _ipfs_text(final_text, directory)
    assert (
        len(parse_playlist(on_node)["segments"]) == len(final["segments"]) == run["segment_count"]
    )


async def test_inputs_fetched_from_ipfs_and_ipfs_routes(live_server_ipfs: LiveServer) -> None:
    live = live_server_ipfs
    clip = make_clip_bytes(1.0)
    ipfs = live.res.stores.ipfs
    assert ipfs is not None
    cid = await ipfs.add_bytes(clip)
    assert not live.res.stores.local.has(cid)
    resp = await live.client.post("/runs", json={"recipe": INPUT_RECIPE, "inputs": {"video": cid}})
    assert resp.status_code == 201, resp.text
    run = await live.wait_run(
        resp.json()["run_id"], lambda r: r["status"] not in ("pending", "running")
    )
    assert run["status"] == "completed", run
    assert live.res.stores.local.has(cid)  # fetched into the local cache
    assert run["inputs"] == {"video": cid}

    # /ipfs/{cid}: redirect keeps the query; /raw streams the node's bytes
    r = await live.client.get(f"/ipfs/{cid}?filename=clip.mp4", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == f"{live.settings.ipfs.gateway_url}/{cid}?filename=clip.mp4"
    raw = await live.client.get(f"/ipfs/{cid}/raw")
    assert raw.status_code == 200 and raw.content == clip
    assert live.settings.ipfs.raw_timeout == 2.0  # a missing CID answers 404 after it
    unknown = cid_of_bytes(b"never added anywhere " + cid.encode())
    missing = await live.client.get(f"/ipfs/{unknown}/raw")
    assert missing.status_code == 404 and missing.json()["field"] == "cid"
