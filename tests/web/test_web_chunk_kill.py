"""A worker SIGKILLed mid-run while Chromium plays a chunked live run: playback goes on.

The stack's in-process worker is closed; two worker processes (one job slot
each) render a paced chunked run (``ARTDAG_CHUNK_SEGMENTS``). Once the run
page's player plays, the process holding the lowest chunk in progress is
SIGKILLed. The chunk is taken over (its claim lapses after 15 s): it is
done and the playlist grows again within 20 s of the kill, the player plays
through the re-rendered chunk (``currentTime`` passes its end) without a
fatal hls.js error, and ffprobe, reading the final playlist over HTTP, counts
every frame, finds a keyframe at every segment start and no timestamp gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from streamer.embedded.stack import free_port
from tests.api.conftest import TEST_ENV, LiveServer
from tests.api.live_media import ffprobe_json, parse_playlist

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(240)]

SECONDS, FPS, SEGMENT, CHUNK = 24, 25, 1.0, 2  # 12 chunks of 2 s
# heavy enough (640x360, blur) that chunks are still rendering when playback starts
RECIPE = f"""\
name: web-chunk-kill
version: '1.0'
steps:
- id: video
  type: SOURCE
  config: {{generator: testsrc, duration: {SECONDS}, width: 640, height: 360, fps: {FPS}}}
- id: beat
  type: SOURCE
  config: {{generator: clicks, duration: {SECONDS}, bpm: 120}}
- id: soft
  type: EFFECT
  inputs: [video]
  config: {{effect: gaussian_blur, sigma: 6}}
- id: fx
  type: EFFECT
  inputs: [soft]
  config: {{effect: hue, degrees: 90 * t}}
- id: show
  type: MUX
  inputs: [fx, beat]
