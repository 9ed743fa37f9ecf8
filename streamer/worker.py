"""arq worker wiring: settings for ``arq.Worker`` and a runner.

``worker_settings(settings)`` returns the keyword arguments of
``arq.worker.Worker``. Job ``ctx`` holds ``settings``, ``db`` (asyncpg pool,
made on startup, closed on shutdown), ``redis`` (arq's ``ArqRedis``) and
``stores`` (:class:`streamer.stores.Stores`: local cache, IPFS, S3).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker

from streamer.db import apply_migrations, create_pool
from streamer.jobs import JOB_FUNCTIONS
from streamer.settings import Settings
from streamer.stores import open_stores

__all__ = [
    "HEALTH_CHECK_INTERVAL",
    "JOB_TIMEOUT",
    "MAX_TRIES",
    "QUEUE_NAME",
    "create_worker",
    "health_check_key",
    "run_worker",
    "worker_settings",
]

log = logging.getLogger(__name__)

QUEUE_NAME = "artdag:queue"
JOB_TIMEOUT = 6 * 3600  # a live render may run for hours
MAX_TRIES = 3
HEALTH_CHECK_INTERVAL = 10


def health_check_key(queue_name: str = QUEUE_NAME) -> str:
    """The Redis key where arq writes the worker health line."""
    return f"{queue_name}:health-check"


async def _on_startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    # ctx["redis"] is arq's own pool (an ArqRedis, usable to enqueue follow-ups).
    ctx["db"] = await create_pool(settings.services.database_url, max_size=5)
    await apply_migrations(ctx["db"])
    # storage clients (LocalStore, IPFSStore, S3Store) close with this stack
    ctx["resources"] = contextlib.AsyncExitStack()
    ctx["stores"] = await open_stores(settings, ctx["resources"])


async def _on_shutdown(ctx: dict[str, Any]) -> None:
    resources = ctx.pop("resources", None)
    if resources is not None:
        await resources.aclose()
    db = ctx.pop("db", None)
    if db is not None:
        await db.close()


def worker_settings(
    settings: Settings,
    *,
    queue_name: str = QUEUE_NAME,
    burst: bool = False,
    max_jobs: int = 4,
) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker``.

    Args:
        settings: configuration (its Redis/PostgreSQL URLs are used).
        queue_name: the arq queue to consume.
        burst: stop once the queue is empty.
        max_jobs: concurrent jobs in this worker.
    """
    return {
        "functions": list(JOB_FUNCTIONS),
        "redis_settings": RedisSettings.from_dsn(settings.services.redis_url),
        "queue_name": queue_name,
        "on_startup": _on_startup,
        "on_shutdown": _on_shutdown,
        "ctx": {"settings": settings},
        "job_timeout": JOB_TIMEOUT,
        "max_tries": MAX_TRIES,
        "max_jobs": max_jobs,
        "burst": burst,
        "health_check_interval": HEALTH_CHECK_INTERVAL,
        "keep_result": 3600,
    }


def create_worker(settings: Settings, *, handle_signals: bool = True, **kwargs: Any) -> Worker:
    """Build an ``arq.Worker`` (``await worker.main()`` runs it in the current loop)."""
    return Worker(handle_signals=handle_signals, **worker_settings(settings, **kwargs))


def run_worker(
    settings: Settings,
    burst: bool = False,
    queue: str = QUEUE_NAME,
    concurrency: int = 4,
) -> int:
    """Run a worker in the foreground until SIGINT/SIGTERM (or, with ``burst``, an empty queue).

    Returns:
        The number of failed jobs in burst mode, else 0.
    """
    worker = create_worker(settings, queue_name=queue, burst=burst, max_jobs=concurrency)
    worker.run()
    return worker.jobs_failed if burst else 0
