"""A real headless Chromium plays a run's live HLS while it is still rendering.

The run renders a generated recipe paced at real time, so the page is opened
long before the ENDLIST; the player must advance, show the status (and the
playlist CID when IPFS is on) as they change, then stop cleanly at the end.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from tests.api.conftest import LiveServer
from tests.web.conftest import start_run

SECONDS = 20.0  # of output, rendered at real time (pace 1): slack for a loaded machine
TERMINAL = ("completed", "failed", "cancelled")

CURRENT_TIME = "() => document.querySelector('video[data-hls-player]').currentTime"


def _screenshot_dir() -> Path:
    """Where the screenshots go (kept after the test so a human can look)."""
    root = Path(os.environ.get("ARTDAG_TEST_SCREENSHOTS", tempfile.gettempdir()))
    root.mkdir(parents=True, exist_ok=True)
    return root


async def _watch(live: LiveServer, browser: Any, name: str) -> dict[str, Any]:
    """Start a paced run, open its page, check live playback; returns facts for the caller."""
    run_id = await start_run(live, SECONDS, pace=1.0, name=name)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{live.url}/run/{run_id}", wait_until="domcontentloaded")
    assert await page.locator("video[data-hls-player]").count() == 1

    # the player starts, then advances by more than half a second...
    await page.wait_for_function(f"() => ({CURRENT_TIME})() > 0", timeout=45_000)
    t0 = float(await page.evaluate(CURRENT_TIME))
    await page.wait_for_function(
        f"() => ({CURRENT_TIME})() > Math.max(0.5, {t0} + 0.5)", timeout=30_000
    )
    t1 = float(await page.evaluate(CURRENT_TIME))
    # ...while the run is still rendering
    run = (await live.client.get(f"/api/run/{run_id}")).json()
    assert run["status"] == "running", f"the run ended before playback advanced: {run}"
    assert run["progress"] < 1.0
    live_state = await page.locator('[data-field="player-state"]').inner_text()
    assert live_state.startswith("live"), live_state
    # the live latency is shown: PROGRAM-DATE-TIME of the frame shown vs the page's clock, or
    # hls.js's distance to the live edge until it has mapped the frame to a date
    await page.wait_for_selector("video[data-latency]", timeout=10_000)
    latency = float(await page.get_attribute("video[data-hls-player]", "data-latency") or "nan")
    assert 0 < latency < 30, latency
    assert re.fullmatch(
        r"latency \d+\.\d s|\d+\.\d s behind the live edge",
        await page.locator('[data-field="latency"]').inner_text(),
    )
    # one rendition: named, and no picker to choose from
    assert (await page.locator('[data-field="rendition"]').inner_text()).startswith("rendition ")
    assert await page.locator('[data-field="rendition-label"]').is_hidden()
    facts: dict[str, Any] = {"run_id": run_id, "t0": t0, "t1": t1, "page": page}
    facts["shown_cid_while_running"] = await page.get_attribute(
        '[data-field="playlist-cid"]', "data-cid"
    )
    facts["row_cid_while_running"] = run["playlist_cid"]
    facts["progress_text"] = await page.locator('[data-field="progress"]').inner_text()

    # the end: ENDLIST reaches the player, the status card turns completed
    final = await live.wait_run(run_id, lambda r: r["status"] in TERMINAL, timeout=90)
    assert final["status"] == "completed", final
    await page.wait_for_selector("video[data-endlist='1']", timeout=30_000)
    await page.wait_for_selector(
        '#run-status [data-field="status"]:text("completed")', timeout=15_000
    )
    state = await page.locator('[data-field="player-state"]').inner_text()
    assert state.startswith(("complete", "ended")), state
    fragments = int(await page.get_attribute("video[data-hls-player]", "data-fragments") or 0)
    assert fragments == final["segment_count"] > 0
    # playback keeps going to the end of the stream, without errors
    await asyncio.sleep(1.0)
    assert float(await page.evaluate(CURRENT_TIME)) > t1
    assert not errors, errors
    facts["final"] = final
    return facts


async def test_player_plays_before_the_run_completes(live_server: LiveServer, browser: Any) -> None:
    facts = await _watch(live_server, browser, "web-player-local")
    page = facts["page"]
    # progress was shown live from the event stream (not the 0 % the page was rendered with)
    assert re.fullmatch(r"\d+(\.\d)? %", facts["progress_text"])
    assert facts["progress_text"] != "0.0 %"
    # no IPFS in this stack: no CID to show
    assert facts["shown_cid_while_running"] is None
    path = _screenshot_dir() / "artdag-run-page-local.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    await page.close()


async def test_player_shows_the_playlist_cid_live(
    live_server_ipfs: LiveServer, browser: Any
) -> None:
    facts = await _watch(live_server_ipfs, browser, "web-player-ipfs")
    page = facts["page"]
    final = facts["final"]
    # while rendering the page showed a playlist CID the run had (it changes per segment)
    shown = facts["shown_cid_while_running"]
    assert shown and re.match(r"^(Qm|bafy)", shown), shown
    assert facts["row_cid_while_running"], "the run had no playlist CID while rendering"
    # at the end the page shows the final playlist CID, linked to /ipfs/<cid>
    link = page.locator('[data-field="playlist-cid"] a')
    await page.wait_for_function(
        "cid => document.querySelector('[data-field=\"playlist-cid\"] a')?.title === cid",
        arg=final["playlist_cid"],
        timeout=15_000,
    )
    assert await link.get_attribute("href") == f"/ipfs/{final['playlist_cid']}"
    assert await page.locator('[data-field="ipfs-link"]').is_visible()
    path = _screenshot_dir() / "artdag-run-page-ipfs.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    await page.close()
