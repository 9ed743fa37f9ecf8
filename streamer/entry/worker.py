"""arq worker wiring: settings for ``arq.Worker`` and a runner.

``worker_settings(settings)`` returns the keyword arguments of
``arq.worker.Worker``. Job ``ctx`` holds ``settings``, ``db`` (asyncpg pool,
made on startup, closed on shutdown), ``redis`` (arq's ``ArqRedis``) and
``stores`` (:class:`streamer.content.stores.Stores`: local cache, IPFS, S3).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker

from streamer.content.stores import open_stores
from streamer.db.pool import apply_migrations, create_pool
from streamer.jobs.functions import JOB_FUNCTIONS
from streamer.settings import Settings

__all__ = [
    "HEALTH_CHECK_INTERVAL",
    "JOB_TIMEOUT",
    "MAX_TRIES",
    "POLL_DELAY",
    "QUEUE_NAME",
    "MonitoredWorker",
    "create_worker",
    "health_check_key",
    "run_worker",
    "worker_record_prefix",
    "worker_settings",
]

log = logging.getLogger(__name__)

QUEUE_NAME = "artdag:queue"
JOB_TIMEOUT = 6 * 3600  # a live render may run for hours
MAX_TRIES = 3
HEALTH_CHECK_INTERVAL = 10
#: Seconds an idle worker waits between queue polls (arq's default 0.5 s would put up
#: to half a second on every hop of a job chain, e.g. run_recipe -> analyze).
POLL_DELAY = 0.05


def health_check_key(queue_name: str = QUEUE_NAME) -> str:
    """The Redis key where arq writes the worker health line."""
    return f"{queue_name}:health-check"


def worker_record_prefix(queue_name: str = QUEUE_NAME) -> str:
    """Prefix of the per-worker health records (``<prefix><worker id>``, JSON, with a TTL)."""
    return f"{queue_name}:workers:"


class MonitoredWorker(Worker):
    """arq's ``Worker`` that also writes a health record of its own.

    arq keeps one health key per queue, so with several replicas only the last
    writer is visible; each worker here also writes a JSON record under
    ``worker_record_prefix(queue) + worker_id`` at every health check (TTL of
    two intervals) and deletes it on close. ``GET /api/workers`` and
    ``artdag worker status`` read them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host = socket.gethostname()
        # several workers may share a process (tests, serve): the suffix keeps ids apart
        self.worker_id = f"{self.host}:{os.getpid()}:{secrets.token_hex(3)}"
        self.started_at = time.time()

    @property
    def record_key(self) -> str:
        """The Redis key of this worker's health record."""
        return worker_record_prefix(self.queue_name) + self.worker_id

    def health_record(self) -> dict[str, Any]:
        """This worker's state as written to Redis."""
        return {
            "worker_id": self.worker_id,
            "host": self.host,
            "pid": os.getpid(),
            "queue": self.queue_name,
            "started_at": self.started_at,
            "updated_at": time.time(),
            "max_jobs": self.max_jobs,
            "jobs_complete": self.jobs_complete,
            "jobs_failed": self.jobs_failed,
            "jobs_retried": self.jobs_retried,
            "jobs_ongoing": sum(not t.done() for t in self.tasks.values()),
            "running": sorted(job_id for job_id, t in self.tasks.items() if not t.done()),
            "health_check_interval": self.health_check_interval,
        }

    async def record_health(self) -> None:
        """arq's queue health line, then this worker's record (same interval)."""
        last = self._last_health_check
        await super().record_health()
        if self._last_health_check == last:
            return  # interval not over yet: arq wrote nothing either
        ttl_ms = int((2 * self.health_check_interval + 1) * 1000)
        await self.pool.psetex(self.record_key, ttl_ms, json.dumps(self.health_record()).encode())

    async def close(self) -> None:
        """Drop this worker's record so monitors stop listing it, then close as arq does."""
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.delete(self.record_key)
        await super().close()


async def _on_startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    # ctx["redis"] is arq's own pool (an ArqRedis, usable to enqueue follow-ups).
    ctx["db"] = await create_pool(settings.services.database_url, max_size=5)
    await apply_migrations(ctx["db"])
    # storage clients (LocalStore, IPFSStore, S3Store) close with this stack
    ctx["resources"] = contextlib.AsyncExitStack()
    ctx["stores"] = await open_stores(settings, ctx["resources"])
    # partial writes of a crashed process (older than an hour: fresh ones may be live)
    removed = await asyncio.to_thread(ctx["stores"].local.cleanup_tmp)
    if removed:
        log.info("removed %d stale partial file(s) from the cache", removed)


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
        "poll_delay": POLL_DELAY,
        "keep_result": 3600,
    }


def create_worker(
    settings: Settings, *, handle_signals: bool = True, **kwargs: Any
) -> MonitoredWorker:
    """Build an arq worker (``await worker.main()`` runs it in the current loop)."""
    return MonitoredWorker(handle_signals=handle_signals, **worker_settings(settings, **kwargs))


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
