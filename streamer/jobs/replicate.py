"""Copies of completed runs on every enabled storage provider, one arq job per provider.

When a run completes, :func:`replicate_after_completion` (called by the jobs that
complete runs) adds a ``pending`` row of ``run_replicas`` for each enabled
provider and queues ``replicate_run(run_id, provider_id)`` for each: providers
never wait for one another, and the run is ``completed`` whatever they do.

Each attempt of the job counts itself on the row (``copying``), opens the
provider's backend (:func:`streamer.content.provider_config.open_backend`) and
copies the run's objects (:mod:`streamer.content.replication`: skipping those
the provider has), writing ``objects_done``/``objects_total`` as it goes:

- all there: ``done``;
- a failure (the provider down, refusing, timing out; the source unreadable):
  the error is recorded, the row is ``pending`` again and arq's
  :class:`~arq.worker.Retry` runs the job after
  ``ARTDAG_REPLICA_RETRY_SECONDS * 2**(attempt-1)`` (at most an hour), until
  ``ARTDAG_REPLICA_ATTEMPTS`` attempts were made; then ``failed``, with why;
- the provider disabled meanwhile, or its config refused now (an endpoint that
  resolves to a refused address, :mod:`streamer.netguard`; checked before any
  connection): ``failed`` at once (removed: its rows go with it).

A job Redis lost (a restart) is queued again by :func:`requeue_lost_replicas`,
which the worker calls with :func:`streamer.jobs.requeue.requeue_lost_runs`.

Deleting a run (:func:`drop_copies_of`, before its row goes) queues
``drop_run_copy(run_id, provider_id)`` for each provider that had a copy: on
a provider with run folders (S3) the run's folder (``<prefix>hls/<run>/``)
is removed, after any copy job of the pair still running, retried with the
same backoff while the provider is down. Objects kept by CID (the output on
every provider; segments and playlist on IPFS and local folders) stay: the
same content may be another run's output or segment, or a media item, and
nothing counts who else refers to a CID; remove them on the provider itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import func
from arq.constants import in_progress_key_prefix
from arq.worker import Retry
from redis.exceptions import RedisError

from cache.providers import RunFolders
from streamer.content.provider_config import open_backend, validate_config
from streamer.content.providers import allowed_roots
from streamer.content.replication import copy_objects, run_objects
from streamer.db import replicas as replicas_db
from streamer.db import runs as runs_db
from streamer.db import storage as storage_db
from streamer.errors import Denied, InvalidValue
from streamer.jobs.federation import retry_delay
from streamer.jobs.wake import enqueue_job
from streamer.resources import Resources, resources_of
from streamer.settings import MAX_REPLICA_ATTEMPTS

__all__ = [
    "DROP_JOB",
    "REPLICATE_FUNCTIONS",
    "REPLICATE_JOB",
    "drop_copies_of",
    "drop_run_copy",
    "enqueue_replication",
    "replicate_after_completion",
    "replicate_run",
    "requeue_lost_replicas",
]

log = logging.getLogger(__name__)

REPLICATE_JOB = "replicate_run"
DROP_JOB = "drop_run_copy"
#: Seconds one attempt may take (a long run's segments to a slow provider).
_JOB_TIMEOUT = 3600


async def _enqueue(res: Resources, run_id: str, provider_id: int) -> bool:
    job = await enqueue_job(
        res.arq,
        res.keys,
        REPLICATE_JOB,
        run_id,
        provider_id,
        _job_id=res.keys.replicate_job_id(run_id, provider_id),
    )
    return job is not None


async def enqueue_replication(res: Resources, run_id: str) -> list[int]:
    """Add a ``pending`` copy of ``run_id`` per enabled provider and queue its job.

    Returns:
        The ids of the providers a copy was added for (none twice for one run).
    """
    providers = await storage_db.list_storage_providers(res.db)
    enabled = [int(p["id"]) for p in providers if p["enabled"]]
    if not enabled:
        return []
    added = await replicas_db.add_replicas(res.db, run_id, enabled)
    for provider_id in added:
        await _enqueue(res, run_id, provider_id)
    return added


async def replicate_after_completion(res: Resources, run_id: str) -> None:
    """The completion hook: queue the run's copies; never raises (the run is completed).

    A copy that could not be queued (Redis away) stays ``pending`` in PostgreSQL and
    is queued again by :func:`requeue_lost_replicas`.
    """
    try:
        added = await enqueue_replication(res, run_id)
    except Exception as exc:
        log.warning("run %s: copies to the storage providers not queued: %s", run_id, exc)
        return
    if added:
        log.info("run %s: copying to %d storage provider(s)", run_id, len(added))


async def requeue_lost_replicas(res: Resources) -> int:
    """Queue again the unsettled copies whose job Redis no longer has; returns how many."""
    count = 0
    for row in await replicas_db.unsettled_replicas(res.db, res.keys.queue):
        count += await _enqueue(res, str(row["run_id"]), int(row["provider_id"]))
    if count:
        log.warning("queued again %d run copies whose job Redis no longer had", count)
    return count


async def _refusal(res: Resources, provider: dict[str, Any]) -> str | None:
    """Why the provider's config may not be used now (checked again before connecting:
    a name may resolve elsewhere than when it was added), or None."""
    try:
        await asyncio.to_thread(
            validate_config,
            provider["type"],
            dict(provider["config"] or {}),
            allowed_roots=allowed_roots(res),
            allow_private=res.settings.network.allow_private_endpoints,
        )
    except (InvalidValue, Denied) as exc:
        return f"provider {provider['name']!r} refused: {exc.detail}"
    return None


async def _attempt(res: Resources, run: dict[str, Any], provider: dict[str, Any]) -> int:
    run_id, provider_id = str(run["id"]), int(provider["id"])

    async def progress(done: int, total: int) -> None:
        await replicas_db.set_progress(res.db, run_id, provider_id, done, total)

    objects = await run_objects(res, run)
    async with open_backend(provider["type"], provider["name"], provider["config"]) as backend:
        return await copy_objects(backend, objects, progress)


async def replicate_run(ctx: dict[str, Any], run_id: str, provider_id: int) -> dict[str, Any]:
    """Copy run ``run_id`` to provider ``provider_id`` (see the module docstring).

    Returns:
        ``{"run_id", "provider_id", "state", ...}``.

    Raises:
        Retry: the attempt failed and another is due.
    """
    res = resources_of(ctx)
    answer: dict[str, Any] = {"run_id": run_id, "provider_id": provider_id}
    row = await replicas_db.begin_attempt(res.db, run_id, provider_id)
    if row is None:
        return {**answer, "state": "settled"}
    run = await runs_db.get_run(res.db, run_id)
    provider = await storage_db.get_storage_provider(res.db, provider_id)
    if run is None or provider is None:  # deleted meanwhile: the row went with it
        return {**answer, "state": "gone"}
    why = (
        f"provider {provider['name']!r} was disabled before the copy finished"
        if not provider["enabled"]
        else await _refusal(res, provider)
    )
    if why is not None:  # no attempt can help: nothing is sent
        await replicas_db.mark_failed(res.db, run_id, provider_id, why)
        log.warning("run %s: copy to %s failed: %s", run_id, provider["name"], why)
        return {**answer, "state": "failed", "error": why}
    attempt, limit = int(row["attempts"]), res.settings.replication.attempts
    try:
        uploaded = await _attempt(res, run, provider)
    except Exception as exc:  # the provider down or refusing, the source unreadable...
        why = f"{type(exc).__name__}: {exc}"
        if attempt >= limit:
            why = f"{why} (gave up after {attempt} attempts)"
            await replicas_db.mark_failed(res.db, run_id, provider_id, why)
            log.warning("run %s: copy to %s failed: %s", run_id, provider["name"], why)
            return {**answer, "state": "failed", "error": why}
        delay = retry_delay(res.settings.replication.retry_seconds, attempt)
        await replicas_db.mark_retry(
            res.db, run_id, provider_id, f"attempt {attempt}/{limit}: {why}"
        )
        log.info(
            "run %s: copy to %s, attempt %d failed (%s); retry in %.1f s",
            run_id,
            provider["name"],
            attempt,
            why,
            delay,
        )
        raise Retry(defer=delay) from None
    await replicas_db.mark_done(res.db, run_id, provider_id)
    log.info("run %s: copied to %s (%d object(s) uploaded)", run_id, provider["name"], uploaded)
    return {**answer, "state": "done", "uploaded": uploaded}


async def drop_copies_of(res: Resources, run_id: str) -> list[int]:
    """Queue the removal of ``run_id``'s copies (call before deleting its row).

    Returns:
        The providers a removal was queued for.
    """
    rows = await replicas_db.list_replicas(res.db, run_id)
    queued = []
    for row in rows:
        provider_id = int(row["provider_id"])
        try:
            job = await enqueue_job(
                res.arq,
                res.keys,
                DROP_JOB,
                run_id,
                provider_id,
                _job_id=f"drop:{run_id}:{provider_id}",
            )
        except (RedisError, OSError) as exc:  # the run is deleted all the same
            log.warning(
                "run %s: removal of its copy on provider %d not queued: %s",
                run_id,
                provider_id,
                exc,
            )
            continue
        if job is not None:
            queued.append(provider_id)
    return queued


async def drop_run_copy(ctx: dict[str, Any], run_id: str, provider_id: int) -> dict[str, Any]:
    """Remove a deleted run's folder from provider ``provider_id`` (see the module doc).

    Returns:
        ``{"run_id", "provider_id", "removed"}`` (objects removed; None: the provider
        keeps objects by CID only, or is gone).

    Raises:
        Retry: the provider failed and another attempt is due.
    """
    res = resources_of(ctx)
    answer: dict[str, Any] = {"run_id": run_id, "provider_id": provider_id, "removed": None}
    attempt = int(ctx.get("job_try") or 1)
    delay = retry_delay(res.settings.replication.retry_seconds, attempt)
    if await res.redis.exists(
        in_progress_key_prefix + res.keys.replicate_job_id(run_id, provider_id)
    ):
        raise Retry(defer=delay)  # a copy still uploading: remove after it
    provider = await storage_db.get_storage_provider(res.db, provider_id)
    if provider is None or await _refusal(res, provider) is not None:
        return answer
    try:
        async with open_backend(provider["type"], provider["name"], provider["config"]) as backend:
            if isinstance(backend, RunFolders):
                answer["removed"] = await backend.delete_run_files(run_id)
    except Exception as exc:  # the provider down or refusing
        if attempt >= res.settings.replication.attempts:
            log.warning("run %s: copy on %s not removed: %s", run_id, provider["name"], exc)
            return {**answer, "error": f"{type(exc).__name__}: {exc}"}
        raise Retry(defer=delay) from None
    return answer


#: arq's own try limit stays above ours: the job decides when to give up. No result is
#: kept, so a copy's job id may be queued again (requeue_lost_replicas) once it ended.
REPLICATE_FUNCTIONS = [
    func(
        replicate_run,
        name=REPLICATE_JOB,
        max_tries=MAX_REPLICA_ATTEMPTS + 2,
        keep_result=0,
        timeout=_JOB_TIMEOUT,
    ),
    func(drop_run_copy, name=DROP_JOB, max_tries=MAX_REPLICA_ATTEMPTS + 2, keep_result=0),
]
