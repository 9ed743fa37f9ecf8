"""Server-path benchmark: ``POST /runs`` -> first segment listed, through ``artdag serve``.

Used by ``bench/live.py --server`` (or run directly). Each cold repetition
starts a fresh ``artdag serve --no-demo`` process (HTTP + in-process worker)
on loopback with the harness PostgreSQL/Redis (``ARTDAG_TEST_DATABASE_URL``,
``ARTDAG_TEST_REDIS_URL``; a throwaway database and key prefix) or, with
``--embedded`` or when those do not answer, the embedded stack in a temp dir.
The clock starts just before ``POST /runs`` and stops when the run's
playlist file lists a segment (``#EXTINF``, polled every 5 ms; the same probe
as for ffmpeg). Runs:

- ``cold-now``: the first run, posted as soon as ``/health`` answers (what
  ``artdag serve --demo`` does; the worker is still starting and warming up);
- ``cold-ready``: the first run, posted once the worker logged ``worker ready``;
- ``warm``: later runs on the same server, once the worker is ready.

The recipe is the live demo's (test pattern + 120 BPM clicks, hue, zoom,
colour split, vignette, 640x360 at 30 fps, analysis given), unpaced (``POST
/runs`` default) and paced at 1x (as the demo runs). The server logs a line
per run with the stage times (``first segment listed``), printed with each
figure. ffmpeg renders the same kind of content (``testsrc2`` + clicks, hue,
vignette, x264 veryfast, AAC, ``-hls_init_time 1 -hls_time 2``) in the same
run, unpaced and with ``-re``; its clock starts just before its process spawns.
Idle CPU: the server process's CPU time over a few idle seconds after the runs.
With ``--ipfs-api`` the runs publish to that node (the local playlist still
lists each segment first; the stage line's ``listed`` then includes the IPFS add).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

GOAL = 1.5
SECONDS = 6.0
READY_LINE = "worker ready"
STAGES_LINE = re.compile(r"first segment listed: (?P<stages>.*)$")
FFMPEG_SRC = (
    "testsrc2=size=640x360:rate=30",
    "aevalsrc='0.8*sin(2*PI*1000*t)*exp(-60*mod(t,0.5))':s=48000:c=stereo",
)
FFMPEG_VF = "hue=H=PI/2*t,vignette=PI/5"


@contextlib.contextmanager
def services(embedded: bool) -> Iterator[tuple[str, str]]:
    """``(database_url, redis_url)``: a throwaway database on the harness, or the embedded stack."""
    if not embedded:
        found = _harness()
        if found is not None:
            admin, redis_url = found
            name = f"artdag_bench_{uuid.uuid4().hex[:10]}"
            _admin_sql(admin, f'CREATE DATABASE "{name}"')
            try:
                yield admin.rsplit("/", 1)[0] + "/" + name, redis_url
            finally:
                _admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        print("harness PostgreSQL/Redis not reachable: using the embedded stack", flush=True)
    from streamer.embedded.stack import EmbeddedStack

    with tempfile.TemporaryDirectory() as d:
        stack = EmbeddedStack(Path(d) / "services")
        urls = stack.up()
        try:
            yield urls.database_url, urls.redis_url
        finally:
            stack.down()


def _harness() -> tuple[str, str] | None:
    import asyncio

    import asyncpg
    import redis

    admin = (
        os.environ.get("ARTDAG_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    base = os.environ.get("ARTDAG_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
    redis_url = base.rsplit("/", 1)[0] + "/" + os.environ.get("ARTDAG_TEST_REDIS_DB", "9")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()

        async def probe() -> None:
            conn = await asyncpg.connect(admin, timeout=3)
            await conn.close()

        asyncio.run(probe())
    except Exception:
        return None
    return admin, redis_url


def _admin_sql(admin: str, sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


class Server:
    """One ``artdag serve`` child process and its log lines (timestamped as read)."""

    def __init__(
        self,
        root: Path,
        db_url: str,
        redis_url: str,
        ipfs_api: str | None,
        serve_args: tuple[str, ...] = (),
    ) -> None:
        from streamer.embedded.procs import free_port

        self.port = free_port()
        tag = uuid.uuid4().hex[:8]
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ARTDAG_DATA_DIR": str(root / "data"),
            "CACHE_DIR": str(root / "cache"),
            # default: no node (a closed port), so runs render to local HLS only
            "IPFS_API": ipfs_api or f"/ip4/127.0.0.1/tcp/{free_port()}",
            "ARTDAG_REDIS_PREFIX": f"artdag-bench-{tag}:",
            "ARTDAG_QUEUE": f"artdag-bench-{tag}:queue",
            "ARTDAG_CLUSTER_KEY": uuid.uuid4().hex,
        }
        self.cache_dir = root / "cache"
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[tuple[float, str]] = []
        # `artdag serve` of this checkout (python -m from its root, so a copy of another
        # commit measures its own code)
        cmd = [sys.executable, "-m", "streamer.entry.cli", "serve", "--no-demo", *serve_args]
        self.spawned = time.time()
        self.proc = subprocess.Popen(
            [*cmd, "--log-level", "info"],
            env=self.env,
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        import httpx

        from streamer.auth import tokens
        from streamer.settings import Settings

        key = tokens.cluster_key(Settings.from_env(self.env))
        token, _ = tokens.mint_token(key, "bench", ttl=3600)
        self.client = httpx.Client(
            base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.time(), line.rstrip()))

    def wait_http(self, timeout: float = 120) -> float:
        """Seconds from spawn until ``/health`` answers."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("artdag serve exited:\n" + "\n".join(t for _, t in self.lines))
            with contextlib.suppress(Exception):
                if self.client.get("/health", timeout=1).status_code < 500:
                    return time.time() - self.spawned
            time.sleep(0.01)
        raise RuntimeError("artdag serve did not answer /health")

    def wait_line(self, text: str, timeout: float = 120) -> float | None:
        """Seconds from spawn until a log line containing ``text`` (None: not seen)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for t, line in list(self.lines):
                if text in line:
                    return t - self.spawned
            time.sleep(0.01)
        return None

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        """SIGINT, then wait (kill after 30 s)."""
        self.client.close()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_once(server: Server, pace: float | None) -> dict[str, Any]:
    """POST one demo run; time until its playlist lists a segment; stop it."""
    from streamer.entry.demo import demo_analysis, demo_recipe_text

    body: dict[str, Any] = {
        "recipe": demo_recipe_text(SECONDS),
        "analysis": demo_analysis(SECONDS),
    }
    if pace is not None:
        body["pace"] = pace
    t0 = time.time()
    resp = server.client.post("/runs", json=body)
    t_post = time.time() - t0
    resp.raise_for_status()
    run_id = resp.json()["run_id"]
    listed = _wait_listed(server.cache_dir / "hls" / run_id / "playlist.m3u8", 60)
    if listed is None:
        raise RuntimeError(f"run {run_id} listed no segment in 60 s")
    stages = _stages(server, run_id, t0)  # before a cancel can cut the first callback short
    if pace is not None:
        server.client.post(f"/runs/{run_id}/cancel")
    _wait_done(server, run_id)
    return {"first_segment": listed - t0, "post": t_post, "stages": stages}


def _stages(server: Server, run_id: str, t0: float, timeout: float = 10.0) -> str:
    """The server's stage line for ``run_id``, ``enqueued`` made relative to the POST."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for _, line in list(server.lines):
            m = STAGES_LINE.search(line)
            if m and run_id in line:
                stages = m.group("stages")
                e = re.search(r"enqueued=([0-9.]+)", stages)
                if e:
                    stages = stages.replace(e.group(0), f"enqueued=+{float(e.group(1)) - t0:.3f}")
                return stages
        time.sleep(0.01)
    return ""


