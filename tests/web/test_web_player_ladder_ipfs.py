"""Headless Chromium (hls.js) plays a live ladder run through ``/runs/{id}/ipfs``: the
per-rendition redirects to the gateway keep it going past what the run's newest IPFS
multivariant playlist pins (a player following that one stalls: checked by hand with
the live branch of ``api.runs.run_ipfs`` disabled, the wait times out)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import m3u8

from tests.api.conftest import LiveServer
from tests.web.conftest import start_run

SECONDS = 14.0
PLAYER = """
<video id="v" muted autoplay playsinline></video>
<script src="/static/vendor/hls.min.js"></script>
<script>
  window.reloads = 0;
  const hls = new Hls({liveSyncDurationCount: 1});
  hls.on(Hls.Events.LEVEL_LOADED, () => { window.reloads += 1; });
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) window.fatal = d.details; });
  hls.loadSource(SOURCE);
  hls.attachMedia(document.getElementById("v"));
</script>
"""
PLAYED = "() => document.getElementById('v').currentTime"


async def _pinned_seconds(live: LiveServer, run_id: str) -> float:
    """Seconds the longest media playlist listed by the run's newest IPFS master lists."""
    ipfs = live.res.stores.ipfs
    assert ipfs is not None
    run = (await live.client.get(f"/api/run/{run_id}")).json()
    master = m3u8.loads((await ipfs.cat(run["master_cid"])).decode())
    seconds: list[float] = []
    for variant in master.playlists:
        cid = variant.uri.split("?", 1)[0].rsplit("/", 1)[1]
        media = m3u8.loads((await ipfs.cat(cid)).decode())
        assert not media.is_endlist  # still live
        seconds.append(sum(s.duration for s in media.segments))
    return float(max(seconds))


async def test_hlsjs_follows_a_live_ladder_through_ipfs(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    ipfs_api: str,
    ipfs_gateway: str,
    browser: Any,
) -> None:
    async with live_factory(
        ipfs_api=ipfs_api, gateway=ipfs_gateway, HLS_LADDER="180p:300k,120p:crf30"
    ) as live:
        run_id = await start_run(live, SECONDS, pace=1.0, name="web-ladder-ipfs")
        run = await live.wait_run(
            run_id,
            lambda r: r.get("master_cid") is not None or r["status"] not in ("pending", "running"),
        )
        assert run["status"] == "running", run
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        gateway_hits: list[str] = []
        page.on(
            "response",
            lambda r: gateway_hits.append(r.url) if r.url.startswith(ipfs_gateway) else None,
        )
        await page.goto(f"{live.url}/health")  # the server's origin: /static and the API
        source = f"{live.url}/runs/{run_id}/ipfs"
        await page.set_content(PLAYER.replace("SOURCE", repr(source)))
        await page.wait_for_function(f"() => ({PLAYED})() > 0.5", timeout=45_000)
        # what the newest IPFS multivariant playlist pins: a player that followed it
        # (as before per-rendition redirects) stalls at its longest rendition's end
        pinned = await _pinned_seconds(live, run_id)
        await page.wait_for_function(f"() => ({PLAYED})() > {pinned} + 1", timeout=30_000)
        assert await page.evaluate("window.reloads") >= 3
        assert await page.evaluate("window.fatal || null") is None
        # the media playlists and segments came from the gateway, past the redirects
        assert any(u.startswith(ipfs_gateway) for u in gateway_hits)
        assert not errors, errors
        await page.close()
