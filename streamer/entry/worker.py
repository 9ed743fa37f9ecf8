"""arq worker wiring (composition root): settings for ``arq.Worker`` and a runner.

``worker_settings(settings)`` returns the keyword arguments of
``arq.worker.Worker``. The job ``ctx`` holds the worker's one
:class:`streamer.resources.Resources` (``ctx["resources"]``, read with
:func:`streamer.resources.resources_of`), opened on startup with
:func:`streamer.resources.open_resources` and closed on shutdown, next to
arq's own entries (``redis``, ``job_id``, ``job_try``).

Start-up is fast on purpose: the process warm-up (:mod:`streamer.jobs.warmup`:
imports, numba kernels, codecs, analysis; ``artdag worker``, and ``artdag
serve`` before its services) runs in a thread and the worker polls for jobs
meanwhile (``worker ready`` is logged when it ends). Each worker also listens on its queue's wake channel
(:mod:`streamer.jobs.wake`), so a job queued with
:func:`streamer.jobs.wake.enqueue_job` starts at once; ``poll_delay`` is only
the fallback for anything else (deferred jobs, retries, a lost wake-up).

Redis going away does not end the worker (arq's own loop would exit on the
first connection error): polls fail, are logged, and are tried again with
capped backoff (:data:`RECONNECT_MIN`..:data:`RECONNECT_MAX` s) while running
jobs go on. When Redis answers again after a restart (its ``run_id`` changed),
the worker queues again the pending runs Redis forgot
(:func:`streamer.jobs.requeue.requeue_lost_runs`); it does so at start-up too.
Every :data:`OWNER_SWEEP_SECONDS` it also gives each running chunked run of its
queue whose owner chain died a new one
(:func:`streamer.jobs.chunk_supervisor.resume_owners`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import socket
import time
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streamer.jobs.chunk_supervisor import resume_owners
from streamer.jobs.functions import JOB_FUNCTIONS
from streamer.jobs.replicate import requeue_lost_replicas
from streamer.jobs.requeue import redis_epoch, requeue_lost_runs
from streamer.jobs.wake import QueueWaker
from streamer.jobs.warmup import WARMUP_KEY, current_warmup, start_warmup
from streamer.keys import RedisKeys
from streamer.resources import RESOURCES_KEY, Resources, open_resources
from streamer.settings import Settings

__all__ = [
    "EPOCH_CHECK_SECONDS",
    "HEALTH_CHECK_INTERVAL",
    "JOB_TIMEOUT",
    "MAX_TRIES",
    "OWNER_SWEEP_SECONDS",
    "POLL_DELAY",
    "RECONNECT_MAX",
    "RECONNECT_MIN",
    "MonitoredWorker",
    "create_worker",
    "run_worker",
    "worker_settings",
]

log = logging.getLogger(__name__)

_STACK_KEY = "resources_stack"  # what closes the resources on shutdown
_WARM_UP_FLAG = "warm_up"  # ctx: whether this worker warms the process at start-up

JOB_TIMEOUT = 6 * 3600  # a live render may run for hours
MAX_TRIES = 3
HEALTH_CHECK_INTERVAL = 10
#: Seconds an idle worker waits between queue polls: only the fallback, since every
#: enqueue of artdag wakes the workers at once (:mod:`streamer.jobs.wake`).
POLL_DELAY = 0.5
#: Seconds between polls while Redis does not answer: doubling from the first to the last.
RECONNECT_MIN, RECONNECT_MAX = 0.5, 10.0
#: Seconds between two sweeps for chunked runs whose owner chain died
#: (:func:`streamer.jobs.chunk_supervisor.resume_owners`: one PostgreSQL query).
OWNER_SWEEP_SECONDS = 2.0
#: Seconds between two looks at Redis's ``run_id`` (a busy worker may not poll the
#: queue at all, so a restart can pass without any error here).
EPOCH_CHECK_SECONDS = 2.0

# what a Redis that went away raises (redis-py wraps most socket errors, not all)
_REDIS_DOWN: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)


class MonitoredWorker(Worker):
    """arq's ``Worker`` that also writes a health record of its own.

    arq keeps one health key per queue, so with several replicas only the last
    writer is visible; each worker here also writes a JSON record under
    ``RedisKeys(queue=...).worker_records + worker_id`` at every health check (TTL of
    two intervals) and deletes it on close. ``GET /api/workers`` and
    ``artdag worker status`` read them.

    Once started up it listens on the queue's wake channel (``waker``, a
    :class:`streamer.jobs.wake.QueueWaker`) and polls at once on a wake-up;
    polls never overlap.

    A poll that fails because Redis is unreachable is logged and tried again
    after a backoff instead of ending the worker; once Redis answers with a new
    ``run_id`` (it restarted), the pending runs it forgot are queued again.

    Attributes:
        redis_outages: Times Redis stopped answering the poll loop.
        requeued: Runs this worker queued again (their ids, in order).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host = socket.gethostname()
        # several workers may share a process (tests, serve): the suffix keeps ids apart
        self.worker_id = f"{self.host}:{os.getpid()}:{secrets.token_hex(3)}"
        self.started_at = time.time()
        self.waker: QueueWaker | None = None
        self._poll_lock = asyncio.Lock()
        self.redis_outages = 0
        self.requeued: list[str] = []
        self._down_since: float | None = None
        self._reconnect_delay = RECONNECT_MIN
        self._redis_epoch: str | None = None
        self._epoch_checked = 0.0
        self._owners_swept = 0.0
        startup = self.on_startup

        async def on_startup(ctx: dict[str, Any]) -> None:
            if startup is not None:
                await startup(ctx)
            # arq's pool exists now and the poll loop starts next
            channel = RedisKeys(queue=self.queue_name).queue_wake
            self.waker = QueueWaker(self.pool, channel, self._locked_poll)
            self.waker.start()
            await self._check_redis_epoch()  # runs an earlier Redis forgot

        self.on_startup = on_startup

    async def main(self) -> None:
        """arq's main loop; the wake-up listener stops with it."""
        try:
            await super().main()
        finally:
            await self._stop_waker()

    async def _locked_poll(self) -> None:
        # the poll loop and the waker both poll: one at a time
        async with self._poll_lock:
            await super()._poll_iteration()

    async def _poll_iteration(self) -> None:
        """arq's poll, kept alive through a Redis outage (see the class docstring)."""
        try:
            await self._locked_poll()
            if self._down_since is not None:
                log.warning(
                    "Redis answers again after %.1f s; worker %s polls as before",
                    time.monotonic() - self._down_since,
                    self.worker_id,
                )
                self._down_since, self._reconnect_delay = None, RECONNECT_MIN
                await self._check_redis_epoch()
            elif time.monotonic() - self._epoch_checked >= EPOCH_CHECK_SECONDS:
                await self._check_redis_epoch()
            if time.monotonic() - self._owners_swept >= OWNER_SWEEP_SECONDS:
                await self._sweep_owners()
        except _REDIS_DOWN as exc:
            await self._redis_unreachable(exc)

    async def _redis_unreachable(self, exc: BaseException) -> None:
        self._release_leaked_slots()
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.redis_outages += 1
            log.warning(
                "Redis unreachable (%s: %s); worker %s keeps its jobs running and reconnects",
                type(exc).__name__,
                exc,
                self.worker_id,
            )
        else:
            log.info("Redis still unreachable (%s); next try in %.1f s", exc, self._reconnect_delay)
        await asyncio.sleep(self._reconnect_delay)
        self._reconnect_delay = min(self._reconnect_delay * 2, RECONNECT_MAX)

    def _release_leaked_slots(self) -> None:
        # arq counts a job before its start succeeds in Redis; a start cut short
        # by the outage would hold its slot for ever. Counting only what is in
        # ``tasks`` (finished ones included) never releases a slot twice.
        leaked = self.job_counter - len(self.tasks)
        for _ in range(max(0, leaked)):
            self.job_counter -= 1
            self.sem.release()

    async def _check_redis_epoch(self) -> None:
        """Queue again the runs Redis forgot when it is a new Redis (a restart, or start-up)."""
        epoch = await redis_epoch(self.pool)
        self._epoch_checked = time.monotonic()
        if epoch == self._redis_epoch:
            return
        if self._redis_epoch is not None:
            log.warning("Redis restarted (new run_id): queueing again the runs it forgot")
        res = self.ctx.get(RESOURCES_KEY)
        if isinstance(res, Resources):
            try:
                self.requeued += await requeue_lost_runs(res)
                await requeue_lost_replicas(res)
            except (RedisConnectionError, RedisTimeoutError):
                raise
            except Exception as exc:  # PostgreSQL away too: try again at the next check
                log.warning("queueing lost runs again failed (%s); trying again later", exc)
                return
        self._redis_epoch = epoch

    async def _sweep_owners(self) -> None:
        """Give running chunked runs whose owner chain died (with a worker, mid-look) a new one."""
        self._owners_swept = time.monotonic()
        res = self.ctx.get(RESOURCES_KEY)
        if not isinstance(res, Resources):
            return
        try:
            await resume_owners(res)
        except (RedisConnectionError, RedisTimeoutError):
            raise
        except Exception as exc:  # PostgreSQL away: the next sweep tries again
            log.debug("owner sweep failed: %s", exc)

    async def _stop_waker(self) -> None:
        waker, self.waker = self.waker, None
        if waker is not None:
            await waker.stop()

    @property
    def record_key(self) -> str:
        """The Redis key of this worker's health record."""
        return RedisKeys(queue=self.queue_name).worker_records + self.worker_id

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
        """Drop this worker's record so monitors stop listing it, then close as arq does.

        arq cancels the running jobs and gathers them without ``return_exceptions``:
        a job cancelled before its own ``try`` (still reading its record) ends
        cancelled, and that CancelledError would abort the close half-way, leaving
        the pool and resources open. So the jobs are cancelled and awaited here
        first, whatever they end with, and arq's close finds none left.
        """
        await self._stop_waker()
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.delete(self.record_key)
            running = [task for task in self.tasks.values() if not task.done()]
            if running:
                log.info("worker closing: cancelling %d running job(s)", len(running))
            for task in running:
                task.cancel()
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            for job_id in [job_id for job_id, task in self.tasks.items() if task.done()]:
                del self.tasks[job_id]
        await super().close()


