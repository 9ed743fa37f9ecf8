"""IPFS-primary serving: a node that rendered nothing of a run serves it from IPFS.

Node A (server + worker) renders a chunked run; node D shares PostgreSQL,
Redis and the IPFS node but has its own empty cache and a worker on another
queue, so nothing of the run is ever written to its HLS folder. D's
``/runs/{id}/playlist.m3u8`` and segments are filled from IPFS (the row's
playlist CID, each segment by its CID): byte-identical to A's, playable by
ffprobe. A segment name the playlist does not list is never fetched.
"""

from __future__ import annotations

from typing import Any

from cache.cid import cid_of_bytes
from streamer.content.stores import hls_dir
from tests.api.live_media import ffprobe_json, live_recipe

PRIMARY = {"IPFS_PRIMARY": "true", "ARTDAG_CHUNK_SEGMENTS": "2", "HLS_SEGMENT_SECONDS": "0.5"}


def _names(text: str) -> list[str]:
    return [x for x in text.splitlines() if x and not x.startswith("#")]


async def test_a_node_that_rendered_nothing_serves_the_run_from_ipfs(
    live_factory: Any, ipfs_api: str, ffprobe: str
) -> None:
    async with (
        live_factory(ipfs_api, **PRIMARY) as a,
        live_factory(ipfs_api, **PRIMARY) as d,  # its worker takes another queue's jobs
    ):
        resp = await a.client.post("/runs", json={"recipe": live_recipe(3.0)})
        assert resp.status_code in (200, 201, 202), resp.text
        run_id = resp.json()["run_id"]
        run = await a.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
        assert run["status"] == "completed", run
        assert not (hls_dir(d.settings, run_id) / "playlist.m3u8").exists()

        here = (await a.client.get(f"/runs/{run_id}/playlist.m3u8")).text
        resp = await d.client.get(f"/runs/{run_id}/playlist.m3u8")
        assert resp.status_code == 200, resp.text
        there = resp.text
        assert there == here and there.rstrip().endswith("#EXT-X-ENDLIST")
        names = _names(there)
        assert len(names) == 6
        for name in names:
            resp = await d.client.get(f"/runs/{run_id}/{name}")
            assert resp.status_code == 200, (name, resp.text)
            assert resp.content == (await a.client.get(f"/runs/{run_id}/{name}")).content
            assert cid_of_bytes(resp.content) == name.rsplit(".", 1)[0]
            assert (hls_dir(d.settings, run_id) / name).is_file()  # kept in D's folder
        unlisted = f"{cid_of_bytes(b'not a segment of this run')}.ts"
        assert (await d.client.get(f"/runs/{run_id}/{unlisted}")).status_code == 404

        probe = await ffprobe_json(
            ffprobe,
            f"{d.url}/runs/{run_id}/playlist.m3u8",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_streams",
        )
        assert int(probe["streams"][0]["nb_read_frames"]) == 75
