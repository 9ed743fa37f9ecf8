"""The running part of ``artdag serve``: services, HTTP server and worker in one loop.

Kept apart from :mod:`streamer.entry.commands.serve` so that building the CLI
parser imports neither uvicorn nor the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import uvicorn

from streamer.auth.login_links import create_login_link
from streamer.entry.app import create_app
from streamer.entry.embedded_setup import Embedded, start_embedded
from streamer.entry.http_server import http_config
from streamer.entry.worker import MonitoredWorker, create_worker
from streamer.present.deps import provide_resources

if TYPE_CHECKING:
    from litestar import Litestar

    from streamer.settings import Settings

__all__ = ["serve"]

log = logging.getLogger("streamer.entry.commands.serve")


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture: ``serve`` owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def _serve_http(server: _Server) -> None:
    # uvicorn calls sys.exit(1) when it cannot bind; keep that a task failure
    # instead of a SystemExit tearing through the event loop.
    try:
        await server.serve()
    except SystemExit as exc:
        raise RuntimeError(f"the HTTP server exited during startup (code {exc.code})") from None


def _demo_hook() -> Any:
    try:
        module = importlib.import_module("streamer.entry.demo")
    except ModuleNotFoundError as exc:
        if exc.name == "streamer.entry.demo":
            return None
        raise
    start = getattr(module, "start_demo", None)
    return start if callable(start) else None


async def _start_demo(app: Litestar) -> None:
    start_demo = _demo_hook()
    if start_demo is None:
        log.warning("--demo: no streamer.entry.demo.start_demo available; skipping")
        return
    try:
        result = start_demo(provide_resources(app.state))
        if asyncio.iscoroutine(result):
            await result
    except Exception:  # the demo is optional: keep serving without it
        log.exception("--demo: start_demo failed")


class _Parts:
    """What one ``serve`` started, so that ``shutdown`` stops exactly that, in order."""

    def __init__(self, settings: Settings, log_level: str) -> None:
        self.settings = settings
        self.log_level = log_level
        self.embedded: Embedded | None = None
        self.http: _Server | None = None
        self.http_task: asyncio.Task[None] | None = None
        self.worker: MonitoredWorker | None = None
        self.worker_task: asyncio.Task[None] | None = None

    async def start_services(self, *, ipfs: bool) -> None:
        """Start the services whose settings are unset and use them (``ipfs``: a node too)."""
        wanted = ["PostgreSQL", "Redis"] if self.settings.services.embedded else []
        if ipfs and not self.settings.ipfs.api_set:
            wanted.append("an offline IPFS node")
        if not wanted:
            return
        where = self.settings.storage.services_dir
        print(f"starting embedded {', '.join(wanted)} in {where}", flush=True)
        self.settings, self.embedded = await asyncio.to_thread(
            start_embedded, self.settings, ipfs=ipfs
        )

    async def print_sign_in(self, app: Litestar) -> None:
        """Print a one-time sign-in link (none with L2: L2 is the only way in)."""
        if self.settings.federation.l2_server:
            return
        res = provide_resources(app.state)
        try:
            link = await create_login_link(res.redis, res.keys, res.settings)
        except Exception as exc:  # the server works without it; say why
            log.warning("no sign-in link: %s", exc)
            return
        print(f"sign in (one-time link; `artdag login-link` makes another): {link}", flush=True)

    async def start_http(self, app: Litestar, stop: asyncio.Event) -> bool:
        """Start uvicorn and wait until it listens; False (reported) when it failed."""
        config = http_config(app, self.settings.server, log_level=self.log_level.lower())
        http = self.http = _Server(config)
        task = self.http_task = asyncio.create_task(_serve_http(http), name="http")
        while not http.started and not task.done() and not stop.is_set():
            await asyncio.sleep(0.05)
        if not task.done():
            return True
        # startup failed (port in use, database unreachable, ...); uvicorn logged why
        exc = None if task.cancelled() else task.exception()
        why = exc or "application startup failed (see the log above)"
        print(f"artdag serve: the HTTP server failed to start: {why}", file=sys.stderr)
        return False

    def start_worker(self) -> None:
        """Run an arq worker in this loop."""
        self.worker = create_worker(self.settings, handle_signals=False)
        self.worker_task = asyncio.create_task(self.worker.main(), name="arq-worker")
        self.worker.main_task = self.worker_task

    async def wait(self, stop: asyncio.Event) -> int:
        """Until a signal (0) or until the server or worker stops by itself (1)."""
        stop_task = asyncio.create_task(stop.wait(), name="stop")
        waiters: list[asyncio.Task[Any]] = [stop_task]
        waiters += [t for t in (self.http_task, self.worker_task) if t is not None]
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        code = 0
        for task in done:
            if task is not stop_task and not task.cancelled() and task.exception() is not None:
                log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())
                code = 1
            elif task is not stop_task:
                log.error("%s stopped unexpectedly", task.get_name())
                code = 1
        stop_task.cancel()
        return code

    async def shutdown(self) -> None:
        """Stop the HTTP server, the worker, then the services this process started."""
        if self.http is not None and self.http_task is not None:
            self.http.should_exit = True
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.http_task, 30)
        if self.worker is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.worker.close(), 30)
            task = self.worker_task
            if task is not None and not task.done():
                task.cancel()
            if task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await task
        if self.embedded is not None:
            # Synchronously, on purpose: nothing else runs any more, and this
            # must finish even if the task is being cancelled.
            self.embedded.stop()


async def _run(parts: _Parts, stop: asyncio.Event, *, worker: bool, demo: bool, ipfs: bool) -> int:
    await parts.start_services(ipfs=ipfs)
    if stop.is_set():
        return 0
    embedded = parts.embedded is not None and parts.embedded.stack is not None
    app = create_app(parts.settings, embedded_services=embedded)
    if not await parts.start_http(app, stop):
        return 1
    if stop.is_set():
        return 0
    if worker:
        parts.start_worker()
    server = parts.settings.server
    shown = "localhost" if server.host in ("0.0.0.0", "::") else server.host
    print(f"artdag L1 serving on http://{shown}:{server.port}/", flush=True)
    await parts.print_sign_in(app)
    if demo:
        await _start_demo(app)
    return await parts.wait(stop)


async def serve(
    settings: Settings,
    *,
    worker: bool = True,
    demo: bool = False,
    log_level: str = "info",
    ipfs: bool = True,
) -> int:
    """Run services (those unset), worker and HTTP server until a signal; the exit code.

    Args:
        settings: configuration.
        worker: run an arq worker in this process.
        demo: start the demo run once the server is up.
        log_level: uvicorn's log level.
        ipfs: start an offline IPFS node when ``IPFS_API`` is unset.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    parts = _Parts(settings, log_level)
    try:
        return await _run(parts, stop, worker=worker, demo=demo, ipfs=ipfs)
    finally:
        print("artdag serve: shutting down", file=sys.stderr, flush=True)
        await parts.shutdown()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
