"""Planning a distributed live run (``ARTDAG_CHUNK_SEGMENTS`` > 0).

``render_run`` hands a run to :func:`own_chunked_run` when chunking is on. It
prepares the run as a single render would (recipe, inputs, analysis stored on
the row), plans the chunks from the output's shape
(:class:`~streamer.jobs.chunk_state.ChunkMeta`, in Redis, with the run's
``pace``) and enqueues one ``render_chunk`` job per chunk, in order, so
workers render ahead of the live edge in parallel. Then it starts the run's
owner (:mod:`streamer.jobs.chunk_supervisor`: a chain of short deferred looks
that lists, paces, supervises and ends the run) and returns: no job holds a
worker slot while the run waits for its chunks, so a worker with one slot
renders a chunked run too. Listed segments keep their names whoever lists
them.
"""

from __future__ import annotations

import datetime as dt
import logging
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from hls.chunk_plan import chunk_count
from hls.segment_schedule import SegmentSchedule
from streamer.db import runs as runs_db
from streamer.jobs.chunk_render import chunk_options, output_shape
from streamer.jobs.chunk_state import ChunkMeta, load_meta, save_meta
from streamer.jobs.chunk_supervisor import start_owner
from streamer.jobs.wake import enqueue_job
from streamer.runs.status import RunStatus

if TYPE_CHECKING:
    from streamer.jobs.render import LiveRender

__all__ = ["own_chunked_run"]

log = logging.getLogger(__name__)


async def _plan(job: LiveRender, duration: float | None, pace: float | None) -> ChunkMeta:
    """Prepare the run and store its chunk plan; enqueue every chunk."""
    res = job.res
    recipe, inputs, analysis = await job.prepare(duration)
    hls = res.settings.hls
    container = "fmp4" if hls.container == "fmp4" else "mpegts"
    options = chunk_options(hls.segment_seconds, hls.x264_preset, container)
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
        pace=pace,
        container=container,
    )
    if await save_meta(res.redis, res.keys, job.run_id, meta):
        for i in range(meta.chunks):
            job_id = res.keys.chunk_job_id(job.run_id, i, 0)
            await enqueue_job(res.arq, res.keys, "render_chunk", job.run_id, i, _job_id=job_id)
    stored = await load_meta(res.redis, res.keys, job.run_id)
    assert stored is not None
    return stored


async def own_chunked_run(
    job: LiveRender, duration: float | None, pace: float | None = None
) -> dict[str, Any]:
    """Plan run ``job.run_id`` (once) and start its owner chain; returns at once.

    The job holds its worker slot only while it prepares the run (recipe,
    inputs, analysis, the output's shape); the owner is then a chain of short
    deferred looks (:mod:`streamer.jobs.chunk_supervisor`).
    """
    res, run_id = job.res, job.run_id
    if await load_meta(res.redis, res.keys, run_id) is None:
        await _plan(job, duration, pace)
    await runs_db.update_run(res.db, run_id, status=RunStatus.RUNNING, task_id=job.job_id)
    started = await start_owner(res, run_id)
    meta = await load_meta(res.redis, res.keys, run_id)
    chunks = 0 if meta is None else meta.chunks
    return {"run_id": run_id, "status": "owned" if started else "owned elsewhere", "chunks": chunks}
