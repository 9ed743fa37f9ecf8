"""ABR switching in a real browser: hls.js moves down the ladder and back up, without stalling.

A paced ladder run plays in headless Chromium; the network is throttled through
the DevTools protocol (``Network.emulateNetworkConditions``) to a throughput
between the lowest rung's BANDWIDTH and the top rung's, so the top rung cannot
be fetched in real time: hls.js must switch to a lower rung. The throttle is
lifted and it must climb back. Stalls (``waiting`` to ``playing``) are timed in
the page; none may last longer than one segment. The rendition picker lists
every rung and pins one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import LiveServer

pytestmark = pytest.mark.timeout(180)

SECONDS = 75.0  # of output, paced at real time: the test ends well before it (cancelled)
SEGMENT = 2.0  # HLS_SEGMENT_SECONDS
VIDEO = "video[data-hls-player]"

# Noise is expensive to code: the top rung (320x240, CRF 23) needs megabits per second
# while the capped lower rungs need a few hundred kilobits, so a throttle between them is
# unambiguous.
RECIPE = f"""\
name: web-abr
version: '1.0'
steps:
- id: video
  type: SOURCE
  config: {{generator: noise, duration: {SECONDS}, width: 320, height: 240, fps: 25}}
- id: beat
  type: SOURCE
  config: {{generator: clicks, duration: {SECONDS}, bpm: 120}}
- id: show
  type: MUX
  inputs: [video, beat]
output: show
"""

# Stalls as the page sees them: each `waiting` opens one, the next `playing` closes it.
STALL_JS = """() => {
  const v = document.querySelector('video[data-hls-player]');
  window.__stalls = []; window.__heights = [];
  let since = null;
  v.addEventListener('waiting', () => { if (since === null) since = performance.now(); });
  v.addEventListener('playing', () => {
    if (since !== null) { window.__stalls.push((performance.now() - since) / 1000); since = null; }
  });
  new MutationObserver(() => window.__heights.push(Number(v.getAttribute('data-level-height'))))
    .observe(v, { attributes: true, attributeFilter: ['data-level-height'] });
  window.__openStall = () => since === null ? 0 : (performance.now() - since) / 1000;
}"""


def _variants(master: str) -> list[tuple[int, int]]:
    """(height, BANDWIDTH) of each variant of a multivariant playlist."""
    out = []
    for line in master.splitlines():
        if line.startswith("#EXT-X-STREAM-INF:"):
            bandwidth = int(re.search(r"(?<![-\w])BANDWIDTH=(\d+)", line).group(1))  # type: ignore[union-attr]
            height = int(re.search(r"RESOLUTION=\d+x(\d+)", line).group(1))  # type: ignore[union-attr]
            out.append((height, bandwidth))
    return out


async def _height(page: Any) -> int:
    return int(await page.get_attribute(VIDEO, "data-level-height") or 0)


async def test_hls_js_switches_down_when_throttled_and_back_up(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    browser: Any,
) -> None:
    async with live_factory(HLS_LADDER="180p:350k,120p:150k") as live:
        resp = await live.client.post("/runs", json={"recipe": RECIPE, "pace": 1.0})
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{live.url}/run/{run_id}", wait_until="domcontentloaded")
            await page.wait_for_function(
                f"() => document.querySelector('{VIDEO}').currentTime > 1", timeout=60_000
            )
            await page.evaluate(STALL_JS)
            master = (await live.client.get(f"/runs/{run_id}/master.m3u8")).text
            variants = sorted(_variants(master))
            assert [h for h, _ in variants] == [120, 180, 240], master
            lowest, top = variants[0][1], variants[-1][1]
            assert top > 4 * lowest, variants  # room for a throttle between them

            # the picker lists every rung, and pins one
            options = await page.locator('[data-field="rendition-picker"] option').all_inner_texts()
            assert options[0] == "auto" and len(options) == 4, options
            assert await page.locator('[data-field="rendition-label"]').is_visible()

            # climb to the top rung first (plenty of bandwidth on loopback)
            await page.wait_for_function(
                f"() => document.querySelector('{VIDEO}').getAttribute('data-level-height') === '240'",
                timeout=30_000,
            )

            # throttle between the rungs: hls.js must leave the top rung
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Network.enable")
            throttle = (lowest * 2 + top // 2) // 2  # bits/s, well below the top, above the lowest
            await cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": 20,
                    "downloadThroughput": throttle / 8,
                    "uploadThroughput": throttle / 8,
                },
            )
            await page.wait_for_function(
                f"() => Number(document.querySelector('{VIDEO}').getAttribute('data-level-height')) < 240",
                timeout=40_000,
            )
            down = await _height(page)
            assert down in (120, 180), down
            rendition = await page.locator('[data-field="rendition"]').inner_text()
            assert rendition.startswith(f"rendition {down}p") and "(auto)" in rendition, rendition

            # lift it: back to the top rung
            await cdp.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
            await page.wait_for_function(
                f"() => document.querySelector('{VIDEO}').getAttribute('data-level-height') === '240'",
                timeout=40_000,
            )
            run = (await live.client.get(f"/api/run/{run_id}")).json()
            assert run["status"] == "running", run  # all of it happened live

            stalls = await page.evaluate("() => window.__stalls.concat([window.__openStall()])")
            heights = await page.evaluate("() => window.__heights")
            assert max(stalls) <= SEGMENT, f"stalls {stalls}, rungs {heights}"
            assert down in heights and heights[-1] == 240, heights

            # the picker pins a rung: auto switching stops there
            await page.select_option('[data-field="rendition-picker"]', label=options[1])
            await page.wait_for_function(
                f"() => document.querySelector('{VIDEO}').getAttribute('data-level-height') === '120'",
                timeout=20_000,
            )
            rendition = await page.locator('[data-field="rendition"]').inner_text()
            assert rendition.startswith("rendition 120p") and "(auto)" not in rendition, rendition
            assert not errors, errors
        finally:
            await page.close()
            await live.client.post(f"/runs/{run_id}/cancel")
            await live.wait_run(
                run_id, lambda r: r["status"] in ("completed", "failed", "cancelled")
            )
