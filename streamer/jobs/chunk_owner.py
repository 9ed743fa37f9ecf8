"""The owner of a distributed live run (``ARTDAG_CHUNK_SEGMENTS`` > 0).

``render_run`` hands a run to :func:`own_chunked_run` when chunking is on.
The first owner prepares the run as a single render would (recipe, inputs,
analysis stored on the row), plans the chunks from the output's shape
(:class:`~streamer.jobs.chunk_state.ChunkMeta`, in Redis) and enqueues one
``render_chunk`` job per chunk, in order, so workers render ahead of the live
edge in parallel. Then, holding the owner claim (heartbeat), it lists the
complete prefix, re-enqueues abandoned chunks and watches the cancel flag
until the stream ends. An owner that dies is replaced by a new owner job
(:func:`streamer.jobs.chunk_listing.supervise`), which resumes from Redis:
nothing is rendered twice except chunks whose worker died, and listed
segments keep their names. ``pace`` is not applied to chunked runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from hls.chunk_plan import chunk_count
from hls.segment_schedule import SegmentSchedule
from streamer.db import runs as runs_db
from streamer.jobs.chunk_listing import close_listing, complete, list_ready, supervise
from streamer.jobs.chunk_render import chunk_options, output_shape
from streamer.jobs.chunk_state import CHUNK_CLAIM_TTL, ChunkMeta, load_meta, save_meta
from streamer.jobs.claims import ClaimKeeper, claim, new_token
from streamer.jobs.wake import enqueue_job
from streamer.runs.events import cancel_requested
from streamer.runs.status import TERMINAL_STATUSES, RunStatus

if TYPE_CHECKING:
    from streamer.jobs.render import LiveRender

__all__ = ["OWNER_POLL_SECONDS", "own_chunked_run"]

log = logging.getLogger(__name__)

OWNER_POLL_SECONDS = 0.5


async def _plan(job: LiveRender, duration: float | None) -> ChunkMeta:
    """Prepare the run and store its chunk plan; enqueue every chunk."""
    res = job.res
    recipe, inputs, analysis = await job.prepare(duration)
    hls = res.settings.hls
    options = chunk_options(hls.segment_seconds, hls.x264_preset)
    shape = await output_shape(recipe, inputs, job.run, analysis, duration)
    rate = Fraction(shape.video.fps_num, shape.video.fps_den)
    target = float(SegmentSchedule(options, rate).max_frames / rate)
    per = hls.chunk_segments
    v, a = shape.video, shape.audio
    meta = ChunkMeta(
        chunks=chunk_count(options, v, shape.frames, per),
        chunk_segments=per,
        total_frames=shape.frames,
        target_duration=target,
        started=dt.datetime.now(dt.UTC).isoformat(),
        video=(v.width, v.height, v.fps_num, v.fps_den, v.sar_num, v.sar_den),
        audio=None if a is None else (a.sample_rate, a.channels),
        duration=duration,
        segment_seconds=hls.segment_seconds,
        preset=hls.x264_preset,
    )
    if await save_meta(res.redis, res.keys, job.run_id, meta):
        for i in range(meta.chunks):
            job_id = res.keys.chunk_job_id(job.run_id, i, 0)
            await enqueue_job(res.arq, res.keys, "render_chunk", job.run_id, i, _job_id=job_id)
    stored = await load_meta(res.redis, res.keys, job.run_id)
    assert stored is not None
    return stored


async def own_chunked_run(job: LiveRender, duration: float | None) -> dict[str, Any]:
    """Own run ``job.run_id`` until its stream ends (or it fails or is cancelled)."""
    res, run_id = job.res, job.run_id
    token = new_token()
    if not await claim(res.redis, res.keys.chunk_owner(run_id), token, CHUNK_CLAIM_TTL):
        return {"run_id": run_id, "status": "owned elsewhere"}
    async with ClaimKeeper(res.redis, res.keys.chunk_owner(run_id), token, CHUNK_CLAIM_TTL):
        if await load_meta(res.redis, res.keys, run_id) is None:
            await _plan(job, duration)
        await runs_db.update_run(res.db, run_id, status=RunStatus.RUNNING, task_id=job.job_id)
        while True:
            listing = await list_ready(res, run_id)
            if listing.ended:
                return await complete(res, run_id, job.job_id)
            if await cancel_requested(res.redis, res.keys, run_id):
                await close_listing(res, run_id)
                return await job.finish(RunStatus.CANCELLED, segment_count=listing.listed)
            run = await runs_db.get_run(res.db, run_id)
            if run is None or run["status"] in TERMINAL_STATUSES:
                return {"run_id": run_id, "status": None if run is None else run["status"]}
            failed = await supervise(res, run_id)
            if failed is not None:
                await close_listing(res, run_id)
                return await job.finish(
                    RunStatus.FAILED, error=f"chunk {failed} failed on every attempt"
                )
            await asyncio.sleep(OWNER_POLL_SECONDS)
