"""Distributed live rendering: one heavy run on 1 worker (1 core) vs 2 workers (1 core each).

Starts ``artdag serve --no-worker`` (the API, unpinned) on the harness
PostgreSQL (a throwaway database, as :mod:`bench.live_server` finds it) and a
private ``redis-server`` on a free port (so ``INFO commandstats`` counts this
bench's operations only; the harness Redis when ``redis-server`` is missing),
then ``artdag worker --concurrency <slots>`` processes pinned with
``taskset -c <core>``. The same recipe (``testsrc`` at 1080p30 + 120 BPM clicks through
``blur`` -> ``wave`` (a warp) -> ``lut3d`` (a generated 17^3 .cube), heavier
than real time on one core) is posted (``POST /runs``, unpaced) three times:

- ``single``: ``ARTDAG_CHUNK_SEGMENTS=0`` (one job), 1 worker on core 0: the
  baseline, so the chunking overhead shows;
- ``chunked-1``: ``ARTDAG_CHUNK_SEGMENTS=N``, 1 worker on core 0;
- ``chunked-2``: the same, 2 workers on cores 0 and 1.

Each run is timed from just before the POST to the first ``#EXTINF`` in its
playlist (time to first segment) and to ``#EXT-X-ENDLIST`` (frames/s,
x real time). Printed per run: the load, each worker's CPU seconds and chunk
count (from the ``done:<i>`` records), when each chunk's segments were
written, and the Redis commands the run issued (``INFO commandstats`` after
minus before, less the idle rate of the same worker set measured just before;
per segment). Then the throughput ratio ``chunked-2 / chunked-1`` (goal
>= 1.8), the ratio by CPU time (1 worker's CPU seconds over the busiest of
the 2: what the wall ratio would be with a free core per worker; on a shared
machine the wall ratio measures the other load too) and whether the two
chunked runs' segments (names = CIDs, and the
bytes) and playlists (less ``PROGRAM-DATE-TIME``) are identical.

Job slots: a chunked run's owner held one arq slot for the whole run when
these figures were taken (it is now a chain of short deferred looks that holds
none, :mod:`streamer.jobs.chunk_supervisor`), and a worker with two free slots on one core takes two chunks and renders
them interleaved (the other worker may then idle at the end). ``--slots 2,1``
gives core 1's worker one slot and keeps the owner off it (that worker is
paused with SIGSTOP from the POST until the plan exists, ~0.05 s), so each
worker renders one chunk at a time.

Before measuring, waits (up to ``--wait-load`` seconds) for the 1-minute load
to drop below ``--max-load``: the machine is shared.

Usage: ``.venv/bin/python bench/distributed.py [--seconds 23] [--size 1920x1080]
[--chunk 2] [--slots 2,2] [--no-single] [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

GOAL = 1.8
ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "worker ready"
PDT = re.compile(r"^#EXT-X-PROGRAM-DATE-TIME:.*\n", re.MULTILINE)

RECIPE = """\
name: distributed-bench
version: '1.0'
description: 1080p test pattern through blur, a warp and a 3D LUT (heavier than real time)
steps:
- id: beat
  type: SOURCE
  config: {{generator: clicks, duration: {seconds}, bpm: 120}}
- id: video
  type: SOURCE
  config: {{generator: testsrc, duration: {seconds}, width: {width}, height: {height}, fps: {fps}}}
- id: soft
  type: EFFECT
  inputs: [video]
  config: {{effect: blur, radius: 4}}
- id: warped
  type: EFFECT
  inputs: [soft]
  config: {{effect: wave, amplitude: 12, wavelength: 90, phase: 3 * t}}
- id: graded
  type: EFFECT
  inputs: [warped]
  config: {{effect: lut3d, path: '{cube}'}}
- id: show
  type: MUX
  inputs: [graded, beat]
