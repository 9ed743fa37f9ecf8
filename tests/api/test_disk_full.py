"""A full disk under CACHE_DIR (a small tmpfs): a live run that cannot fit fails with a
clear error, its playlist lists only complete segments, what was stored before is
intact, uploads answer 507 without leaving partial files, and the server keeps serving."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from cache.cid import cid_of_bytes
from streamer.content.stores import hls_dir
from tests.api.conftest import LiveServer
from tests.api.helpers import api_error
from tests.api.live_media import ffprobe_json, live_recipe, make_clip_bytes, parse_playlist
from tests.tmpfs import small_tmpfs

#: Room for the upload stored first and a few seconds of the live render, not a minute.
TMPFS_KIB = 1024


def _partial_files(root: Path) -> list[Path]:
    """Unfinished writes: the cache's ``.tmp/`` and the HLS writers' ``.tmp-*`` files."""
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and (".tmp" in p.parts or p.name.startswith(".tmp-"))
    ]


async def test_disk_full_fails_the_run_cleanly(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    tmp_path: Path,
    ffprobe: str,
) -> None:
    with small_tmpfs(tmp_path / "cache", TMPFS_KIB) as cache_dir:
        async with live_factory(CACHE_DIR=str(cache_dir)) as live:
            c = live.client
            clip = make_clip_bytes(1.0) + os.urandom(16)  # unique content per test run
            resp = await c.post("/cache/upload", files={"file": ("before.mp4", clip)})
            assert resp.status_code == 201, resp.text
            before_cid = resp.json()["cid"]
            before_path = live.res.stores.local.path(before_cid)

            resp = await c.post("/runs", json={"recipe": live_recipe(120.0, name="disk-full")})
            assert resp.status_code == 201, resp.text
            run_id = resp.json()["run_id"]
            run = await live.wait_run(run_id, lambda r: r["status"] in ("completed", "failed"))
            out_dir = hls_dir(live.settings, run_id)

            # the run failed and says why, naming the folder
            assert run["status"] == "failed", run
            assert "no space left" in run["error"].lower(), run["error"]
            assert str(out_dir) in run["error"], run["error"]

            # every listed segment is complete: on disk, and ffprobe reads it
            resp = await c.get(f"/runs/{run_id}/playlist.m3u8")
            assert resp.status_code == 200, resp.text
            playlist = parse_playlist(resp.text)
            assert playlist["segments"], "the disk should have held a few segments"
            for uri, duration in playlist["segments"]:
                assert (out_dir / uri).is_file(), uri
                # read to the end: a truncated segment would come up short (or fail)
                probe = await ffprobe_json(
                    ffprobe, f"{live.url}/runs/{run_id}/{uri}", "-count_packets", "-show_streams"
                )
                kinds = {s["codec_type"]: s for s in probe["streams"]}
                assert set(kinds) == {"video", "audio"}, probe
                assert int(kinds["video"]["nb_read_packets"]) == round(duration * 25), (uri, kinds)
            assert _partial_files(cache_dir) == []

            # what was stored before is intact
            assert cid_of_bytes(before_path.read_bytes()) == before_cid
            resp = await c.get(f"/cache/{before_cid}/raw")
            assert resp.status_code == 200 and resp.content == clip

            # an upload that cannot fit: a clear 507, nothing partial kept
            doc = api_error(
                await c.post(
                    "/cache/upload",
                    params={"filename": "big.bin"},
                    content=os.urandom(TMPFS_KIB * 1024),
                ),
                507,
            )
            assert "no space left" in doc["detail"] and str(cache_dir) in doc["detail"], doc
            assert _partial_files(cache_dir) == []

            # the server keeps serving
            assert (await c.get("/health")).status_code == 200
            assert (await c.get(f"/api/run/{run_id}")).json()["status"] == "failed"
            assert (await c.get("/runs")).status_code == 200

            # deleting the run frees its segments: content can be stored again
            assert (await c.delete(f"/runs/{run_id}")).status_code == 200
            small = os.urandom(64 * 1024)
            resp = await c.post("/cache/upload", params={"filename": "after.bin"}, content=small)
            assert resp.status_code == 201, resp.text
            assert resp.json()["cid"] == cid_of_bytes(small)