async def _on_startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    # first, in its own thread: the worker polls (and runs jobs) while it warms;
    # a warm-up started before (artdag serve) is joined, so render jobs can pause it
    warmup = start_warmup() if ctx.get(_WARM_UP_FLAG) else current_warmup()
    if warmup is not None:
        ctx[WARMUP_KEY] = warmup
        if warmup.ready:
            log.info("worker ready: the process is warm already")
    # the worker's one Resources: arq's own pool (ctx["redis"]) serves as Redis and arq
    stack = contextlib.AsyncExitStack()
    ctx[_STACK_KEY] = stack
    ctx[RESOURCES_KEY] = await stack.enter_async_context(
        open_resources(settings, arq=ctx.get("redis"), db_max_size=5)
    )


async def _on_shutdown(ctx: dict[str, Any]) -> None:
    ctx.pop(RESOURCES_KEY, None)
    stack = ctx.pop(_STACK_KEY, None)
    if stack is not None:
        await stack.aclose()


def worker_settings(
    settings: Settings,
    *,
    queue_name: str | None = None,
    burst: bool = False,
    max_jobs: int = 4,
    warm_up: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker``.

    Args:
        settings: configuration (its Redis/PostgreSQL URLs are used).
        queue_name: the arq queue to consume (default ``settings.services.queue_name``);
            the jobs' Redis keys follow it.
        burst: stop once the queue is empty.
        max_jobs: concurrent jobs in this worker.
        warm_up: warm the process at start-up (:mod:`streamer.jobs.warmup`), as
            ``artdag worker`` does; a warm-up already running is used either way.
    """
    if queue_name is not None and queue_name != settings.services.queue_name:
        services = dataclasses.replace(settings.services, queue_name=queue_name)
        settings = dataclasses.replace(settings, services=services)
    return {
        "functions": list(JOB_FUNCTIONS),
        "redis_settings": RedisSettings.from_dsn(settings.services.redis_url),
        "queue_name": settings.services.queue_name,
        "on_startup": _on_startup,
        "on_shutdown": _on_shutdown,
        "ctx": {"settings": settings, _WARM_UP_FLAG: warm_up},
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
    queue: str | None = None,
    concurrency: int = 4,
) -> int:
    """Run a worker in the foreground until SIGINT/SIGTERM (or, with ``burst``, an empty queue).

    Unless ``burst``, the process warms up at start-up (:mod:`streamer.jobs.warmup`).

    Returns:
        The number of failed jobs in burst mode, else 0.
    """
    worker = create_worker(
        settings, queue_name=queue, burst=burst, max_jobs=concurrency, warm_up=not burst
    )
    worker.run()
    return worker.jobs_failed if burst else 0
