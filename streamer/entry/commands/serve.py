"""``artdag serve [--host H] [--port P] [--no-worker] [--demo/--no-demo]``.

With REDIS_URL and DATABASE_URL unset, starts the embedded PostgreSQL + Redis
(data under ``$ARTDAG_DATA_DIR/services``) and stops them again on exit if it
started them. Runs an arq worker in the same event loop unless ``--no-worker``,
and serves the app with uvicorn. SIGINT/SIGTERM stop everything in order:
HTTP server, worker, services.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import logging
import signal
import sys
from collections.abc import Generator
from typing import Any

import uvicorn

from streamer.embedded.stack import EmbeddedStack
from streamer.entry.app import create_app
from streamer.entry.commands._common import configure_logging, with_urls
from streamer.entry.worker import create_worker
from streamer.jobs.warmup import default_units, recipe_units, start_warmup
from streamer.present.deps import provide_resources
from streamer.settings import Settings

__all__ = ["register", "run", "serve"]

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``serve``."""
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP server (and a worker, and the embedded services if needed)",
        description="Serve the API and web UI. With REDIS_URL/DATABASE_URL unset the embedded "
        "PostgreSQL + Redis are started under $ARTDAG_DATA_DIR/services.",
    )
    parser.add_argument("--host", default=None, help="bind address (default $HOST or 0.0.0.0)")
    parser.add_argument("--port", type=int, default=None, help="port (default $PORT or 8000)")
    parser.add_argument(
        "--no-worker", action="store_true", help="do not run an arq worker in this process"
    )
    parser.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="start the demo run once the server is up (if available)",
    )
    parser.add_argument("--log-level", default="info", help="log level (default info)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``serve``."""
    settings = Settings.from_env()
    server = settings.server
    if args.host is not None:
        server = dataclasses.replace(server, host=args.host)
    if args.port is not None:
        if not 1 <= args.port <= 65535:
            print(f"artdag serve: --port {args.port}: expected 1-65535", file=sys.stderr)
            return 2
        server = dataclasses.replace(server, port=args.port)
    settings = dataclasses.replace(settings, server=server)
    configure_logging(args.log_level)
    # in its own thread while the services and HTTP start: the worker's, or the recipe tools'
    start_warmup(recipe_units if args.no_worker else default_units)
    return asyncio.run(
        serve(settings, worker=not args.no_worker, demo=args.demo, log_level=args.log_level)
    )


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


async def serve(
    settings: Settings, *, worker: bool = True, demo: bool = False, log_level: str = "info"
) -> int:
    """Run services (if embedded), worker and HTTP server until a signal; return the exit code."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stack: EmbeddedStack | None = None
    http: _Server | None = None
    http_task: asyncio.Task[None] | None = None
    arq_worker = None
    worker_task: asyncio.Task[None] | None = None
    code = 0
    try:
        if settings.services.embedded:
            stack = EmbeddedStack(settings.storage.services_dir)
            print(f"starting embedded PostgreSQL + Redis in {stack.data_dir}", flush=True)
            urls = await asyncio.to_thread(stack.up)
            settings = with_urls(settings, urls.database_url, urls.redis_url)
        if stop.is_set():
            return 0
        app = create_app(settings, embedded_services=stack is not None)
        http = _Server(
            uvicorn.Config(
                app,
                host=settings.server.host,
                port=settings.server.port,
                log_level=log_level.lower(),
                lifespan="on",
            )
        )
        http_task = asyncio.create_task(_serve_http(http), name="http")
        while not http.started and not http_task.done() and not stop.is_set():
            await asyncio.sleep(0.05)
        if http_task.done():
            # startup failed (port in use, database unreachable, ...); uvicorn logged why
            exc = None if http_task.cancelled() else http_task.exception()
            why = exc or "application startup failed (see the log above)"
            print(f"artdag serve: the HTTP server failed to start: {why}", file=sys.stderr)
            return 1
        if stop.is_set():
            return 0
        if worker:
            arq_worker = create_worker(settings, handle_signals=False)
            worker_task = asyncio.create_task(arq_worker.main(), name="arq-worker")
            arq_worker.main_task = worker_task
        host = settings.server.host
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        print(f"artdag L1 serving on http://{shown}:{settings.server.port}/", flush=True)
        if demo:
            start_demo = _demo_hook()
            if start_demo is None:
                log.warning("--demo: no streamer.entry.demo.start_demo available; skipping")
            else:
                try:
                    result = start_demo(provide_resources(app.state))
                    if asyncio.iscoroutine(result):
                        await result
                except Exception:  # the demo is optional: keep serving without it
                    log.exception("--demo: start_demo failed")
        stop_task = asyncio.create_task(stop.wait(), name="stop")
        waiters: list[asyncio.Task[Any]] = [stop_task, http_task]
        if worker_task is not None:
            waiters.append(worker_task)
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop_task and not task.cancelled() and task.exception() is not None:
                log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())
                code = 1
            elif task is not stop_task:
                log.error("%s stopped unexpectedly", task.get_name())
                code = 1
        stop_task.cancel()
    finally:
        print("artdag serve: shutting down", file=sys.stderr, flush=True)
        if http is not None and http_task is not None:
            http.should_exit = True
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(http_task, 30)
        if arq_worker is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(arq_worker.close(), 30)
            if worker_task is not None and not worker_task.done():
                worker_task.cancel()
            if worker_task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await worker_task
        if stack is not None and stack.started:
            # Synchronously, on purpose: nothing else runs any more, and this
            # must finish even if the task is being cancelled.
            stack.down()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return code
