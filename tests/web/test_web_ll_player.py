"""The run page plays Low-Latency HLS with hls.js in low-latency mode.

A paced LL run (``HLS_CONTAINER=fmp4``, ``HLS_PART_SECONDS=0.32``) of the
timecode recipe plays in headless Chromium: the player marks the playlist as
LL, hls.js fetches parts and makes blocking playlist reloads (``_HLS_msn``)
and, once the stream is longer than ``CAN-SKIP-UNTIL``, delta updates
(``_HLS_skip``) while playing on; the frame shown reads back as a recent
wall-clock time. ``bench/latency.py
--ll`` gives the figures.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bench.latency import SAMPLE_JS, decode_sample

pytestmark = pytest.mark.timeout(150)

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "latency-timecode.yaml"
SELECTOR = "video[data-hls-player]"
BOUND = 30.0  # seconds: generous, the machine is shared; bench/latency.py measures
RESOURCES_JS = "() => performance.getEntriesByType('resource').map(e => e.name)"


async def test_run_page_plays_ll_hls_from_parts(live_factory: Any, browser: Any) -> None:
    env = {"HLS_CONTAINER": "fmp4", "HLS_PART_SECONDS": "0.32"}
    async with live_factory(**env) as live:
        resp = await live.client.post("/runs", json={"recipe": RECIPE.read_text(), "pace": 1.0})
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            await page.goto(f"{live.url}/run/{run_id}", wait_until="domcontentloaded")
            await page.wait_for_function(
                f"() => document.querySelector('{SELECTOR}').currentTime > 1", timeout=60_000
            )
            assert await page.get_attribute(SELECTOR, "data-low-latency") == "1"
            readings: list[float] = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(readings) < 8:
                got = decode_sample(await page.evaluate(SAMPLE_JS, SELECTOR))
                if got is not None and got["latency"] is not None:
                    readings.append(got["latency"])
                await asyncio.sleep(0.3)
            assert len(readings) >= 4 and all(0 < x < BOUND for x in readings), readings
            urls: list[str] = await page.evaluate(RESOURCES_JS)
            assert any("_HLS_msn=" in u for u in urls), urls  # blocking reloads
            assert any(f"/runs/{run_id}/ll" in u for u in urls), urls  # parts
            # past CAN-SKIP-UNTIL (12 s) hls.js asks for delta updates and goes on playing
            await page.wait_for_function(
                f"() => ({RESOURCES_JS})().some(u => u.includes('_HLS_skip=YES'))",
                timeout=40_000,
            )
            # 17 s into the stream the deltas skip segments: playback must go on through them
            await page.wait_for_function(
                f"() => document.querySelector('{SELECTOR}').currentTime > 17", timeout=45_000
            )
            later = decode_sample(await page.evaluate(SAMPLE_JS, SELECTOR))
            assert later is not None and later["latency"] is not None
            assert 0 < later["latency"] < BOUND
        finally:
            await page.close()
            await live.client.post(f"/runs/{run_id}/cancel")
            await live.wait_run(
                run_id, lambda r: r["status"] in ("completed", "failed", "cancelled")
            )