output: show
"""


def write_cube(path: Path, size: int = 17) -> None:
    """A warm, contrasty 3D LUT (red fastest, as .cube files order rows)."""
    rows = [f"LUT_3D_SIZE {size}"]
    n = size - 1
    for b in range(size):
        for g in range(size):
            for r in range(size):
                x = (r / n, g / n, b / n)
                y = [min(1.0, max(0.0, 0.5 + 1.2 * (c - 0.5))) for c in x]
                rows.append(f"{min(1.0, y[0] * 1.08):.6f} {y[1]:.6f} {y[2] * 0.9:.6f}")
    path.write_text("\n".join(rows) + "\n")


@contextlib.contextmanager
def private_redis(fallback: str) -> Iterator[str]:
    """A throwaway ``redis-server`` on a free port (``fallback`` URL when none is installed)."""
    exe = shutil.which("redis-server")
    if exe is None:
        print("redis-server not found: using the harness Redis (commandstats include others)")
        yield fallback
        return
    from streamer.embedded.procs import free_port

    port = free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(200):
            with contextlib.suppress(Exception):
                if client.ping():
                    break
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


class Worker:
    """One ``artdag worker`` child pinned to one core, with its log lines."""

    def __init__(self, env: dict[str, str], core: int, concurrency: int, log: Path) -> None:
        cmd = [sys.executable, "-m", "streamer.entry.cli", "worker"]
        cmd += ["--concurrency", str(concurrency)]
        self.core = core
        self.lines: list[str] = []
        self.log = log
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(core), *cmd],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("a") as f:
            for line in self.proc.stdout:
                self.lines.append(line.rstrip())
                f.write(line)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(READY_LINE in line for line in self.lines):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("worker exited:\n" + "\n".join(self.lines[-30:]))
            time.sleep(0.05)
        raise RuntimeError(f"worker on core {self.core} not ready in {timeout} s")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the worker (taskset execs it: same pid)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_quiet(max_load: float, limit: float) -> bool:
    """Wait (at most ``limit`` s) for the 1-minute load to drop below ``max_load``."""
    t0 = time.time()
    while os.getloadavg()[0] >= max_load:
        if time.time() - t0 > limit:
            print(f"load still {os.getloadavg()[0]:.2f} after {limit:.0f} s: running anyway")
            return False
        time.sleep(5)
    print(f"load {os.getloadavg()[0]:.2f} after {time.time() - t0:.0f} s of waiting", flush=True)
    return True


def command_calls(client: Any) -> dict[str, int]:
    """Redis calls so far per command (``INFO commandstats``)."""
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}


def _poll_playlist(path: Path, t0: float, timeout: float) -> tuple[float, float, float]:
    """Seconds from ``t0`` to the first segment listed and to ENDLIST; max load seen."""
    first = end = -1.0
    peak = 0.0
    deadline = time.time() + timeout
    while time.time() < deadline and end < 0:
        with contextlib.suppress(OSError):
            text = path.read_text()
            if first < 0 and "#EXTINF" in text:
                first = time.time() - t0
            if "#EXT-X-ENDLIST" in text:
                end = time.time() - t0
        peak = max(peak, os.getloadavg()[0])
        time.sleep(0.01)
    if end < 0:
        raise RuntimeError(f"{path} not ended within {timeout} s")
    return first, end, peak


def _post(server: Any, client: Any, recipe: str, hold: Worker | None) -> str:
    """POST the run; ``hold`` (paused meanwhile) cannot take its owner job."""
    if hold is not None:
        hold.proc.send_signal(signal.SIGSTOP)
    try:
        resp = server.client.post("/runs", json={"recipe": recipe})
        resp.raise_for_status()
        run_id: str = resp.json()["run_id"]
        table = f"{server.env['ARTDAG_QUEUE']}:chunks:{run_id}"
        deadline = time.time() + 60
        while hold is not None and not client.hexists(table, "meta"):
            if time.time() > deadline:
                raise RuntimeError(f"run {run_id} planned no chunks in 60 s")
            time.sleep(0.005)
    finally:
        if hold is not None:
            hold.proc.send_signal(signal.SIGCONT)
    return run_id


def run_once(
    server: Any, client: Any, recipe: str, workers: list[Worker], hold: Worker | None
) -> dict[str, Any]:
    """Measure the idle Redis rate, POST the run, wait for ENDLIST; the figures."""
    client.config_resetstat()
    time.sleep(3.0)
    idle = sum(command_calls(client).values()) / 3.0
    before = command_calls(client)
    cpu0 = [w.cpu_seconds() for w in workers]
    t0 = time.time()
    run_id = _post(server, client, recipe, hold)
    run_dir = server.cache_dir / "hls" / run_id
    first, end, peak = _poll_playlist(run_dir / "playlist.m3u8", t0, 900)
    time.sleep(1.0)  # the run's completion (row, events) follows ENDLIST
    after = command_calls(client)
    elapsed = time.time() - t0
    cpu = [w.cpu_seconds() - c for w, c in zip(workers, cpu0, strict=True)]
    diff = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}
    diff["info"] = diff.get("info", 1) - 1  # our own INFO
    status = server.client.get(f"/api/run/{run_id}").json().get("status")
    return {
        "run_id": run_id,
        "t0": t0,
        "dir": run_dir,
        "first": first,
        "end": end,
        "peak_load": peak,
        "cpu": cpu,
        "status": status,
        "redis": diff,
        "redis_idle": idle * elapsed,
    }


def chunk_figures(client: Any, queue: str, r: dict[str, Any], workers: list[Worker]) -> None:
    """Per worker chunk counts and chunk finish times (segment file times) into ``r``."""
    import json

    raw = client.hgetall(f"{queue}:chunks:{r['run_id']}")
    pids = {w.proc.pid: i for i, w in enumerate(workers)}
    counts = [0] * len(workers)
    seconds = [0.0] * len(workers)
    finished: list[tuple[int, float]] = []
    for name, value in raw.items():
        if not name.decode().startswith("done:"):
            continue
        body = json.loads(value)
        pid = int(body["worker"].rsplit(":", 1)[1])
        counts[pids[pid]] += 1
        seconds[pids[pid]] += sum(s["duration"] for s in body["segments"])
        seg = r["dir"] / body["segments"][-1]["name"]
        finished.append((int(body["index"]), seg.stat().st_mtime))
    r["chunks"] = counts
    r["seconds"] = seconds
    r["finished"] = sorted(finished)
    started = dt.datetime.fromisoformat(json.loads(raw[b"meta"])["started"]).timestamp()
    r["planned"] = started - r["t0"]


def compare(a: Path, b: Path) -> tuple[bool, bool, int, int]:
    """(playlists equal less PROGRAM-DATE-TIME, every segment byte-identical, segments, bytes)."""
    pa, pb = (PDT.sub("", (d / "playlist.m3u8").read_text()) for d in (a, b))
    names = [line for line in pa.splitlines() if line and not line.startswith("#")]
    same = all((a / n).read_bytes() == (b / n).read_bytes() for n in names if (b / n).exists())
    size = sum((a / n).stat().st_size for n in names)
    return pa == pb, same and all((b / n).exists() for n in names), len(names), size


def phase(ctx: dict[str, Any], name: str, chunk: int, cores: list[int]) -> dict[str, Any]:
    """Start pinned workers with ``ARTDAG_CHUNK_SEGMENTS=chunk``, render once, stop them."""
    args, server = ctx["args"], ctx["server"]
    env = {**server.env, "ARTDAG_CHUNK_SEGMENTS": str(chunk)}
    log = ctx["root"] / f"{name}.log"
    slots = ctx["slots"][: len(cores)]
    workers = [Worker(env, c, n, log) for c, n in zip(cores, slots, strict=True)]
    # a 1-slot worker must not take the owner job (it would hold its only slot)
    hold = workers[1] if chunk and len(workers) > 1 and slots[1] < 2 else None
    try:
        for w in workers:
            w.wait_ready()
        load = os.getloadavg()[0]
        r = run_once(server, ctx["redis"], ctx["recipe"], workers, hold)
        r["load"] = load
        if chunk:
            chunk_figures(ctx["redis"], server.env["ARTDAG_QUEUE"], r, workers)
    finally:
        for w in workers:
            w.close()
    report(name, r, ctx["frames"], args.seconds)
    return r


def report(name: str, r: dict[str, Any], frames: int, seconds: float) -> None:
    """Print one run's figures."""
    fps = frames / r["end"]
    cpu = " + ".join(f"{c:.1f}" for c in r["cpu"])
    cores = sum(r["cpu"]) / r["end"]
    print(
        f"{name:10s} {fps:6.2f} frames/s  {seconds / r['end']:5.2f}x real time  "
        f"first segment {r['first']:5.2f} s  total {r['end']:6.2f} s  "
        f"worker CPU {cpu} s ({cores:.2f} cores)  load {r['load']:.2f} (peak {r['peak_load']:.2f})  "
        f"status {r['status']}",
        flush=True,
    )
    if "chunks" in r:
        done = " ".join(f"{i}:{t - r['t0']:.1f}" for i, t in r["finished"])
        print(
            f"           planned (chunks enqueued) {r['planned']:.2f} s after POST; "
            f"chunks per worker {r['chunks']} "
            f"({' + '.join(f'{x:.0f}' for x in r['seconds'])} s of stream); "
            f"chunk finished (s after POST) {done}"
        )
    calls = sum(r["redis"].values())
    top = sorted(r["redis"].items(), key=lambda kv: -kv[1])[:8]
    print(
        f"           Redis calls {calls} (idle rate x time ~{r['redis_idle']:.0f}): "
        + ", ".join(f"{k} {v}" for k, v in top),
        flush=True,
    )


