"""A live run with an ABR ladder (HLS_LADDER) through the whole server: every rung's
playlist and the multivariant playlist served at /runs/{id}/<name> and read by ffprobe
while rendering and after, the multivariant CID on the row and behind the IPFS redirect."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import m3u8

from streamer.content.stores import hls_dir
from tests.api.conftest import LiveServer
from tests.api.live_media import ffprobe_json, live_recipe

SECONDS = 4.0
FPS = 25
RUNGS = {"playlist.m3u8": (320, 240), "playlist_180p.m3u8": (240, 180)}
RUNGS["playlist_120p.m3u8"] = (160, 120)


async def test_live_ladder_run(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    ipfs_api: str,
    ipfs_gateway: str,
    ffprobe: str,
) -> None:
    async with live_factory(
        ipfs_api=ipfs_api, gateway=ipfs_gateway, HLS_LADDER="180p:300k,120p:crf30"
    ) as live:
        resp = await live.client.post(
            "/runs", json={"recipe": live_recipe(SECONDS, FPS), "pace": 1.0}
        )
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        run = await live.wait_run(
            run_id,
            lambda r: r.get("master_cid") is not None or r["status"] not in ("pending", "running"),
        )
        assert run["status"] == "running", run
        # mid-render: the multivariant playlist and every rung, over HTTP
        master_resp = await live.client.get(f"/runs/{run_id}/master.m3u8")
        assert master_resp.status_code == 200
        assert master_resp.headers["content-type"].startswith("application/vnd.apple.mpegurl")
        master = m3u8.loads(master_resp.text)
        assert [p.uri for p in master.playlists] == list(RUNGS)
        for name, size in RUNGS.items():
            probe = await ffprobe_json(ffprobe, f"{live.url}/runs/{run_id}/{name}", "-show_streams")
            video = next(s for s in probe["streams"] if s["codec_type"] == "video")
            assert (video["width"], video["height"]) == size, name
        # live: the per-rendition redirects (tests/api/test_runs_ladder_ipfs.py)
        live_master = await live.client.get(f"/runs/{run_id}/ipfs", follow_redirects=False)
        assert live_master.status_code == 200
        assert m3u8.loads(live_master.text).is_variant
        assert m3u8.loads((await live.res.stores.ipfs.cat(run["master_cid"])).decode()).is_variant  # type: ignore[union-attr]
        missing = await live.client.get(f"/runs/{run_id}/playlist_999p.m3u8")
        assert missing.status_code == 404

        run = await live.wait_run(run_id, lambda r: r["status"] != "running")
        assert run["status"] == "completed", run
        detail = (await live.client.get(f"/api/run/{run_id}")).json()
        assert detail["master_cid"] == run["master_cid"] is not None
        redirect = await live.client.get(f"/runs/{run_id}/ipfs", follow_redirects=False)
        assert redirect.headers["location"].endswith("/" + run["master_cid"])
        directory = hls_dir(live.settings, run_id)
        durations = set()
        for name in RUNGS:
            local = m3u8.load(str(directory / name))
            assert local.is_endlist
            durations.add(tuple(s.duration for s in local.segments))
            probe = await ffprobe_json(
                ffprobe,
                f"{live.url}/runs/{run_id}/{name}",
                "-select_streams",
                "v:0",
                "-count_frames",
                "-show_streams",
            )
            assert int(probe["streams"][0]["nb_read_frames"]) == round(SECONDS * FPS), name
        assert len(durations) == 1
        # the final multivariant playlist on IPFS lists the final (ENDLIST) media playlists,
        # and a real client plays it through the redirect
        final = m3u8.loads((await live.res.stores.ipfs.cat(run["master_cid"])).decode())  # type: ignore[union-attr]
        assert len(final.playlists) == 3
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
        counts = {int(s["nb_read_frames"]) for s in probe["streams"] if s["codec_type"] == "video"}
        assert counts == {round(SECONDS * FPS)}
