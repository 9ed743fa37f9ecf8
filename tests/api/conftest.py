"""Shared API fixtures: the real app on the harness PostgreSQL/Redis, an in-process
arq worker and a live uvicorn server on a free port (for ffprobe and Chromium).

- ``live_factory``: ``async with live_factory(ipfs_api=None, **env) as live``
  starts one stack; ``live`` is a :class:`LiveServer` (``url``, ``client`` an
  ``httpx.AsyncClient`` on that URL sending a Bearer ``token`` for ``user``,
  ``app``, ``settings``, ``db`` pool, ``redis``).
- ``live_server``: one stack per test module without IPFS (the IPFS API points
  at a closed port, so runs render to local HLS).
- ``live_server_ipfs``: one stack per test module with the harness IPFS node.

Each stack uses the session database (``pg_dsn``), the session Redis and its
own arq queue name, so parallel sessions never take each other's jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from litestar import Litestar

from streamer.auth import tokens
from streamer.embedded.stack import free_port
from streamer.entry.app import create_app
from streamer.entry.http_server import GuardedProtocol, http_config
from streamer.entry.worker import create_worker
from streamer.present.deps import provide_resources
from streamer.resources import Resources
from streamer.settings import Settings

__all__ = ["LiveServer", "free_port"]

#: Fast, small HLS settings for tests.
TEST_ENV = {"HLS_SEGMENT_SECONDS": "1", "HLS_X264_PRESET": "ultrafast"}


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal capture: Ctrl-C stays pytest's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class LiveServer:
    """A running app + worker + HTTP server."""

    url: str
    client: httpx.AsyncClient
    app: Litestar
    settings: Settings
    queue_name: str
    worker: Any
    token: str

    @property
    def res(self) -> Resources:
        """The app's resources (open while the server runs)."""
        return provide_resources(self.app.state)

    @property
    def db(self) -> Any:
        """The app's asyncpg pool."""
        return self.res.db

    @property
    def redis(self) -> Any:
        """The app's Redis client."""
        return self.res.redis

    @property
    def cache_dir(self) -> Path:
        """CACHE_DIR of this stack."""
        return self.settings.storage.cache_dir

    async def wait_run(
        self, run_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 90.0
    ) -> dict[str, Any]:
        """Poll ``GET /api/run/{id}`` until ``until(run)``; fail after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        run: dict[str, Any] = {}
        while loop.time() < deadline:
            resp = await self.client.get(f"/api/run/{run_id}")
            assert resp.status_code == 200, resp.text
            run = resp.json()
            if until(run):
                return run
            await asyncio.sleep(0.1)
        raise AssertionError(f"run {run_id} did not reach the condition in {timeout}s: {run}")


@pytest.fixture(scope="session")
def live_factory(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]:
    """``live_factory(ipfs_api=None, gateway="http://gateway.invalid/ipfs", user="tester",
    port=None, http_protocol=None, **env)`` (``port``: the HTTP port, when the test must know
    it beforehand; ``http_protocol``: a guarded protocol class, default the production one)."""

    @contextlib.asynccontextmanager
    async def make(
        ipfs_api: str | None = None,
        gateway: str = "http://gateway.invalid/ipfs",
        user: str = "tester",
        port: int | None = None,
        http_protocol: type[GuardedProtocol] | None = None,
        **env: str,
    ) -> AsyncIterator[LiveServer]:
        root = tmp_path_factory.mktemp("live")
        full_env = {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(root / "data"),
            "CACHE_DIR": str(root / "cache"),
            "IPFS_API": ipfs_api or f"/ip4/127.0.0.1/tcp/{free_port()}",
            "IPFS_GATEWAY_URL": gateway,
            "ARTDAG_REDIS_PREFIX": redis_prefix,
            "ARTDAG_QUEUE": f"{redis_prefix}queue:{uuid.uuid4().hex[:8]}",
            **TEST_ENV,
            **env,
        }
        settings = Settings.from_env(full_env)
        queue = settings.services.queue_name
        app = create_app(settings)
        token, _ = tokens.mint_token(tokens.cluster_key(settings), user, ttl=3600)
        port = port or free_port()
        # the production server configuration (slow clients cut off, streamer.entry.http_server)
        server = _QuietServer(
            http_config(
                app,
                settings.server,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                protocol=http_protocol,
            )
        )
        http_task = asyncio.create_task(server.serve(), name="test-http")
        for _ in range(300):
            if server.started or http_task.done():
                break
            await asyncio.sleep(0.05)
        if not server.started:
            http_task.cancel()
            raise RuntimeError("the test HTTP server did not start")
        worker = create_worker(settings, handle_signals=False, queue_name=queue, max_jobs=2)
        worker_task = asyncio.create_task(worker.main(), name="test-worker")
        # one round trip through the queue: the worker's ctx (stores...) is ready after it
        ping = await provide_resources(app.state).arq.enqueue_job(
            "ping", "ready", _queue_name=queue
        )
        assert ping is not None
        await ping.result(timeout=60, poll_delay=0.05)
        url = f"http://127.0.0.1:{port}"
        client = httpx.AsyncClient(
            base_url=url, timeout=30.0, headers={"Authorization": f"Bearer {token}"}
        )
        try:
            yield LiveServer(url, client, app, settings, queue, worker, token)
        finally:
            await client.aclose()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.close(), 30)
            worker_task.cancel()
            with contextlib.suppress(BaseException):
                await worker_task
            server.should_exit = True
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(http_task, 30)

    return make


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live_server(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
) -> AsyncIterator[LiveServer]:
    """App + worker + HTTP server without IPFS (runs render to local HLS)."""
    async with live_factory() as live:
        yield live


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live_server_ipfs(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    ipfs_api: str,
    ipfs_gateway: str,
) -> AsyncIterator[LiveServer]:
    """App + worker + HTTP server with the harness IPFS node and its gateway."""
    # IPFS_RAW_TIMEOUT: /ipfs/{cid}/raw of a CID nobody has answers 404 after 2 s, not 10
    async with live_factory(ipfs_api=ipfs_api, gateway=ipfs_gateway, IPFS_RAW_TIMEOUT="2") as live:
        yield live
