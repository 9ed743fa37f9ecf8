"""Private, restartable services for the fault tests, and the processes under test.

Never the harness PostgreSQL/Redis (other sessions use them): each service here
is this test session's own, on a free loopback port, and a restart stops it and
starts it again on the same port with the same data.

- :class:`PrivateRedis`: ``redis-server`` keeping nothing on disk (a restart
  forgets every key, arq's queue included).
- :class:`PrivatePostgres`: a throwaway cluster (``streamer.embedded.postgres``,
  fsync off), created once per session.
- :class:`PrivateIPFS`: ``scripts/services/ipfs.sh`` in a folder of its own.
- :class:`WorkerProcess`: an arq worker in a process of its own
  (``worker_main.py``), its log in a file.
- :class:`AppServer`: the app under uvicorn in this loop, with a signed-in client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from litestar import Litestar

from streamer.auth import tokens
from streamer.embedded.postgres import EmbeddedPostgres
from streamer.embedded.procs import free_port, port_open, wait_dead
from streamer.entry.app import create_app
from streamer.settings import Settings

__all__ = [
    "REPO",
    "TEST_ENV",
    "AppServer",
    "PrivateIPFS",
    "PrivatePostgres",
    "PrivateRedis",
    "WorkerProcess",
    "serve_app",
    "wait_for",
]

REPO = Path(__file__).resolve().parents[3]
#: Fast, small HLS settings (as the API tests use).
TEST_ENV = {"HLS_SEGMENT_SECONDS": "1", "HLS_X264_PRESET": "ultrafast"}


async def wait_for(
    check: Callable[[], Any], what: str, timeout: float, interval: float = 0.1
) -> Any:
    """Await/call ``check()`` until it returns something truthy; fail after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what}: not reached within {timeout} s (last: {last!r})")


class PrivateRedis:
    """A redis-server on ``port`` that keeps nothing on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
        log = (self.root / "redis.log").open("ab")
        self._proc = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


class PrivatePostgres:
    """One cluster for the session (``streamer.embedded.postgres``), stoppable and restartable."""

    def __init__(self, root: Path) -> None:
        self.cluster = EmbeddedPostgres(root, fsync=False)
        self.port = free_port()

    @property
    def admin_dsn(self) -> str:
        return EmbeddedPostgres.url(self.port)

    def start(self) -> None:
        self.cluster.start(self.port)

    def stop(self) -> None:
        self.cluster.stop()

    def running(self) -> bool:
        return self.cluster.running()

    async def new_database(self) -> str:
        """A fresh empty database; its DSN."""
        name = f"faults_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.admin_dsn.rsplit("/", 1)[0] + f"/{name}"


class PrivateIPFS:
    """A js-ipfs node of ``scripts/services/ipfs.sh`` in ``state`` (same ports on restart)."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.api = ""
        self.gateway = ""

    def _script(self, action: str) -> str:
        proc = subprocess.run(
            ["bash", str(REPO / "scripts/services/ipfs.sh"), action, str(self.state)],
            capture_output=True,
            text=True,
            timeout=150,
        )
        assert proc.returncode == 0, f"ipfs.sh {action}: {proc.stderr[-2000:]}"
        return proc.stdout

    def start(self) -> None:
        env = dict(line.split("=", 1) for line in self._script("start").splitlines() if "=" in line)
        self.api, self.gateway = env["API"], env["GATEWAY"]

    def stop(self) -> None:
        self._script("stop")


class WorkerProcess:
    """``worker_main.py`` in a process of its own (its own session, log in ``log``)."""

    def __init__(self, env: dict[str, str], log: Path, max_jobs: int = 1) -> None:
        self.env = {**os.environ, **env, "FAULTS_MAX_JOBS": str(max_jobs), "PYTHONPATH": str(REPO)}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("worker_main.py"))],
            cwd=REPO,
            env=self.env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        wait_dead(proc.pid, 5)


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal capture: Ctrl-C stays pytest's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class AppServer:
    """The app under uvicorn on ``url``; ``client`` sends a Bearer token."""

    url: str
    client: httpx.AsyncClient
    app: Litestar
    settings: Settings

    async def run_row(self, run_id: str) -> dict[str, Any]:
        resp = await self.client.get(f"/api/run/{run_id}")
        assert resp.status_code == 200, resp.text
        row: dict[str, Any] = resp.json()
        return row

    async def wait_run(
        self, run_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 90.0
    ) -> dict[str, Any]:
        """Poll ``GET /api/run/{id}`` until ``until(run)``."""
        return dict(
            await wait_for(
                lambda: self._matching(run_id, until), f"run {run_id}", timeout, interval=0.2
            )
        )

    async def _matching(
        self, run_id: str, until: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        resp = await self.client.get(f"/api/run/{run_id}")
        if resp.status_code != 200:
            return None
        row: dict[str, Any] = resp.json()
        return row if until(row) else None


@contextlib.asynccontextmanager
async def serve_app(settings: Settings, user: str = "tester") -> AsyncIterator[AppServer]:
    """Start the app (lifespan included) on a free port; stop it at the end."""
    app = create_app(settings)
    token, _ = tokens.mint_token(tokens.cluster_key(settings), user, ttl=3600)
    port = free_port()
    server = _QuietServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve(), name="faults-http")
    try:
        await wait_for(lambda: server.started or task.done(), "the HTTP server", 30, 0.05)
        assert server.started, "the HTTP server did not start"
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(
            base_url=url, timeout=30.0, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            yield AppServer(url, client, app, settings)
    finally:
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 30)