def _wait_listed(path: Path, timeout: float) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(OSError):
            if "#EXTINF" in path.read_text():
                return time.time()
        time.sleep(0.005)
    return None


def _wait_done(server: Server, run_id: str) -> None:
    for _ in range(600):
        status = server.client.get(f"/api/run/{run_id}").json().get("status")
        if status in ("completed", "failed", "cancelled"):
            return
        time.sleep(0.1)


def ffmpeg_first_segment(paced: bool) -> float:
    """Seconds from spawn until ffmpeg's HLS playlist lists a segment (same kind of content)."""
    with tempfile.TemporaryDirectory() as d:
        pl = Path(d) / "out.m3u8"
        re_flag = ["-re"] if paced else []
        cmd = ["ffmpeg", "-v", "error", "-y"]
        for src in FFMPEG_SRC:
            cmd += [*re_flag, "-f", "lavfi", "-i", src]
        cmd += ["-t", str(SECONDS), "-vf", FFMPEG_VF, "-c:v", "libx264", "-preset", "veryfast"]
        cmd += ["-force_key_frames", "expr:gte(t,n_forced)", "-c:a", "aac", "-f", "hls"]
        cmd += ["-hls_init_time", "1", "-hls_time", "2", "-hls_playlist_type", "event", str(pl)]
        t0 = time.time()
        proc = subprocess.Popen(cmd)
        listed = _wait_listed(pl, 60)
        proc.wait()
        return (listed - t0) if listed is not None else -1.0