output: show
"""

_WORKER = (
    "from streamer.entry.worker import create_worker\n"
    "from streamer.settings import Settings\n"
    "create_worker(Settings.from_env(), max_jobs=1).run()\n"
)

# records every fatal hls.js error of the page's player (hls.js defines window.Hls later)
_SPY_HLS = """
window.__hlsFatal = [];
let realHls;
Object.defineProperty(window, 'Hls', {
  configurable: true,
  get() { return realHls; },
  set(H) {
    realHls = class extends H {
      constructor(config) {
        super(config);
        window.__hlsSpied = true;
        this.on(H.Events.ERROR, (_e, d) => { if (d.fatal) window.__hlsFatal.push(d.details); });
      }
    };
  },
});
"""
CURRENT_TIME = "() => document.querySelector('video[data-hls-player]').currentTime"


def _env(live_env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **TEST_ENV, **live_env}


async def _lowest_claim(live: LiveServer, run_id: str, chunks: int) -> tuple[int, int] | None:
    """(chunk index, pid) of the lowest chunk a worker holds, or None."""
    keys = live.res.keys
    for i in range(chunks):
        raw = await live.redis.get(keys.chunk_claim(run_id, i))
        if raw is not None:
            who = (raw.decode() if isinstance(raw, bytes) else str(raw)).split("/")[0]
            return i, int(who.rsplit(":", 1)[1])
    return None


async def _listed(live: LiveServer, run_id: str) -> int:
    resp = await live.client.get(f"/runs/{run_id}/playlist.m3u8")
    return len(parse_playlist(resp.text)["segments"]) if resp.status_code == 200 else 0


async def _probe(ffprobe: str, url: str, playlist: dict[str, Any]) -> None:
    """Exact frame count, a keyframe at every segment start, no timestamp gap."""
    doc = await ffprobe_json(
        ffprobe,
        url,
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=pts_time,key_frame",
        timeout=120,
    )
    frames = [(float(f["pts_time"]), int(f["key_frame"])) for f in doc["frames"]]
    assert len(frames) == SECONDS * FPS
    steps = [b[0] - a[0] for a, b in itertools.pairwise(frames)]
    assert all(abs(s - 1 / FPS) < 1e-3 for s in steps), "a video timestamp gap or jump"
    first, start = frames[0][0], 0.0
    keys = {round(t - first, 2) for t, key in frames if key}
    for seg in playlist["segments"]:
        assert round(start, 2) in keys, f"no keyframe at the segment start {start:.2f} s"
        start += seg[1]
    audio = await ffprobe_json(
        ffprobe,
        url,
        "-select_streams",
        "a:0",
        "-show_entries",
        "packet=pts_time,duration_time",
        timeout=120,
    )
    packets = [(float(p["pts_time"]), float(p["duration_time"])) for p in audio["packets"]]
    gaps = [b[0] - (a[0] + a[1]) for a, b in itertools.pairwise(packets)]
    assert packets and all(abs(g) < 1e-3 for g in gaps), "an audio timestamp gap"


async def test_playback_goes_on_after_a_chunk_worker_is_killed(
    live_factory: Any,
    browser: Any,
    ffprobe: str,
    pg_dsn: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    live_env = {
        "DATABASE_URL": pg_dsn,
        "REDIS_URL": redis_url,
        "ARTDAG_DATA_DIR": str(tmp_path / "data"),
        "CACHE_DIR": str(tmp_path / "cache"),
        "IPFS_API": f"/ip4/127.0.0.1/tcp/{free_port()}",  # closed: local HLS
        "ARTDAG_REDIS_PREFIX": redis_prefix,
        "ARTDAG_QUEUE": f"{redis_prefix}queue:{uuid.uuid4().hex[:8]}",
        "ARTDAG_CHUNK_SEGMENTS": str(CHUNK),
        "HLS_SEGMENT_SECONDS": str(SEGMENT),
    }
    root = Path(__file__).resolve().parents[2]
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    procs: list[subprocess.Popen[bytes]] = []
    async with live_factory(**live_env) as live:
        await asyncio.wait_for(live.worker.close(), 30)  # only the worker processes render
        try:
            for f in logs:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-c", _WORKER],
                        env=_env(live_env),
                        cwd=root,
                        stderr=f.open("wb"),
                    )
                )
            for _ in procs:  # both answer before the run is posted
                ping = await live.res.arq.enqueue_job("ping", _queue_name=live.queue_name)
                assert ping is not None
                await ping.result(timeout=60, poll_delay=0.05)
            await _kill_and_watch(live, browser, ffprobe, procs, logs)
        finally:
            for p in procs:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                p.wait(timeout=30)


async def _kill_and_watch(
    live: LiveServer,
    browser: Any,
    ffprobe: str,
    procs: list[subprocess.Popen[bytes]],
    logs: list[Path],
) -> None:
    resp = await live.client.post("/runs", json={"recipe": RECIPE, "pace": 1.0})
    assert resp.status_code == 201, resp.text
    run_id = str(resp.json()["run_id"])
    chunks = SECONDS // (CHUNK * int(SEGMENT))
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.add_init_script(_SPY_HLS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(f"{live.url}/run/{run_id}", wait_until="domcontentloaded")
        await page.wait_for_function(f"() => ({CURRENT_TIME})() > 0", timeout=60_000)
        # the victim: the worker rendering the lowest chunk still in progress
        pids = {p.pid for p in procs}
        victim = None
        deadline = time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            found = await _lowest_claim(live, run_id, chunks)
            victim = found if found is not None and found[1] in pids else None
            await asyncio.sleep(0.02)
        assert victim is not None, "no chunk left in progress once playback started"
        index, pid = victim
        listed = await _listed(live, run_id)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        played_at_kill = float(await page.evaluate(CURRENT_TIME))
        print(f"killed {pid} rendering chunk {index}; listed {listed}, played {played_at_kill:.2f}")
        try:
            # the chunk is taken over and the stream grows again within 20 s
            done_key = f"done:{index}"
            table = live.res.keys.chunks(run_id)
            while not await live.redis.hexists(table, done_key):
                assert time.monotonic() - killed_at < 20, f"chunk {index} not taken over in 20 s"
                await asyncio.sleep(0.1)
            took_over = time.monotonic() - killed_at
            while await _listed(live, run_id) <= listed:
                assert time.monotonic() - killed_at < 20, "the stream did not resume in 20 s"
                await asyncio.sleep(0.1)
            print(f"chunk {index} done {took_over:.1f} s after the kill")
            # the player plays through the re-rendered chunk
            chunk_end = (index + 1) * CHUNK * SEGMENT
            await page.wait_for_function(
                f"() => ({CURRENT_TIME})() > {max(chunk_end, played_at_kill) + 0.5}",
                timeout=90_000,
            )
            final = await live.wait_run(
                run_id, lambda r: r["status"] not in ("pending", "running"), timeout=90
            )
        except AssertionError:
            for f in logs:
                print("LOG", f, f.read_text()[-3000:])
            raise
        assert final["status"] == "completed", final
        assert await page.evaluate("() => window.__hlsSpied === true")  # the spy saw the player
        assert await page.evaluate("() => window.__hlsFatal") == []
        state = await page.locator('[data-field="player-state"]').inner_text()
        assert "error" not in state, state
        assert not errors, errors
        url = f"{live.url}/runs/{run_id}/playlist.m3u8"
        playlist = parse_playlist((await live.client.get(url)).text)
        assert playlist["endlist"] and len(playlist["segments"]) == SECONDS / SEGMENT
        await _probe(ffprobe, url, playlist)
    finally:
        await page.close()
