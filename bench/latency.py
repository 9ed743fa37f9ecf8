"""Glass-to-glass latency of a live run, measured in a real browser.

Starts ``artdag serve`` (HTTP + in-process worker, as ``bench/live_server.py``:
a throwaway database on the harness PostgreSQL/Redis, or the embedded stack),
POSTs ``recipes/latency-timecode.yaml`` paced at 1x real time (a test pattern
stamped by the ``timecode`` effect with the wall clock when each frame
renders), and plays the run in headless Chromium (Playwright, the system
Chromium as in ``tests/web``). Every ``--interval`` seconds the page draws the
``<video>``'s current frame onto a canvas and takes ``Date.now()``; the band's
luma comes back to Python, ``read_timecode`` decodes it, and

    latency = page clock at the draw - time stamped into the frame shown

(same machine, same clock). Players:

- ``run page``: the run page as served (its hls.js config: the defaults, so
  ``liveSyncDurationCount`` 3), opened right after ``POST /runs``: time to
  first frame counts from the POST;
- ``run page joined``: the same page opened again once the stream runs (a
  viewer arriving later);
- ``hls.js sync 1``: a minimal page on the server's origin (Playwright serves
  it) with hls.js ``liveSyncDurationCount: 1`` and ``maxLiveSyncPlaybackRate:
  1.5``, joining the running stream.

With ``--ll`` the server writes Low-Latency HLS (``HLS_CONTAINER=fmp4``,
``HLS_PART_SECONDS=0.32``: parts of 8 frames at 25 fps, blocking reloads) and
the minimal page is hls.js with ``lowLatencyMode`` (it plays PART-HOLD-BACK
behind the live edge, from the parts); the run page is lowLatencyMode always.

Prints median, p90, min and max per player, time to first frame, hls.js's own
latency estimate, and the playlist's segment durations and target duration.
About 2 minutes with the defaults (``--seconds 20``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.live_server import Server

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "latency-timecode.yaml"
CHROMIUM = os.environ.get("ARTDAG_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
#: Goals of issue 14 (median glass-to-glass, seconds).
GOALS = {"standard HLS": 6.0, "LL-HLS": 2.0}

#: Draws the video's top band (``width // 40`` rows: the timecode band) onto a canvas
#: and returns its luma (BT.601 weights) base64-encoded, with the page clock at the draw.
SAMPLE_JS = """(sel) => {
  const v = document.querySelector(sel);
  if (!v || v.readyState < 2 || !v.videoWidth) return null;
  const w = v.videoWidth, rows = Math.max(1, Math.floor(w / 40));
  let c = window.__tcCanvas;
  if (!c) { c = window.__tcCanvas = document.createElement("canvas"); }
  if (c.width !== w || c.height !== rows) { c.width = w; c.height = rows; }
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(v, 0, 0, w, rows, 0, 0, w, rows);
  const now = Date.now();
  const d = ctx.getImageData(0, 0, w, rows).data;
  let s = "";
  for (let i = 0; i < w * rows; i++) {
    s += String.fromCharCode((77 * d[4 * i] + 150 * d[4 * i + 1] + 29 * d[4 * i + 2]) >> 8);
  }
  const player = v.__artdag ? v.__artdag.hls : window.__hls;
  const est = player && Number.isFinite(player.latency) ? player.latency : null;
  return { now: now, w: w, rows: rows, y: btoa(s), t: v.currentTime, est: est };
}"""

PLAYER_HTML = """<!doctype html>
<html><body style="margin:0;background:#000">
<video id="v" muted autoplay playsinline></video>
<script src="/static/vendor/hls.min.js"></script>
<script>
  const v = document.getElementById("v");
  const hls = window.__hls = new Hls(%(config)s);
  hls.on(Hls.Events.ERROR, (_e, d) => {
    if (!d.fatal) return;
    if (d.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad(); else hls.recoverMediaError();
  });
  hls.loadSource(%(src)s);
  hls.attachMedia(v);
  hls.on(Hls.Events.MANIFEST_PARSED, () => v.play());
</script></body></html>"""


def decode_sample(got: dict[str, Any] | None) -> dict[str, Any] | None:
    """What :data:`SAMPLE_JS` returned, decoded: ``now`` (ms), ``latency`` (s, None: no
    band read), ``est`` (hls.js's estimate, s) and ``t`` (currentTime); None if no frame."""
    import numpy as np

    from effects.kernels.timecode import read_timecode, unwrap

    if got is None:
        return None
    band = np.frombuffer(base64.b64decode(got["y"]), np.uint8).reshape(got["rows"], got["w"])
    value = read_timecode(band, "top")
    now = int(got["now"])
    lat = None if value is None else (now - unwrap(value, now)) / 1000.0
    return {"now": now, "latency": lat, "est": got["est"], "t": got["t"]}


def sample(page: Any, selector: str) -> dict[str, Any] | None:
    """One reading of the frame shown by the video at ``selector`` (sync Playwright page)."""
    return decode_sample(page.evaluate(SAMPLE_JS, selector))


def watch(page: Any, selector: str, seconds: float, interval: float, t0: float) -> dict[str, Any]:
    """Sample until the first frame reads, then for ``seconds``; figures of one player."""
    first: float | None = None
    lats: list[float] = []
    ests: list[float] = []
    misses = 0
    deadline = time.time() + 60.0  # for the first frame
    while True:
        s = sample(page, selector)
        if s is not None and s["latency"] is not None:
            if first is None:
                first = s["now"] / 1000.0 - t0
                deadline = time.time() + seconds
            lats.append(s["latency"])
            if s["est"] is not None:
                ests.append(float(s["est"]))
        elif first is not None:
            misses += 1
        if time.time() >= deadline:
            break
        time.sleep(interval)
    return {"first_frame": first, "latencies": lats, "estimates": ests, "misses": misses}


def _pct(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, round(q * (len(ys) - 1)))]


def report(name: str, r: dict[str, Any], since: str) -> None:
    """Print one player's figures."""
    xs = r["latencies"]
    if not xs:
        print(f"{name:14s} no frame read ({r['misses']} samples)", flush=True)
        return
    est = f"{statistics.median(r['estimates']):.2f} s" if r["estimates"] else "-"
    print(
        f"{name:14s} latency median {statistics.median(xs):5.2f} s  p90 {_pct(xs, 0.9):5.2f}  "
        f"min {min(xs):5.2f}  max {max(xs):5.2f}  (n={len(xs)}, unread {r['misses']}; "
        f"hls.js estimate {est})  first frame {r['first_frame']:.2f} s after {since}",
        flush=True,
    )


def playlist_facts(server: Server, run_id: str) -> dict[str, Any]:
    """Segment durations and target duration of the run's playlist (as served)."""
    text = server.client.get(f"/runs/{run_id}/playlist.m3u8").text
    durs = [float(m) for m in re.findall(r"#EXTINF:([0-9.]+)", text)]
    target = re.search(r"#EXT-X-TARGETDURATION:(\d+)", text)
    kind = re.search(r"#EXT-X-PLAYLIST-TYPE:(\w+)", text)
    part = re.search(r"#EXT-X-PART-INF:PART-TARGET=([0-9.]+)", text)
    return {
        "part_target": float(part.group(1)) if part else None,
        "segments": len(durs),
        "first_segment": durs[0] if durs else None,
        "segment_median": statistics.median(durs[1:]) if len(durs) > 1 else None,
        "target_duration": int(target.group(1)) if target else None,
        "playlist_type": kind.group(1) if kind else None,
    }


def _wait_playlist(server: Server, run_id: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(Exception):
            r = server.client.get(f"/runs/{run_id}/playlist.m3u8", timeout=2)
            if r.status_code == 200 and "#EXTINF" in r.text:
                return
        time.sleep(0.1)
    raise RuntimeError(f"run {run_id}: no playlist in {timeout} s")


#: The minimal page's hls.js settings: one segment behind the live edge, and playback
#: sped up to 1.5x when it falls further behind (it never catches up by itself).
TUNED = {"liveSyncDurationCount": 1, "maxLiveSyncPlaybackRate": 1.5, "liveDurationInfinity": True}
#: ``--ll``: hls.js in low-latency mode (PART-HOLD-BACK behind the edge, parts, blocking reloads).
TUNED_LL = {"lowLatencyMode": True, "maxLiveSyncPlaybackRate": 1.5, "liveDurationInfinity": True}
PLAYERS = ("run page", "run page joined", "hls.js sync 1")
#: ``--ll``: the server's settings (parts of 8 frames at 25 fps).
LL_ENV = {"HLS_CONTAINER": "fmp4", "HLS_PART_SECONDS": "0.32"}


def _open(browser: Any, server: Server, run_id: str, name: str) -> tuple[Any, str]:
    """A page playing the run with player ``name``; the selector of its video."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    if name.startswith("run page"):
        page.goto(f"{server.url}/run/{run_id}", wait_until="domcontentloaded")
        return page, "video[data-hls-player]"
    src = json.dumps(f"/runs/{run_id}/playlist.m3u8")
    tuned = TUNED_LL if os.environ.get("HLS_PART_SECONDS") else TUNED
    html = PLAYER_HTML % {"config": json.dumps(tuned), "src": src}
    url = f"{server.url}/__latency_player"  # served by Playwright, on the server's origin
    page.route(url, lambda route: route.fulfill(content_type="text/html", body=html))
    page.goto(url, wait_until="domcontentloaded")
    return page, "#v"


def measure(server: Server, browser: Any, args: Any) -> dict[str, Any]:
    """Every player in turn on one paced live run; returns every figure.

    ``run page`` opens right after ``POST /runs`` (first frame counted from the
    POST); the others join the running stream (first frame counted from the page
    open), as a viewer arriving later does.
    """
    t_post = time.time()
    resp = server.client.post("/runs", json={"recipe": RECIPE.read_text(), "pace": 1.0})
    resp.raise_for_status()
    run_id = resp.json()["run_id"]
    out: dict[str, Any] = {"run_id": run_id}
    try:
        for name in PLAYERS:
            if name != "run page":
                _wait_playlist(server, run_id)
            t_open = time.time()
            page, selector = _open(browser, server, run_id, name)
            t0 = t_post if name == "run page" else t_open
            out[name] = watch(page, selector, args.seconds, args.interval, t0)
            report(name, out[name], "POST /runs" if name == "run page" else "page open")
            page.close()
        out["playlist"] = playlist_facts(server, run_id)
    finally:
        server.client.post(f"/runs/{run_id}/cancel")
    return out


def main(argv: list[str] | None = None) -> int:
    """``latency.py [--seconds S] [--interval S] [--embedded]``."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="playback sampled per player")
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between samples")
    ap.add_argument("--embedded", action="store_true", help="use the embedded PostgreSQL/Redis")
    ap.add_argument("--ll", action="store_true", help="Low-Latency HLS (fMP4, 0.32 s parts)")
    ap.add_argument("--part", type=float, default=0.32, help="--ll: part seconds (0.1-2)")
    args = ap.parse_args(argv)
    if args.ll:  # the server child inherits the environment
        os.environ.update({**LL_ENV, "HLS_PART_SECONDS": str(args.part)})
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from bench.live_server import READY_LINE, Server, services

    print(f"load average at start: {os.getloadavg()}", flush=True)
    with services(args.embedded) as (db_url, redis_url), tempfile.TemporaryDirectory() as d:
        server = Server(Path(d), db_url, redis_url, None)
        try:
            up = server.wait_http()
            ready = server.wait_line(READY_LINE, 120)
            print(f"server up after {up:.2f} s, worker ready after {ready} s", flush=True)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    results = measure(server, browser, args)
                finally:
                    browser.close()
        finally:
            server.close()
    pl = results["playlist"]
    print(
        f"playlist: {pl['playlist_type']}, target duration {pl['target_duration']} s, "
        f"part target {pl['part_target']} s, "
        f"first segment {pl['first_segment']} s, then median {pl['segment_median']} s "
        f"({pl['segments']} segments); goals: "
        + ", ".join(f"{k} <= {v:g} s median" for k, v in GOALS.items()),
        flush=True,
    )
    print(f"load average at end: {os.getloadavg()}", flush=True)
    print(json.dumps(_summary(results)))
    return 0


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _summary(results: dict[str, Any]) -> dict[str, Any]:
    """Figures only (no raw samples), for the JSON line."""
    out: dict[str, Any] = {"playlist": results["playlist"]}
    for name in PLAYERS:
        r = results[name]
        xs = r["latencies"]
        out[name] = {
            "median": _median(xs),
            "p90": _pct(xs, 0.9) if xs else None,
            "min": min(xs, default=None),
            "max": max(xs, default=None),
            "n": len(xs),
            "first_frame": r["first_frame"],
            "hlsjs_estimate": _median(r["estimates"]),
        }
    return out


if __name__ == "__main__":
    sys.exit(main())
