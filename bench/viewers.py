"""Viewers at scale: many keep-alive HLS clients on a rendering run, and the render's slowdown.

``.venv/bin/python bench/viewers.py [--clients 200] [--interval 0.3] [--load-seconds 20]
[--live-seconds 20] [--separate-worker]`` (about 2 minutes)

Starts ``artdag serve --no-demo`` (HTTP + in-process worker, as shipped; with
``--separate-worker`` ``serve --no-worker`` + an ``artdag worker`` process) on
loopback with the harness PostgreSQL/Redis (a throwaway database; the embedded
stack with ``--embedded`` or when they do not answer: see ``bench/live_server.py``)
and, once the worker is ready, renders the live demo recipe (640x360 at 30 fps,
test pattern + clicks, hue/zoom/colour split/vignette):

1. ``calibrate``: 6 s of video, unpaced, alone: how fast this machine renders now;
2. ``alone``: unpaced, sized to take about ``--load-seconds`` at that speed;
3. ``viewers``: the same run while ``--clients`` players watch it, from its
   first segment until its playlist ends (at most ``--max-seconds``);
4. ``alone again``: the same run, alone (the machine is shared: the two
   ``alone`` runs bracket the noise);
5. ``live 1x``: ``--live-seconds`` of video paced at real time (as a live run
   is), watched the same way: the realistic live case.

Render speed: frames / seconds from ``POST /runs`` until the playlist *file*
ends (``#EXT-X-ENDLIST``, polled every 20 ms). Slowdown: the ``viewers`` time
over the mean of the ``alone`` times, minus one.

Each player (:class:`Player`) is one ``aiohttp`` session with one keep-alive
connection, looping as hls.js does on a live stream: reload the playlist
(``If-None-Match`` with the last ETag, as a browser's cache revalidates a
``no-cache`` answer), fetch the segments it lacks (joining three behind the
live edge, at most 30 s of media ahead of its playback clock, hls.js'
``maxBufferLength``), wait ``--interval`` (+-20 %), again. Players arrive evenly
over ``--ramp`` seconds. hls.js waits a target duration (2 s) between reloads:
the default interval reloads ~6x as often, so that 200 players offer over 500
requests/s. Latency: from sending a request until its body is read. The
players run in this process (it reports their CPU); loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

HERE = Path(__file__).resolve().parent
FPS = 30
CALIBRATE_SECONDS = 6.0
GOALS = {"rps": 500.0, "p99_ms": 50.0, "slowdown_pct": 20.0}
ENDLIST = "#EXT-X-ENDLIST"
READY_LINE = "worker ready"


def _live_server() -> ModuleType:
    """``bench/live_server.py`` (loaded by path: bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("live_server", HERE / "live_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Load:
    """The viewers: how many, how often they reload, over how long they arrive, at most how long."""

    clients: int
    interval: float
    ramp: float
    max_seconds: float


@dataclass
class Stats:
    """What the clients saw."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"playlist": [], "segment": []}
    )
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    segment_bytes: int = 0
    #: (completed at, seconds) of every request, ``time.perf_counter()`` clock
    timeline: list[tuple[float, float]] = field(default_factory=list)

    def record(self, kind: str, status: int, seconds: float) -> None:
        self.latencies[kind].append(seconds)
        self.timeline.append((time.perf_counter(), seconds))
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status not in (200, 206, 304):
            self.errors.append(f"{kind}: HTTP {status}")


def _segments(text: str) -> list[tuple[str, float]]:
    """``(name, seconds)`` of each segment of a playlist, the fMP4 init first (0 s)."""
    found: list[tuple[str, float]] = []
    duration = 0.0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MAP:URI="):
            found.insert(0, (line.split('"')[1], 0.0))
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            found.append((line, duration))
    return found


class Player:
    """One viewer, looping as hls.js does on a live stream (see the module docstring).

    It joins three segments behind the live edge and keeps at most ``MAX_BUFFER``
    seconds of media fetched ahead of its playback clock (hls.js' ``maxBufferLength``),
    so an unpaced render is watched at playback speed once the buffer is full.
    """

    MAX_BUFFER = 30.0

    def __init__(self, run_id: str, stats: Stats, interval: float, seed: float) -> None:
        self.url = f"/runs/{run_id}/"
        self.stats = stats
        self.interval = interval
        self.rng = random.Random(seed)
        self.etag: str | None = None
        self.listed: list[tuple[str, float]] = []
        self.fetched: set[str] | None = None
        self.buffered = 0.0  # media seconds fetched
        self.started: float | None = None  # playback clock start

    async def run(self, base: str, stop: asyncio.Event, arrive: float) -> None:
        """Arrive after ``arrive`` s, then reload and fetch until ``stop``."""
        connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection, as a player
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:
            await asyncio.sleep(arrive)
            while not stop.is_set():
                try:
                    await self._reload(session)
                    await self._fetch_due(session)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.stats.errors.append(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self.interval * self.rng.uniform(0.8, 1.2))

    async def _reload(self, session: aiohttp.ClientSession) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        t0 = time.perf_counter()
        async with session.get(self.url + "playlist.m3u8", headers=headers) as r:
            text = (await r.read()).decode()
            self.stats.record("playlist", r.status, time.perf_counter() - t0)
            if r.status != 200:
                return
            self.etag = r.headers.get("ETag")
        self.listed = _segments(text)
        if self.fetched is None:  # join at the live edge
            self.fetched = {name for name, _ in self.listed[:-3]}

    async def _fetch_due(self, session: aiohttp.ClientSession) -> None:
        for name, seconds in self.listed:
            if self.fetched is None or name in self.fetched:
                continue
            played = 0.0 if self.started is None else time.perf_counter() - self.started
            if self.buffered - played >= self.MAX_BUFFER:
                return
            t0 = time.perf_counter()
            async with session.get(self.url + name) as r:
                body = await r.read()  # not inside "+=": that would lose other players' bytes
                self.stats.segment_bytes += len(body)
                self.stats.record("segment", r.status, time.perf_counter() - t0)
            self.fetched.add(name)
            self.buffered += seconds
            if self.started is None:
                self.started = time.perf_counter()


async def _wait_file(path: Path, text: str, timeout: float) -> float | None:
    """``time.time()`` once the file at ``path`` contains ``text`` (polled every 20 ms)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if text in await asyncio.to_thread(path.read_text):
                return time.time()
        except OSError:
            pass
        await asyncio.sleep(0.02)
    return None


async def _render(
    server: Any, seconds: float, viewers: Load | None = None, pace: float | None = None
) -> dict[str, Any]:
    """POST a demo run of ``seconds`` (unpaced unless ``pace``) and time it; with
    ``viewers``, they watch it from its first segment until its playlist ends."""
    from streamer.entry.demo import demo_analysis, demo_recipe_text

    body: dict[str, Any] = {
        "recipe": demo_recipe_text(seconds),
        "analysis": demo_analysis(seconds),
    }
    if pace is not None:
        body["pace"] = pace
    cpu0, t0 = server.cpu_seconds(), time.time()
    resp = await asyncio.to_thread(server.client.post, "/runs", json=body)
    resp.raise_for_status()
    run_id = resp.json()["run_id"]
    playlist = server.cache_dir / "hls" / run_id / "playlist.m3u8"
    first = await _wait_file(playlist, "#EXTINF", 60)
    if first is None:
        raise RuntimeError(f"run {run_id} listed no segment in 60 s")
    result: dict[str, Any] = {"video_s": seconds, "pace": pace, "first_segment_s": first - t0}
    if viewers is None:
        end = await _wait_file(playlist, ENDLIST, 600)
    else:
        end = await _watched(server.url, run_id, playlist, viewers, result)
    if end is None:
        raise RuntimeError(f"run {run_id} did not end")
    wall = end - t0
    result.update(
        wall_s=wall,
        fps=seconds * FPS / wall,
        server_cpu_cores=(server.cpu_seconds() - cpu0) / (time.time() - t0),
        load=os.getloadavg()[0],
    )
    return result


async def _watched(
    base: str,
    run_id: str,
    playlist: Path,
    load: Load,
    result: dict[str, Any],
) -> float | None:
    host = urlsplit(base).hostname
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit(f"viewers only on loopback, not {host}")
    stats, stop = Stats(), asyncio.Event()
    own0, t_start = resource.getrusage(resource.RUSAGE_SELF), time.time()
    tasks = [
        asyncio.create_task(
            Player(run_id, stats, load.interval, i).run(base, stop, load.ramp * i / load.clients)
        )
        for i in range(load.clients)
    ]
    end = await _wait_file(playlist, ENDLIST, load.max_seconds)
    stop.set()
    result["viewers_until_end"] = end is not None
    if end is None:  # the viewers stopped first: the render goes on alone
        end = await _wait_file(playlist, ENDLIST, 600)
    t_stop = time.time()
    await asyncio.gather(*tasks)
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    window = t_stop - t_start
    result["viewers"] = _summary(stats, load, window)
    own = (own1.ru_utime + own1.ru_stime) - (own0.ru_utime + own0.ru_stime)
    result["viewers"]["client_cpu_cores"] = own / (time.time() - t_start)
    return end


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    ordered = sorted(xs)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(stats: Stats, load: Load, window: float) -> dict[str, Any]:
    every = stats.latencies["playlist"] + stats.latencies["segment"]
    done = len(every)
    start = min((t - s for t, s in stats.timeline), default=0.0)
    steady = [s for t, s in stats.timeline if t - s >= start + load.ramp]
    return {
        "clients": load.clients,
        "interval_s": load.interval,
        "ramp_s": load.ramp,
        "window_s": window,
        "requests": done,
        "rps": done / window if window > 0 else 0.0,
        "p50_ms": _pct(every, 0.50),
        "p95_ms": _pct(every, 0.95),
        "p99_ms": _pct(every, 0.99),
        "max_ms": 1000 * max(every, default=0.0),
        "all_in": {
            "n": len(steady),
            "p50_ms": _pct(steady, 0.5),
            "p99_ms": _pct(steady, 0.99),
        },
        "playlist": {
            "n": len(stats.latencies["playlist"]),
            "p50_ms": _pct(stats.latencies["playlist"], 0.5),
            "p99_ms": _pct(stats.latencies["playlist"], 0.99),
        },
        "segment": {
            "n": len(stats.latencies["segment"]),
            "p50_ms": _pct(stats.latencies["segment"], 0.5),
            "p99_ms": _pct(stats.latencies["segment"], 0.99),
            "mb_per_s": stats.segment_bytes / 1e6 / window if window > 0 else 0.0,
            "kb_each": stats.segment_bytes / 1e3 / max(len(stats.latencies["segment"]), 1),
        },
        "statuses": stats.statuses,
        "share_304": stats.statuses.get(304, 0) / done if done else 0.0,
        "errors": len(stats.errors),
        "error_kinds": sorted(set(stats.errors))[:5],
    }


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"{name:12s} {r['video_s']:5.1f} s of video in {r['wall_s']:5.2f} s = {r['fps']:5.1f} "
        f"frames/s (first segment {r['first_segment_s']:.2f} s, server "
        f"{100 * r['server_cpu_cores']:.0f} % of a core, load {r['load']:.1f})"
    )


async def _bench(server: Any, args: argparse.Namespace) -> dict[str, Any]:
    calib = await _render(server, CALIBRATE_SECONDS)
    print(_line("calibrate", calib), flush=True)
    seconds = round(min(max(calib["fps"] * args.load_seconds / FPS, 6.0), args.max_video), 1)
    alone = await _render(server, seconds)
    print(_line("alone", alone), flush=True)
    load = Load(args.clients, args.interval, args.ramp, args.max_seconds)
    viewed = await _render(server, seconds, load)
    print(_line("viewers", viewed), flush=True)
    again = await _render(server, seconds)
    print(_line("alone again", again), flush=True)
    base = statistics.mean([alone["wall_s"], again["wall_s"]])
    slowdown = 100 * (viewed["wall_s"] / base - 1)
    v = viewed["viewers"]
    _report(v)
    print(
        f"render slowdown with viewers: {slowdown:+.1f} % ({viewed['wall_s']:.2f} s against "
        f"{alone['wall_s']:.2f} / {again['wall_s']:.2f} s alone)",
        flush=True,
    )
    live = await _render(server, args.live_seconds, load, pace=1.0)
    print(_line("live 1x", live), flush=True)
    _report(live["viewers"])
    print(
        f"live run paced 1x with viewers: {live['video_s']:g} s of video ended "
        f"{live['wall_s'] - live['video_s']:+.2f} s after real time",
        flush=True,
    )
    met = {
        "rps": v["rps"] >= GOALS["rps"] and live["viewers"]["rps"] >= GOALS["rps"],
        "p99_ms": v["p99_ms"] < GOALS["p99_ms"] and live["viewers"]["p99_ms"] < GOALS["p99_ms"],
        "slowdown_pct": slowdown <= GOALS["slowdown_pct"],
    }
    print(f"goals {GOALS}: {met}", flush=True)
    return {
        "calibrate": calib,
        "alone": alone,
        "viewers": viewed,
        "alone_again": again,
        "live": live,
        "slowdown_pct": slowdown,
        "goals_met": met,
    }


def _report(v: dict[str, Any]) -> None:
    print(
        f"viewers: {v['clients']} clients (arriving over {v['ramp_s']:g} s), reload every "
        f"{v['interval_s']:g} s, {v['window_s']:.1f} s: {v['requests']} requests = "
        f"{v['rps']:.0f}/s; latency p50 {v['p50_ms']:.1f} ms, p95 {v['p95_ms']:.1f} ms, "
        f"p99 {v['p99_ms']:.1f} ms, max {v['max_ms']:.0f} ms; 304 share "
        f"{100 * v['share_304']:.0f} %; errors {v['errors']} {v['error_kinds']}",
        flush=True,
    )
    print(
        f"  once all {v['clients']} are in: {v['all_in']['n']} requests, p50 "
        f"{v['all_in']['p50_ms']:.1f} ms, p99 {v['all_in']['p99_ms']:.1f} ms",
        flush=True,
    )
    print(
        f"  playlist: {v['playlist']['n']} requests, p50 {v['playlist']['p50_ms']:.1f} ms, "
        f"p99 {v['playlist']['p99_ms']:.1f} ms; segments: {v['segment']['n']}, "
        f"p50 {v['segment']['p50_ms']:.1f} ms, p99 {v['segment']['p99_ms']:.1f} ms, "
        f"{v['segment']['mb_per_s']:.1f} MB/s ({v['segment']['kb_each']:.0f} kB each); the clients used "
        f"{100 * v['client_cpu_cores']:.0f} % of a core",
        flush=True,
    )


class Worker:
    """An ``artdag worker`` child process beside a ``serve --no-worker`` server."""

    def __init__(self, env: dict[str, str]) -> None:
        cmd = [sys.executable, "-m", "streamer.entry.cli", "worker"]
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if READY_LINE in line:
                self.ready.set()

    def close(self) -> None:
        """SIGINT, then wait (kill after 30 s)."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Run the bench; prints the figures, then one JSON line with all of them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--clients", type=int, default=200, help="concurrent viewers (default 200)")
    ap.add_argument(
        "--interval", type=float, default=0.3, help="seconds between playlist reloads (0.3)"
    )
    ap.add_argument(
        "--load-seconds", type=float, default=20.0, help="target render time with viewers (20)"
    )
    ap.add_argument(
        "--ramp", type=float, default=2.0, help="seconds over which the viewers arrive (2)"
    )
    ap.add_argument("--max-seconds", type=float, default=40.0, help="viewers stop by then (40)")
    ap.add_argument(
        "--separate-worker",
        action="store_true",
        help="serve --no-worker + an artdag worker process (default: serve's in-process worker)",
    )
    ap.add_argument("--max-video", type=float, default=120.0, help="longest run, video seconds")
    ap.add_argument(
        "--live-seconds", type=float, default=20.0, help="video seconds of the paced run (20)"
    )
    ap.add_argument("--embedded", action="store_true", help="use the embedded PostgreSQL/Redis")
    args = ap.parse_args(argv)
    if not (1 <= args.clients <= 1000 and 0.05 <= args.interval <= 10 and args.ramp >= 0):
        ap.error("--clients 1-1000, --interval 0.05-10, --ramp >= 0")
    live = _live_server()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    with live.services(args.embedded) as (db_url, redis_url), tempfile.TemporaryDirectory() as d:
        serve_args = ("--no-worker",) if args.separate_worker else ()
        server = live.Server(Path(d), db_url, redis_url, None, serve_args)
        worker = Worker(server.env) if args.separate_worker else None
        try:
            server.wait_http()
            if worker is not None:
                ready = worker.ready.wait(120)
                print(f"server up, separate worker ready: {ready}", flush=True)
            else:
                print(f"server up, worker ready after {server.wait_line(READY_LINE, 120)} s")
            results = asyncio.run(_bench(server, args))
        finally:
            if worker is not None:
                worker.close()
            server.close()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
