"""Live IPFS viewing of an ABR ladder run through the whole server (real IPFS node):
``/runs/{id}/ipfs`` answers a multivariant playlist of per-rendition redirects while
live, each redirect follows its rendition's newest IPFS media playlist (so a player no
longer stalls on the CIDs an IPFS multivariant playlist pinned), and the run ends
redirecting to the final multivariant CID, which ffprobe plays through the gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import urljoin

import httpx
import m3u8
import pytest

from tests.api.conftest import LiveServer
from tests.api.live_media import ffprobe_json, live_recipe

SECONDS = 10.0
FPS = 25
LOWER = ["playlist_180p.m3u8", "playlist_120p.m3u8"]
NAMES = ["playlist.m3u8", *LOWER]


async def _follow(live: LiveServer, url: str) -> tuple[str, m3u8.M3U8]:
    """The redirect at ``url`` (checked: 302, no-cache) and the gateway playlist behind it."""
    resp = await live.client.get(url, follow_redirects=False)
    assert resp.status_code == 302, resp.text
    assert resp.headers["cache-control"] == "no-cache"
    location = resp.headers["location"]
    async with httpx.AsyncClient(timeout=30) as gateway:
        media = await gateway.get(location)
    assert media.status_code == 200, location
    return location, m3u8.loads(media.text)


async def test_live_ladder_through_ipfs_redirects(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    ipfs_api: str,
    ipfs_gateway: str,
    ffprobe: str,
    monkeypatch: pytest.MonkeyPatch,
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
            lambda r: (
                (r.get("master_cid") and len(r.get("variant_cids") or {}) == len(LOWER))
                or r["status"] not in ("pending", "running")
            ),
        )
        assert run["status"] == "running", run
        assert sorted(run["variant_cids"]) == sorted(LOWER)

        # mid-render: a multivariant playlist of the per-rendition redirects
        entry = f"{live.url}/runs/{run_id}/ipfs"
        master_resp = await live.client.get(entry, follow_redirects=False)
        assert master_resp.status_code == 200, master_resp.text
        assert master_resp.headers["content-type"].startswith("application/vnd.apple.mpegurl")
        assert master_resp.headers["cache-control"] == "no-cache"
        master = m3u8.loads(master_resp.text)
        assert master.is_variant
        assert [p.uri for p in master.playlists] == [f"ipfs/{n}" for n in NAMES]
        local = m3u8.loads((await live.client.get(f"/runs/{run_id}/master.m3u8")).text)
        assert [(p.stream_info.resolution, p.stream_info.codecs) for p in master.playlists] == [
            (p.stream_info.resolution, p.stream_info.codecs) for p in local.playlists
        ]

        # a node without the local files (another rendered it): the IPFS master, rewritten
        async def no_local_copy(*_: object) -> None:
            return None

        with monkeypatch.context() as patch:
            patch.setattr(live.res.live_hls, "ladder_playlist", no_local_copy)
            remote = await live.client.get(entry, follow_redirects=False)
        assert remote.status_code == 200, remote.text
        assert [p.uri for p in m3u8.loads(remote.text).playlists] == [f"ipfs/{n}" for n in NAMES]

        # each rendition's redirect goes to its newest IPFS media playlist, which grows
        first: dict[str, int] = {}
        for variant in master.playlists:
            rung_url = urljoin(entry, variant.uri)
            assert rung_url == f"{entry}/{variant.uri.split('/', 1)[1]}"
            _, media = await _follow(live, rung_url)
            assert media.segments and not media.is_endlist
            first[variant.uri] = len(media.segments)
        rung_url = urljoin(entry, master.playlists[1].uri)
        grown = first[master.playlists[1].uri]
        for _ in range(40):  # a few seconds (segments of 1-2 s, rendered in real time)
            await asyncio.sleep(0.5)
            location, media = await _follow(live, rung_url)
            grown = len(media.segments)
            if grown > first[master.playlists[1].uri]:
                break
        assert grown > first[master.playlists[1].uri], "the rendition's IPFS playlist stalled"

        for bad in ("playlist_999p.m3u8", "master.m3u8", "nope"):
            missing = await live.client.get(f"/runs/{run_id}/ipfs/{bad}", follow_redirects=False)
            assert missing.status_code == 404, bad
            body = missing.json()
            assert bad in body["detail"] and body["field"] == "rung", body

        # after completion: the final, self-contained multivariant playlist on IPFS
        run = await live.wait_run(run_id, lambda r: r["status"] != "running")
        assert run["status"] == "completed", run
        redirect = await live.client.get(entry, follow_redirects=False)
        assert redirect.status_code == 302
        assert redirect.headers["location"].endswith("/" + run["master_cid"])
        for name in LOWER:  # the row keeps each rendition's final (ENDLIST) playlist
            location, media = await _follow(live, f"{entry}/{name}")
            assert location.endswith("/" + run["variant_cids"][name])
            assert media.is_endlist
        probe = await ffprobe_json(
            ffprobe,
            entry,
            "-f",
            "hls",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_streams",
        )
        counts = {int(s["nb_read_frames"]) for s in probe["streams"] if s["codec_type"] == "video"}
        assert counts == {round(SECONDS * FPS)}


async def test_single_rendition_run_has_no_variant_cids(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    ipfs_api: str,
    ipfs_gateway: str,
) -> None:
    async with live_factory(ipfs_api=ipfs_api, gateway=ipfs_gateway) as live:
        resp = await live.client.post("/runs", json={"recipe": live_recipe(2.0, FPS)})
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
        assert run["status"] == "completed", run
        assert "variant_cids" not in run and "master_cid" not in run
        top = await live.client.get(f"/runs/{run_id}/ipfs/playlist.m3u8", follow_redirects=False)
        assert top.status_code == 302
        assert top.headers["location"].endswith("/" + run["playlist_cid"])
        lower = await live.client.get(f"/runs/{run_id}/ipfs/playlist_180p.m3u8")
        assert lower.status_code == 404