def bench(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The three runs on one API server; returns them by name."""
    import redis

    from bench.live_server import Server, services

    w, h = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as d, services(False) as (db_url, harness_redis):
        root = Path(d)
        cube = root / "warm.cube"
        write_cube(cube)
        recipe = RECIPE.format(seconds=args.seconds, width=w, height=h, fps=args.fps, cube=cube)
        with private_redis(harness_redis) as redis_url:
            server = Server(root, db_url, redis_url, None, ("--no-worker",))
            ctx = {
                "args": args,
                "server": server,
                "root": root,
                "recipe": recipe,
                "redis": redis.Redis.from_url(redis_url),
                "frames": round(args.seconds * args.fps),
                "slots": [int(x) for x in args.slots.split(",")] if args.slots else [2, 2],
            }
            try:
                server.wait_http()
                if args.max_load > 0:
                    wait_quiet(args.max_load, args.wait_load)
                runs = {}
                if not args.no_single:
                    runs["single"] = phase(ctx, "single", 0, [0])
                runs["chunked-1"] = phase(ctx, "chunked-1", args.chunk, [0])
                runs["chunked-2"] = phase(ctx, "chunked-2", args.chunk, [0, 1])
                summary(runs, ctx["frames"])
            finally:
                server.close()
    return runs


def summary(runs: dict[str, dict[str, Any]], frames: int) -> None:
    """The ratio, chunking overhead, identity and Redis calls per segment."""
    one, two = runs["chunked-1"], runs["chunked-2"]
    ratio = one["end"] / two["end"]
    ok = "met" if ratio >= GOAL else "MISSED"
    bound = sum(two["seconds"]) / max(two["seconds"])
    print(
        f"throughput ratio 2 workers / 1 worker: {ratio:.2f}x (goal {GOAL}x {ok}; "
        f"the chunks' split across the workers bounds it at {bound:.2f}x)"
    )
    # with a core each (no other load), a run takes about its busiest worker's CPU time
    projected = sum(one["cpu"]) / max(two["cpu"])
    print(
        f"CPU: 1 worker {sum(one['cpu']):.1f} s, 2 workers {' + '.join(f'{c:.1f}' for c in two['cpu'])}"
        f" s: ratio with a free core per worker ~{projected:.2f}x"
    )
    if "single" in runs:
        s = runs["single"]
        print(
            f"chunking on 1 core: {one['end'] / s['end']:.2f}x the single-pass time; "
            f"2 workers vs single pass: {s['end'] / two['end']:.2f}x"
        )
    pl, seg, n, size = compare(one["dir"], two["dir"])
    print(
        f"chunked-1 vs chunked-2: playlist (less PROGRAM-DATE-TIME) identical {pl}; "
        f"{n} segments, names (CIDs) and bytes identical {seg}"
    )
    print(
        f"segments: {size / n / 1e6:.2f} MB on average; 2 workers wrote "
        f"{n / two['end']:.2f} segments/s, {size / two['end'] / 1e6:.2f} MB/s"
    )
    for name in ("chunked-1", "chunked-2"):
        r = runs[name]
        net = sum(r["redis"].values()) - r["redis_idle"]
        print(f"{name}: ~{net:.0f} Redis calls for the run less idle = {net / n:.1f} per segment")


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 23 s: 13 segments (1, 1, 10 x 2, 1 s), 7 chunks of 60, 5 x 120 and 30 frames
    ap.add_argument("--seconds", type=float, default=23.0, help="stream length (default 23)")
    ap.add_argument("--size", default="1920x1080", help="WxH (default 1920x1080)")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--chunk", type=int, default=2, help="ARTDAG_CHUNK_SEGMENTS (default 2)")
    ap.add_argument(
        "--slots",
        default="2,2",
        help="job slots of the workers on cores 0,1 (default 2,2; with 2,1 the owner job is "
        "kept on core 0's worker, so each worker renders one chunk at a time)",
    )
    ap.add_argument("--no-single", action="store_true", help="skip the single-pass baseline")
    ap.add_argument("--max-load", type=float, default=2.5, help="wait for a load below this")
    ap.add_argument("--wait-load", type=float, default=600.0, help="at most this many seconds")
    ap.add_argument("--quick", action="store_true", help="8 s at 640x360, no load wait")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.size, args.max_load = 8.0, "640x360", 0.0
    print(
        f"{args.size} {args.fps} fps, {args.seconds} s, chunk {args.chunk} segments, "
        f"slots {args.slots}, {os.cpu_count()} cores, load {os.getloadavg()}",
        flush=True,
    )
    bench(args)
    print(f"session {uuid.uuid4().hex[:6]} done, load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))
    sys.exit(main())
