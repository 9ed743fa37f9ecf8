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
import dataclasses
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamer.settings import Settings

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``serve``."""
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP server (and a worker, and the embedded services if needed)",
        description="Serve the API and web UI. With REDIS_URL/DATABASE_URL unset the embedded "
        "PostgreSQL + Redis are started under $ARTDAG_DATA_DIR/services, and with IPFS_API "
        "unset an offline IPFS node (Kubo, else the project's js-ipfs). Prints a one-time "
        "sign-in link (not with L2_SERVER).",
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
    parser.add_argument(
        "--no-ipfs",
        action="store_true",
        help="do not start an offline IPFS node when IPFS_API is unset",
    )
    parser.add_argument("--log-level", default="info", help="log level (default info)")
    parser.set_defaults(func=run)


def served_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """The settings with ``--host``/``--port`` applied.

    Without ``L1_PUBLIC_URL`` the public URL follows the port served
    (``http://localhost:<port>``): the actor's id, WebFinger and redirects then
    name this server, not the specification's compose default (port 8100).

    Raises:
        ValueError: ``port`` is outside 1-65535.
    """
    server = settings.server
    if host is not None:
        server = dataclasses.replace(server, host=host)
    if port is not None:
        if not 1 <= port <= 65535:
            raise ValueError(f"--port {port}: expected 1-65535")
        server = dataclasses.replace(server, port=port)
    if not server.public_url_set:
        server = dataclasses.replace(server, public_url=f"http://localhost:{server.port}")
    return dataclasses.replace(settings, server=server)


def run(args: argparse.Namespace) -> int:
    """Execute ``serve`` (:mod:`streamer.entry.commands._serving` runs it)."""
    from streamer.entry.commands._common import configure_logging
    from streamer.entry.commands._serving import serve
    from streamer.settings import Settings

    settings = Settings.from_env()  # a SettingsError is reported by the CLI's main
    try:
        settings = served_settings(settings, args.host, args.port)
    except ValueError as exc:
        print(f"artdag serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_level)
    from streamer.jobs.warmup import default_units, recipe_units, start_warmup

    # in its own thread while the services and HTTP start: the worker's, or the recipe tools'
    start_warmup(recipe_units if args.no_worker else default_units)
    return asyncio.run(
        serve(
            settings,
            worker=not args.no_worker,
            demo=args.demo,
            log_level=args.log_level,
            ipfs=not args.no_ipfs,
        )
    )
