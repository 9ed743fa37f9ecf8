"""Waiting for a step job that Redis may lose: ``run_recipe`` outlives a Redis restart.

``run_recipe`` queues one ``execute_step`` job per step and awaits their results
in Redis. A Redis restart without persistence forgets both the queued jobs and
the results (arq answers ``ResultNotFound``). :func:`step_result` then finds
the step's fate elsewhere, never executing a step twice:

1. its result, once the job that still runs (its worker lived on) writes it
   into the new Redis, or its ``step_cache`` row in PostgreSQL;
2. while its claim is held, its owner is at work: wait (the owner re-takes a
   claim Redis forgot at its next renewal, :mod:`streamer.jobs.claims`);
3. neither result nor claim for ``grace`` seconds (longer than a renewal
   period): nobody has it, so it is queued again.

While Redis does not answer at all, it waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from arq.jobs import Job, ResultNotFound
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streamer.db import content as content_db
from streamer.jobs.job_env import JobEnv
from streamer.jobs.wake import enqueue_job

__all__ = ["POLL_SECONDS", "queue_step", "step_result"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


async def queue_step(env: JobEnv, plan_id: str, step_id: str, plan_cid: str | None) -> Job | None:
    """Queue ``execute_step`` for one step of a stored plan."""
    return await enqueue_job(env.arq, env.keys, "execute_step", plan_id, step_id, plan_cid=plan_cid)


async def step_result(
    env: JobEnv,
    job: Job,
    cache_id: str,
    requeue: Callable[[], Awaitable[Job | None]],
    *,
    timeout: float,
    grace: float,
) -> dict[str, Any]:
    """The result of the ``execute_step`` job ``job`` (of the step ``cache_id``).

    Args:
        env: The waiting job's environment.
        job: The queued ``execute_step`` job.
        cache_id: The step's cache id (its claim and ``step_cache`` row).
        requeue: Queues the step again; returns the new job.
        timeout: Longest wait in all.
        grace: Seconds without result or claim before a lost step is queued again.

    Raises:
        TimeoutError: no result within ``timeout``.
        Exception: what the job raised.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            result: dict[str, Any] = await job.result(
                timeout=max(0.1, deadline - loop.time()), poll_delay=0.1
            )
            return result
        except ResultNotFound:
            log.warning("step %s: Redis lost its job %s; looking for it", cache_id[:12], job.job_id)
        except _REDIS_DOWN:
            await asyncio.sleep(POLL_SECONDS * 5)
            if loop.time() >= deadline:
                raise TimeoutError(f"step {cache_id[:12]}: no result in {timeout} s") from None
            continue
        found = await _lost_step(env, job, cache_id, grace, deadline)
        if found is not None:
            return found
        again = await requeue()
        if again is None:  # a job with its id exists again: wait for that one
            continue
        log.warning("step %s: nobody has it; queued again as %s", cache_id[:12], again.job_id)
        job = again


async def _lost_step(
    env: JobEnv, job: Job, cache_id: str, grace: float, deadline: float
) -> dict[str, Any] | None:
    """The lost step's result, or None once nobody has held its claim for ``grace`` s."""
    loop = asyncio.get_running_loop()
    unclaimed_since = loop.time()
    while True:
        if loop.time() >= deadline:
            raise TimeoutError(f"step {cache_id[:12]}: no result before the deadline")
        try:
            info = await job.result_info()
            if info is not None:
                if not info.success:
                    raise info.result
                found: dict[str, Any] = info.result
                return found
            cid = await content_db.get_step_cache(env.db, cache_id)
            if cid is not None:
                return {"cache_id": cache_id, "cid": cid, "status": "recovered"}
            if await env.redis.exists(env.keys.claim(cache_id)):
                unclaimed_since = loop.time()  # its owner is at work
            elif loop.time() - unclaimed_since >= grace:
                return None
        except _REDIS_DOWN:
            unclaimed_since = loop.time()  # cannot tell: wait for Redis
        await asyncio.sleep(POLL_SECONDS)
