"""Headless Chromium plays a ladder run's multivariant playlist live (hls.js), and the
page says which rendition it shows."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from tests.api.conftest import LiveServer
from tests.web.conftest import start_run

SECONDS = 12.0
CURRENT_TIME = "() => document.querySelector('video[data-hls-player]').currentTime"


async def test_player_loads_the_multivariant_playlist_live(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    browser: Any,
) -> None:
    async with live_factory(HLS_LADDER="180p:300k,120p:crf30") as live:
        run_id = await start_run(live, SECONDS, pace=1.0, name="web-ladder")
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        requested: list[str] = []
        page.on("request", lambda req: requested.append(req.url))
        await page.goto(f"{live.url}/run/{run_id}", wait_until="domcontentloaded")
        await page.wait_for_function(f"() => ({CURRENT_TIME})() > 0.5", timeout=45_000)
        run = (await live.client.get(f"/api/run/{run_id}")).json()
        assert run["status"] == "running", run
        assert await page.get_attribute("video[data-hls-player]", "data-ladder") == "1"
        # hls.js reports the rendition it plays (LEVEL_SWITCHED) once that level's first
        # fragment is buffered: it may come after playback starts
        await page.wait_for_selector("video[data-level-height]", timeout=15_000)
        height = await page.get_attribute("video[data-hls-player]", "data-level-height")
        assert height in ("240", "180", "120"), height
        assert any(u.endswith(f"/runs/{run_id}/master.m3u8") for u in requested)
        assert any("/playlist" in u and u.endswith(".m3u8") for u in requested)
        await live.wait_run(run_id, lambda r: r["status"] != "running", timeout=90)
        assert not errors, errors
        await page.close()
