"""The chunk job of a distributed live run: ``render_chunk(ctx, run_id, index)``.

Any worker may run it. It claims the chunk (a Redis claim renewed every
``CHUNK_CLAIM_TTL / 3`` seconds by :class:`~streamer.jobs.claims.ClaimKeeper`;
another worker takes a chunk over once a claim has gone
``CHUNK_CLAIM_TTL`` seconds without renewal), renders the chunk's frame range
with the interpreter into :class:`hls.chunk_encoder.ChunkSink`, writes its
segments, named by content id, into the run's shared HLS folder
(``CACHE_DIR/hls/<run_id>``: workers on one machine or a shared volume), records
them (:mod:`streamer.jobs.chunk_state`), lists what is complete
(:mod:`streamer.jobs.chunk_listing`) and starts an owner chain if the run has
none (:mod:`streamer.jobs.chunk_supervisor`). A re-render (takeover, retry) writes the
same bytes under the same names.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cache.cid import cid_of_bytes
from hls.chunk_encoder import ChunkResult, ChunkSink
from hls.chunk_plan import chunk_span
from hls.options import HLSOptions
from hls.segment_files import atomic_write
from interpreter.nodes import Recipe
from interpreter.stream import OutputShape, StreamInterpreter
from streamer.content.primary import SharedDocs
from streamer.content.stores import hls_dir
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.jobs.chunk_listing import complete, list_ready, supervise
from streamer.jobs.chunk_state import (
    CHUNK_CLAIM_TTL,
    ChunkDone,
    ChunkMeta,
    SegmentRecord,
    load_meta,
    mark_done,
)
from streamer.jobs.chunk_supervisor import ensure_owner, fail_run
from streamer.jobs.claims import ClaimKeeper, claim, claim_owner, new_token
from streamer.jobs.render_inputs import InputError, load_checked, resolve_inputs
from streamer.resources import Resources, resources_of
from streamer.runs.events import cancel_requested
from streamer.runs.status import TERMINAL_STATUSES

__all__ = ["chunk_options", "render_chunk", "render_span", "run_sources"]

log = logging.getLogger(__name__)


def chunk_options(segment_seconds: float, preset: str, container: str = "mpegts") -> HLSOptions:
    """A chunked run's encoding options: no B-frames, constant-quality AAC.

    Every chunk of a run uses the segment length, preset and container
    (``mpegts``/``fmp4``) its owner stored (:class:`ChunkMeta`), whatever the
    rendering worker's own settings say.
    """
    return HLSOptions(
        segment_duration=segment_seconds,
        preset=preset,
        bframes=0,
        audio_quality=1.0,
        container="fmp4" if container == "fmp4" else "mpegts",
    )


async def run_sources(
    res: Resources, run: Mapping[str, Any]
) -> tuple[Recipe, dict[str, Path], dict[str, Any] | None]:
    """The run's recipe, local input files and stored analysis.

    Raises:
        InputError, InterpreterError, StorageError, OSError: the run cannot render.
    """
    row = await recipes_db.get_recipe(res.db, run["recipe_id"]) if run["recipe_id"] else None
    if row is None:
        raise InputError(f"the run's recipe {run['recipe_id']!r} no longer exists")
    recipe = await asyncio.to_thread(load_checked, row["source"], row["id"])
    inputs = await resolve_inputs(res.stores, run["inputs"] or {})
    return recipe, inputs, run["analysis"]


def _interpreter(
    recipe: Recipe,
    inputs: Mapping[str, Path],
    sink: ChunkSink,
    run: Mapping[str, Any],
    analysis: Any,
    duration: float | None,
    frame_range: tuple[int, int] | None = None,
) -> StreamInterpreter:
    return StreamInterpreter(
        recipe,
        inputs,
        sink,
        params=run["params"] or {},
        analysis=analysis,
        duration=duration,
        frame_range=frame_range,
    )


async def output_shape(
    recipe: Recipe,
    inputs: Mapping[str, Path],
    run: Mapping[str, Any],
    analysis: Any,
    duration: float | None,
) -> OutputShape:
    """The run's output formats and length (what its chunks are planned from)."""
    interp = StreamInterpreter(
        recipe, inputs, _NO_SINK, params=run["params"] or {}, analysis=analysis, duration=duration
    )
    return await interp.shape()


class _NoSink:
    """``shape()`` builds and closes the graph; it never writes."""

    async def start(self, video: Any, audio: Any, on_playlist_update: Any) -> None:
        raise AssertionError("shape() starts no sink")

    def write(self, frame: Any, audio: Any) -> None:
        raise AssertionError("shape() writes nothing")

    async def finish(self) -> None:
        raise AssertionError("shape() finishes nothing")

    async def abort(self) -> None:
        return None


_NO_SINK = _NoSink()


