"""The owner of a chunked live run: a chain of short ``own_chunked`` looks, no held slot.

The owner is not a job that waits for the run's chunks (it would hold one arq
slot for the whole run, so a worker with one slot would wait for ever). It
is a chain of short jobs, each queued by the one before with arq's
``_defer_by``: a look renews the owner claim (its token travels along the
chain), lists what is ready (:func:`~streamer.jobs.chunk_listing.list_ready`,
paced when the run is), completes, cancels or fails the run, re-enqueues
abandoned chunks (:func:`~streamer.jobs.chunk_listing.supervise`) and
queues the next look. Waiting between looks holds no worker slot.

A chain ends when the run does, or when its token no longer holds the claim;
a look that fails (PostgreSQL away) queues the next one all the same.
A chain that died with its worker (mid-look) is replaced by
:func:`ensure_owner`, which every finished chunk job calls, and by
:func:`resume_owners`, which every worker calls every few seconds
(:data:`streamer.entry.worker.OWNER_SWEEP_SECONDS`): each starts a new chain
once the dead one's claim lapsed and nobody holds it (``SET NX``: one new chain).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from arq import func

from streamer.db import runs as runs_db
from streamer.db.outage import retry_db
from streamer.jobs.chunk_listing import close_listing, complete, list_ready, supervise
from streamer.jobs.chunk_state import CHUNK_CLAIM_TTL, load_meta
from streamer.jobs.claims import claim, new_token, release, renew
from streamer.jobs.wake import enqueue_job
from streamer.resources import Resources, resources_of
from streamer.runs.events import StatusEvent, cancel_requested, publish_event
from streamer.runs.status import TERMINAL_STATUSES, RunStatus

__all__ = [
    "OWNER_FUNCTIONS",
    "OWNER_POLL_SECONDS",
    "RETRY_LOOK_SECONDS",
    "ensure_owner",
    "fail_run",
    "own_chunked",
    "resume_owners",
    "start_owner",
]

log = logging.getLogger(__name__)

OWNER_POLL_SECONDS = 0.5
"""Seconds between two looks of a run's owner (a paced run's next due segment may be sooner)."""
_MIN_DEFER = 0.05
RETRY_LOOK_SECONDS = 2.0
"""Seconds before the next look after one that failed (a database outage)."""


async def _next_look(res: Resources, run_id: str, token: str, after: float) -> None:
    await enqueue_job(
        res.arq,
        res.keys,
        "own_chunked",
        run_id,
        token,
        _job_id=f"own:{run_id}:{uuid.uuid4().hex[:12]}",
        _defer_by=after,
    )


async def start_owner(res: Resources, run_id: str) -> bool:
    """Take the owner claim when nobody holds it and queue the chain's first look.

    Returns:
        Whether this call started a chain.
    """
    token = new_token()
    if not await claim(res.redis, res.keys.chunk_owner(run_id), token, CHUNK_CLAIM_TTL):
        return False
    await _next_look(res, run_id, token, 0.0)
    return True


async def ensure_owner(res: Resources, run_id: str) -> None:
    """Start an owner chain for a chunked run that has none (its claim lapsed)."""
    if await start_owner(res, run_id):
        log.info("run %s: no owner; a new owner chain starts", run_id)


async def _finish(res: Resources, run_id: str, status: RunStatus, **fields: Any) -> dict[str, Any]:
    await retry_db(
        lambda: runs_db.update_run(res.db, run_id, status=status, **fields),
        f"run {run_id} final status {status}",
    )
    try:
        await publish_event(
            res.redis, res.keys, run_id, StatusEvent(status, error=fields.get("error"))
        )
    except Exception as exc:  # live subscribers are optional
        log.warning("run %s: status event not published: %s", run_id, exc)
    return {"run_id": run_id, "status": str(status), **fields}


async def fail_run(res: Resources, run_id: str, chunk: int) -> dict[str, Any]:
    """Chunk ``chunk`` ran out of tries: end the playlist after what is listed, fail the run."""
    await close_listing(res, run_id)
    error = f"chunk {chunk} failed on every attempt"
    return await _finish(res, run_id, RunStatus.FAILED, error=error)


async def _look(res: Resources, run_id: str) -> tuple[dict[str, Any], float | None]:
    """One look; returns the job result and the delay of the next look (None: the chain ends)."""
    listing = await list_ready(res, run_id)
    if listing.ended:
        done = await complete(res, run_id, f"own:{run_id}")
        return done, None
    if await cancel_requested(res.redis, res.keys, run_id):
        await close_listing(res, run_id)
        return await _finish(res, run_id, RunStatus.CANCELLED, segment_count=listing.listed), None
    run = await runs_db.get_run(res.db, run_id)
    if run is None or run["status"] in TERMINAL_STATUSES:
        return {"run_id": run_id, "status": None if run is None else run["status"]}, None
    failed = await supervise(res, run_id)
    if failed is not None:
        return await fail_run(res, run_id, failed), None
    after = OWNER_POLL_SECONDS
    if listing.next_due is not None:
        after = min(after, max(_MIN_DEFER, listing.next_due))
    return {"run_id": run_id, "status": "watching", "listed": listing.listed}, after


async def own_chunked(ctx: dict[str, Any], run_id: str, token: str) -> dict[str, Any]:
    """One look of run ``run_id``'s owner chain (see the module doc); queues the next."""
    res = resources_of(ctx)
    owner = res.keys.chunk_owner(run_id)
    if not await renew(res.redis, owner, token, CHUNK_CLAIM_TTL):
        return {"run_id": run_id, "status": "owned elsewhere"}
    try:
        result, after = await _look(res, run_id)
    except Exception as exc:  # PostgreSQL away, a Redis hiccup: the chain goes on
        log.warning("run %s: owner look failed (%s); looking again", run_id, exc)
        result = {"run_id": run_id, "status": "look failed", "error": str(exc)[:500]}
        after = RETRY_LOOK_SECONDS
    if after is None:
        await release(res.redis, owner, token)
    else:
        await _next_look(res, run_id, token, after)
    return result


async def resume_owners(res: Resources) -> int:
    """Start an owner chain for every running chunked run of this queue that has none.

    For a chain that died with its worker mid-look while no chunk job of the
    run is left to notice. Returns the chains started.
    """
    started = 0
    for run_id in await runs_db.running_run_ids(res.db, res.keys.queue):
        if await load_meta(res.redis, res.keys, run_id) is None:
            continue  # not a chunked run, or not planned yet
        if await start_owner(res, run_id):
            log.warning("run %s: its owner chain had stopped; started again", run_id)
            started += 1
    return started


#: arq functions of the owner; looks keep no result (a run makes two a second).
OWNER_FUNCTIONS: list[Any] = [func(own_chunked, keep_result=0, timeout=120)]
