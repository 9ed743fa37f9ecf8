"""The IPFS node restarted mid-run (stop, start on the same ports and repo): the
live run completes and every segment and the final playlist are on the node."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable

import pytest

from streamer.content.stores import hls_dir
from streamer.entry.worker import create_worker
from streamer.settings import Settings
from tests.api.live_media import ffprobe_json, live_recipe, parse_playlist
from tests.streamer.faults.services import AppServer, PrivateIPFS, serve_app

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(150)]

SECONDS, FPS = 8.0, 25
_URI = re.compile(r"^/ipfs/(?P<cid>[A-Za-z0-9]+)\?filename=(?P<name>[A-Za-z0-9.]+)$")


async def test_ipfs_node_restart_mid_run(
    private_ipfs: PrivateIPFS,
    fresh_dsn: str,
    redis_url: str,
    fault_env: Callable[..., dict[str, str]],
    ffprobe: str,
) -> None:
    env = fault_env(
        fresh_dsn, redis_url, IPFS_API=private_ipfs.api, IPFS_GATEWAY_URL=private_ipfs.gateway
    )
    settings = Settings.from_env(env)
    async with serve_app(settings) as app:
        worker = create_worker(settings, handle_signals=False, max_jobs=1)
        main = asyncio.create_task(worker.main(), name="faults-worker")
        try:
            await _restart_mid_run(app, private_ipfs, ffprobe)
            assert not main.done()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.close(), 20)
            main.cancel()
            with contextlib.suppress(BaseException):
                await main


async def _restart_mid_run(app: AppServer, node: PrivateIPFS, ffprobe: str) -> None:
    c = app.client
    resp = await c.post("/runs", json={"recipe": live_recipe(SECONDS, FPS), "pace": 1.0})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    run = await app.wait_run(
        run_id, lambda r: r["playlist_cid"] is not None and r["segment_count"] >= 2, timeout=60
    )
    api = node.api
    await asyncio.to_thread(node.stop)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(node.start)
    assert node.api == api  # the same address: clients reconnect by themselves

    run = await app.wait_run(run_id, lambda r: r["status"] != "running", timeout=60)
    assert run["status"] == "completed", run
    assert run["playlist_cid"] == run["output_cid"]
    local = parse_playlist((hls_dir(app.settings, run_id) / "playlist.m3u8").read_text())
    assert local["endlist"] and run["segment_count"] == len(local["segments"])

    # the final playlist and every segment it lists come back from the node, byte for byte
    raw = await c.get(f"/ipfs/{run['playlist_cid']}/raw")
    assert raw.status_code == 200, raw.text
    on_node = parse_playlist(raw.text)
    assert on_node["endlist"] and len(on_node["segments"]) == len(local["segments"])
    for (uri, duration), (name, local_duration) in zip(
        on_node["segments"], local["segments"], strict=True
    ):
        m = _URI.match(uri)
        assert m is not None and m["name"] == name and duration == local_duration, uri
        seg = await c.get(f"/ipfs/{m['cid']}/raw")
        assert seg.status_code == 200, (name, seg.text[:200])
        assert seg.content == (hls_dir(app.settings, run_id) / name).read_bytes(), name

    # a real client plays the IPFS copy through the node's gateway: every frame
    probe = await ffprobe_json(
        ffprobe,
        f"{app.url}/runs/{run_id}/ipfs",
        "-f",
        "hls",
        "-select_streams",
        "v:0",
        "-count_frames",
        "-show_streams",
    )
    assert int(probe["streams"][0]["nb_read_frames"]) == round(SECONDS * FPS)