async def render_span(
    recipe: Recipe,
    inputs: Mapping[str, Path],
    run: Mapping[str, Any],
    analysis: Any,
    meta: ChunkMeta,
    index: int,
    options: HLSOptions,
) -> ChunkResult:
    """Render and encode chunk ``index`` (its frames and audio margins)."""
    span = chunk_span(
        options,
        meta.video_format,
        meta.audio_format,
        meta.total_frames,
        meta.chunk_segments,
        index,
    )
    interp = _interpreter(
        recipe,
        inputs,
        ChunkSink(options, span),
        run,
        analysis,
        meta.duration,
        (span.render_first, span.render_end),
    )
    result = await interp.run()
    assert isinstance(result, ChunkResult)
    return result


def _write(out_dir: Path, name: str, data: bytes) -> None:
    path = out_dir / name
    if not path.exists():  # named by content: a file there has these bytes
        atomic_write(path, data)


def _write_segments(
    out_dir: Path, result: ChunkResult
) -> tuple[tuple[SegmentRecord, ...], str | None]:
    """Write the chunk's segments (and fMP4 init segment); their records and the init's name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    init = None
    if result.init_segment is not None:
        init = f"{cid_of_bytes(result.init_segment)}.mp4"
        _write(out_dir, init, result.init_segment)
    records = []
    for seg in result.segments:
        name = f"{cid_of_bytes(seg.data)}{seg.extension}"
        _write(out_dir, name, seg.data)
        records.append(SegmentRecord(name, seg.index, seg.duration, seg.start_time))
    return tuple(records), init


async def render_chunk(ctx: dict[str, Any], run_id: str, index: int) -> dict[str, Any]:
    """Claim, render and record chunk ``index`` of run ``run_id``; then list what is ready.

    Returns ``{"run_id", "index", "status"}``: ``done``, ``already done``,
    ``claimed`` (another worker holds it), ``skipped`` (the run is over or
    not chunked) or ``failed``.
    """
    res = resources_of(ctx)
    redis: Any = res.redis  # redis-py's stubs type every command as sync or async
    keys = res.keys
    result = {"run_id": run_id, "index": index}
    run = await runs_db.get_run(res.db, run_id)
    meta = await load_meta(redis, keys, run_id)
    if run is None or meta is None or run["status"] in TERMINAL_STATUSES:
        return {**result, "status": "skipped"}
    if await redis.hexists(keys.chunks(run_id), f"done:{index}"):
        return {**result, "status": "already done"}
    if await cancel_requested(redis, keys, run_id):  # the owner's next look ends the run
        return {**result, "status": "skipped"}
    token = new_token()
    key = keys.chunk_claim(run_id, index)
    if not await claim(redis, key, token, CHUNK_CLAIM_TTL):
        return {**result, "status": "claimed"}
    await redis.hset(keys.chunks(run_id), f"started:{index}", token)
    try:
        async with ClaimKeeper(redis, key, token, CHUNK_CLAIM_TTL) as keeper:
            recipe, inputs, analysis = await run_sources(res, run)
            options = chunk_options(meta.segment_seconds, meta.preset, meta.container)
            rendered = await render_span(recipe, inputs, run, analysis, meta, index, options)
            keeper.check()
            out_dir = hls_dir(res.settings, run_id)
            records, init = await asyncio.to_thread(_write_segments, out_dir, rendered)
            # IPFS-primary: other nodes (listing, completing, serving) read them from IPFS
            names = [r.name for r in records] + ([init] if init else [])
            await SharedDocs(res.stores, res.db, res.settings.ipfs.primary).publish_files(
                [out_dir / name for name in names], f"run {run_id} chunk {index}"
            )
            done = ChunkDone(index, records, claim_owner(token), init)
            await mark_done(redis, keys, run_id, done)
    except Exception as exc:  # left for a takeover: the claim lapses, a supervisor re-enqueues
        log.exception("run %s chunk %d failed", run_id, index)
        return {**result, "status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000]}
    await _after(res, run_id)
    return {**result, "status": "done"}


async def _after(res: Resources, run_id: str) -> None:
    """List what is ready (completing the run when this lists its end), else re-enqueue
    abandoned chunks and make sure the run has an owner chain (its last one may have
    died with its worker).

    The owner's looks are queued behind the chunks planned before them (arq takes
    due jobs by score), so while chunks wait in the queue, finished chunks list and
    supervise: a dead worker's chunk is taken over without waiting for the queue.
    """
    listing = await list_ready(res, run_id)
    if listing.newly_ended:
        await complete(res, run_id, f"chunks:{run_id}")
    elif not listing.ended:
        failed = await supervise(res, run_id)
        if failed is not None:
            await fail_run(res, run_id, failed)
            return
        await ensure_owner(res, run_id)
