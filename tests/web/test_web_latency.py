"""Glass-to-glass latency is measurable: the run page shows frames whose timecode reads back.

A paced live run of ``recipes/latency-timecode.yaml`` stamps the wall clock
into each frame; headless Chromium plays it in the run page, and the frame
shown (drawn onto a canvas, as ``bench/latency.py`` does) must carry a band
that decodes to a time shortly before the page's clock. The bench gives the
figures; this proves the measurement works.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bench.latency import SAMPLE_JS, decode_sample
from tests.api.conftest import LiveServer

pytestmark = pytest.mark.timeout(90)

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "latency-timecode.yaml"
SELECTOR = "video[data-hls-player]"
BOUND = 30.0  # seconds: generous, the machine is shared; bench/latency.py measures


async def test_latency_is_read_from_the_shown_frame(live_server: LiveServer, browser: Any) -> None:
    live = live_server
    resp = await live.client.post("/runs", json={"recipe": RECIPE.read_text(), "pace": 1.0})
    assert resp.status_code == 201, resp.text
    run_id = resp.json()["run_id"]
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await page.goto(f"{live.url}/run/{run_id}", wait_until="domcontentloaded")
        await page.wait_for_function(
            f"() => document.querySelector('{SELECTOR}').currentTime > 0", timeout=45_000
        )
        readings: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(readings) < 10:
            got = decode_sample(await page.evaluate(SAMPLE_JS, SELECTOR))
            if got is not None and got["latency"] is not None:
                readings.append(got)
            await asyncio.sleep(0.3)
        assert len(readings) >= 5, f"timecode read in {len(readings)} frames only"
        lats = [r["latency"] for r in readings]
        assert all(0 < x < BOUND for x in lats), lats
        # the frames advance: later readings show later stamps
        stamps = [r["now"] - 1000 * r["latency"] for r in readings]
        assert stamps[-1] > stamps[0], stamps
    finally:
        await page.close()
        await live.client.post(f"/runs/{run_id}/cancel")
        await live.wait_run(run_id, lambda r: r["status"] in ("completed", "failed", "cancelled"))
