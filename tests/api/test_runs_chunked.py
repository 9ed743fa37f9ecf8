"""Distributed live runs through the API: POST /runs with ARTDAG_CHUNK_SEGMENTS set.

The stack's in-process worker renders the chunks; the playlist is served as
any live run's. With the worker gone, ``GET /api/run/{id}`` says the run
waits for one (``waiting_for_worker``) while it stays ``running``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.live_media import live_recipe, video_frames

CHUNKED = {"ARTDAG_CHUNK_SEGMENTS": "2", "HLS_SEGMENT_SECONDS": "0.5"}


async def test_a_chunked_run_is_served_like_any_live_run(live_factory: Any, ffprobe: str) -> None:
    async with live_factory(**CHUNKED) as live:
        resp = await live.client.post("/runs", json={"recipe": live_recipe(3.0)})
        assert resp.status_code in (200, 201, 202), resp.text
        run_id = resp.json()["run_id"]
        run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
        assert run["status"] == "completed", run
        assert run["segment_count"] == 6 and "waiting_for_worker" not in run
        text = (await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
        assert await video_frames(ffprobe, f"{live.url}/runs/{run_id}/playlist.m3u8") == 75
        workers = (await live.client.get("/api/workers")).json()
        assert workers["chunks"] == []  # nothing claimed once the run is over


async def test_a_run_without_workers_waits_for_one(live_factory: Any) -> None:
    async with live_factory(**CHUNKED) as live:
        resp = await live.client.post("/runs", json={"recipe": live_recipe(60.0)})
        run_id = resp.json()["run_id"]
        run = await live.wait_run(run_id, lambda r: r["segment_count"] >= 1, timeout=60)
        assert 0 < run["progress"] < 1  # the listed share of the 60 s
        await asyncio.wait_for(live.worker.close(), 30)  # its claims are released
        run = await live.wait_run(run_id, lambda r: r.get("waiting_for_worker", False), 30)
        assert run["status"] == "running"


async def test_a_chunked_fmp4_run_plays_over_http(live_factory: Any, ffprobe: str) -> None:
    async with live_factory(HLS_CONTAINER="fmp4", **CHUNKED) as live:
        resp = await live.client.post("/runs", json={"recipe": live_recipe(3.0)})
        run_id = resp.json()["run_id"]
        run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
        assert run["status"] == "completed", run
        text = (await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text
        assert "#EXT-X-MAP:URI=" in text and text.count(".m4s") == 6
        assert await video_frames(ffprobe, f"{live.url}/runs/{run_id}/playlist.m3u8") == 75
