"""A run's job survives Redis: PostgreSQL keeps what was queued, workers queue it again.

arq's queue lives in Redis only; a Redis that keeps nothing on disk forgets it
on a restart. PostgreSQL is the source of truth for runs, so every run job is
queued through :func:`enqueue_run`, which first writes the job (function, job
id, queue, arguments) on the run row (``runs.job``). A worker calls
:func:`requeue_lost_runs` at start-up and whenever it notices that Redis
restarted (:func:`redis_epoch` changed, see :mod:`streamer.entry.worker`): each
run of its queue still ``pending`` is queued again under its own job id. arq
refuses a job id it still knows, so runs whose job survived are left alone and
several workers doing this at once queue each run once.

A job queued again may meet the original one (a worker had just picked it when
Redis went away): the jobs mark the run running with
:func:`streamer.db.runs.claim_run`, which only one of them wins.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.jobs import Job
from redis.asyncio import Redis

from streamer.db import runs as runs_db
from streamer.jobs.wake import enqueue_job
from streamer.resources import Resources

__all__ = ["enqueue_run", "redis_epoch", "requeue_lost_runs"]

log = logging.getLogger(__name__)


async def enqueue_run(
    res: Resources, run_id: str, function: str, job_id: str, **kwargs: Any
) -> Job:
    """Record the run's job on its row, then queue it (``function(run_id, **kwargs)``).

    Once the job is on the row, a worker's :func:`requeue_lost_runs` (at its
    start-up, say) may queue it before this call does; arq then refuses the
    second enqueue of the same job id. That job is this run's own, so it is
    returned as queued: found by ``artdag serve --demo``, whose worker started
    its sweep just as the demo run was recorded, and the demo failed to start.

    Args:
        res: The process's resources.
        run_id: The run (first argument of the job).
        function: The arq function (``render_run``, ``run_recipe``).
        job_id: The job's arq id (one job per run).
        kwargs: The job's keyword arguments (JSON values).

    Returns:
        arq's job: queued now, or already queued under ``job_id``.
    """
    job = {"function": function, "job_id": job_id, "queue": res.keys.queue, "kwargs": kwargs}
    await runs_db.update_run(res.db, run_id, job=job)
    queued = await enqueue_job(res.arq, res.keys, function, run_id, _job_id=job_id, **kwargs)
    if queued is None:
        log.info("run %s: its job %s was already queued (a worker's sweep)", run_id, job_id)
        return Job(job_id, res.arq, _queue_name=res.keys.queue)
    return queued


async def redis_epoch(redis: Redis) -> str:
    """The Redis server's ``run_id``: a new one after every restart."""
    info = await redis.info("server")
    return str(info.get("run_id", ""))


async def requeue_lost_runs(res: Resources) -> list[str]:
    """Queue again the pending runs of ``res.keys.queue`` whose job Redis forgot.

    Returns:
        The ids of the runs queued again.
    """
    requeued: list[str] = []
    for run in await runs_db.queued_runs(res.db, res.keys.queue):
        job = run["job"]
        queued = await enqueue_job(
            res.arq,
            res.keys,
            str(job["function"]),
            run["id"],
            _job_id=str(job["job_id"]),
            **dict(job.get("kwargs") or {}),
        )
        if queued is not None:
            requeued.append(run["id"])
    if requeued:
        log.warning(
            "queued again %d run(s) whose job Redis no longer had: %s",
            len(requeued),
            ", ".join(requeued),
        )
    return requeued