def bench(args: Any) -> list[dict[str, Any]]:
    """Every measurement; prints each as it comes."""
    results: list[dict[str, Any]] = []

    def record(kind: str, pace: float | None, r: dict[str, Any]) -> None:
        r.update(kind=kind, pace=pace, load=os.getloadavg()[0])
        results.append(r)
        ok = "ok " if 0 <= r["first_segment"] <= GOAL else "MISS"
        print(
            f"{kind:11s} pace {pace or '-':>3}  first segment {r['first_segment']:5.2f} s {ok} "
            f"load {r['load']:4.1f}  {r.get('stages', '')}",
            flush=True,
        )

    with services(args.embedded) as (db_url, redis_url):
        for rep in range(args.repeat):
            for pace in (None, 1.0):
                record("ffmpeg", pace, {"first_segment": ffmpeg_first_segment(pace is not None)})
            for mode in ("cold-now", "cold-ready"):
                for pace in (None, 1.0):
                    first = (rep, mode, pace) == (0, "cold-now", None)
                    cpu = _cold(args, mode, pace, first, db_url, redis_url, record)
                    if cpu is not None:
                        results.append({"kind": "idle", "cpu": cpu, "load": os.getloadavg()[0]})
    return results


def _cold(
    args: Any,
    mode: str,
    pace: float | None,
    first: bool,
    db_url: str,
    redis_url: str,
    record: Any,
) -> float | None:
    """One fresh server and its first run; on the ``first`` server also, once the worker is
    ready, the warm runs and the idle CPU. Returns the idle CPU (cores) when measured."""
    with tempfile.TemporaryDirectory() as d:
        server = Server(Path(d), db_url, redis_url, args.ipfs_api)
        try:
            up = server.wait_http()
            if mode == "cold-ready":
                ready = server.wait_line(args.ready_line, args.ready_timeout)
                print(f"server up after {up:.2f} s, worker ready after {ready} s", flush=True)
            record(mode, pace, run_once(server, pace))
            if not first:
                return None
            server.wait_line(args.ready_line, args.ready_timeout)
            for _ in range(args.warm):
                for p in (None, 1.0):
                    record("warm", p, run_once(server, p))
            c0, t0 = server.cpu_seconds(), time.time()
            time.sleep(args.idle)
            cpu = (server.cpu_seconds() - c0) / (time.time() - t0)
            print(f"idle server CPU: {100 * cpu:.2f} % of a core", flush=True)
            return cpu
        finally:
            server.close()


def summary(results: list[dict[str, Any]]) -> None:
    """Medians per kind and pace."""
    print(f"medians (goal {GOAL} s from POST /runs to the first segment listed):")
    for kind in ("ffmpeg", "cold-now", "cold-ready", "warm"):
        for pace in (None, 1.0):
            xs = [r["first_segment"] for r in results if (r["kind"], r.get("pace")) == (kind, pace)]
            if xs:
                loads = [r["load"] for r in results if (r["kind"], r.get("pace")) == (kind, pace)]
                print(
                    f"  {kind:10s} pace {pace or '-':>3}: {statistics.median(xs):5.2f} s "
                    f"(n={len(xs)}, min {min(xs):.2f}, max {max(xs):.2f}, "
                    f"load {min(loads):.1f}-{max(loads):.1f})",
                    flush=True,
                )


def main(argv: list[str] | None = None) -> int:
    """``live_server.py [--repeat N] [--warm N] [--idle S] [--embedded] [--ipfs-api A]``."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="cold repetitions (fresh servers)")
    ap.add_argument("--warm", type=int, default=3, help="warm runs per pace on the first server")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    ap.add_argument("--embedded", action="store_true", help="use the embedded PostgreSQL/Redis")
    ap.add_argument("--ipfs-api", help="IPFS API multiaddr: runs publish to IPFS as they render")
    ap.add_argument("--ready-line", default=READY_LINE, help="log text meaning the worker is ready")
    ap.add_argument(
        "--ready-timeout",
        type=float,
        default=120.0,
        help="cold-ready posts after this many seconds if the ready line never comes",
    )
    args = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    results = bench(args)
    summary(results)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))
    sys.exit(main())
