"""The live render job: ``render_run(ctx, run_id, ...)`` on an arq worker.

It loads the run's recipe and inputs, renders with
:class:`interpreter.stream.StreamInterpreter` into
:class:`hls.output.IPFSHLSOutput` (or :class:`hls.output.LocalHLSOutput` when
the IPFS node does not answer at start) under ``CACHE_DIR/hls/<run_id>``
(mirrored live to S3 under ``hls/<run_id>/`` when ``S3_BUCKET`` is set), and
after every playlist update writes the run row (playlist CID, segment count,
status) and publishes an event (:mod:`streamer.runs.events`). A Redis cancel flag,
polled while rendering, stops the interpreter within a frame.

When the run carries no analysis, the ANALYZE steps over recipe inputs are
computed first through :class:`interpreter.analysis.AnalysisCache` (a repeat
decodes nothing) and stored on the run row, so ``/api/run/{id}/analysis``
shows what drove the render. A completed render gets one provenance record
from :func:`streamer.content.provenance.record_render_provenance` (the same shape as
3-phase runs), in PostgreSQL and on IPFS when a node answers.

``ctx`` needs ``settings``, ``db``, ``redis`` and ``stores`` (see
:mod:`streamer.entry.worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from cache.cid import cid_of_bytes
from cache.errors import StorageError
from cache.s3 import S3SegmentMirror
from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.options import HLSOptions
from hls.output import HLSResult, IPFSHLSOutput, LocalHLSOutput, PlaylistUpdate
from interpreter.analysis import AnalysisCache
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.runtime.errors import Cancelled
from interpreter.stream import Progress, StreamInterpreter
from interpreter.validate import validate
from streamer.content.provenance import record_render_provenance
from streamer.content.stores import Stores, fetch_into_local, hls_dir
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.resources import resources_of
from streamer.runs.events import (
    PlaylistEvent,
    ProgressEvent,
    StatusEvent,
    cancel_requested,
    publish_event,
)
from streamer.runs.status import TERMINAL_STATUSES, RunStatus
from streamer.settings import Settings

__all__ = ["CANCEL_POLL_SECONDS", "InputError", "PacedSink", "hls_options", "render_run"]

log = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.2


class InputError(Exception):
    """A run input cannot be made available locally (the run fails with this text)."""


def hls_options(settings: Settings) -> HLSOptions:
    """HLS encoder options from the settings."""
    return HLSOptions(
        segment_duration=settings.hls.segment_seconds,
        container="fmp4" if settings.hls.container == "fmp4" else "mpegts",
        preset=settings.hls.x264_preset,
    )


class PacedSink:
    """A FrameSink wrapper that writes no faster than ``pace`` times real time.

    Live streams are consumed in real time; pacing keeps a long render from
    racing ahead of its viewers (and gives tests a window mid-render). The
    sleep happens in the pipeline thread, in slices short enough for a cancel
    to be noticed within a frame.
    """

    def __init__(self, inner: Any, pace: float) -> None:
        if pace <= 0:
            raise ValueError(f"pace must be > 0, got {pace!r}")
        self.inner = inner
        self.pace = pace
        self._frame_seconds = 0.0
        self._t0: float | None = None
        self._n = 0

    async def start(
        self, video: VideoFormat, audio: AudioFormat | None, on_playlist_update: Any
    ) -> None:
        self._frame_seconds = video.fps_den / video.fps_num / self.pace
        await self.inner.start(video, audio, on_playlist_update)

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        due = self._t0 + self._n * self._frame_seconds
        if due > now:
            time.sleep(due - now)
        self._n += 1
        self.inner.write(frame, audio)

    async def finish(self) -> Any:
        return await self.inner.finish()

    async def abort(self) -> None:
        await self.inner.abort()


async def _resolve_inputs(
    stores: Stores, ipfs_ok: bool, inputs: Mapping[str, str]
) -> dict[str, Path]:
    """Input name -> local file, fetching missing CIDs from IPFS into the local cache."""
    out: dict[str, Path] = {}
    for name, cid in inputs.items():
        if await asyncio.to_thread(stores.local.has, cid):
            out[name] = await asyncio.to_thread(stores.local.path, cid)
            continue
        if not ipfs_ok or stores.ipfs is None:
            raise InputError(
                f"input {name!r}: {cid} is not in the local cache and no IPFS node is reachable"
            )
        try:
            out[name] = await fetch_into_local(stores.local, stores.ipfs, cid)
        except StorageError as exc:
            raise InputError(
                f"input {name!r}: {cid} could not be fetched from IPFS: {exc}"
            ) from exc
    return out


async def _analyses(
    stores: Stores,
    plan: Mapping[str, Any] | None,
    files: Mapping[str, Path],
    inputs: Mapping[str, str],
    recipe: Recipe | None = None,
) -> dict[str, Any] | None:
    """Step id -> analysis JSON of the plan's ANALYZE steps over recipe inputs (None: none).

    Results come from the node's analysis cache (computed on a miss, in threads), so
    the interpreter gets them ready-made instead of decoding the audio again. An
    ANALYZE of a SEGMENT of an input uses the whole file's cached analysis seen
    through the cut (:func:`interpreter.runtime.analysis.windowed`).
    """
    from interpreter.runtime.analysis import segment_window, windowed

    by_cid = {cid: files[name] for name, cid in inputs.items() if name in files}
    cache = AnalysisCache(Path(stores.local.root))
    out: dict[str, Any] = {}
    for a in (plan or {}).get("analysis") or []:
        features = list(a.get("features") or []) or None
        if a.get("input_cid") in by_cid:
            result = await cache.get_or_compute(
                str(a["input_cid"]), by_cid[a["input_cid"]], features
            )
            out[str(a["step_id"])] = json.loads(result.to_json())
            continue
        found = segment_window(recipe, str(a["step_id"])) if recipe is not None else None
        if found is None or found[0] not in files or found[0] not in inputs:
            continue  # not over a file: the run must carry it (or the renderer says so)
        name, start, duration = found
        result = await cache.get_or_compute(inputs[name], files[name], features)
        out[str(a["step_id"])] = windowed(json.loads(result.to_json()), start, duration)
    return out or None


_MEDIA_SUFFIXES = (".ts", ".m4s", ".mp4", ".aac")


async def _keep_segments(stores: Stores, out_dir: Path) -> int:
    """Copy the run's segment files into the content store; returns how many.

    They are named by their CIDs already; in the store they stay reachable by CID
    (``/cache/<playlist>/mp4``, ``/cache/<segment>/raw``) without an IPFS node and
    after the run's HLS folder is deleted.
    """

    def segment_files() -> list[Path]:
        return sorted(p for p in out_dir.iterdir() if p.is_file() and p.suffix in _MEDIA_SUFFIXES)

    files = await asyncio.to_thread(segment_files)
    for path in files:
        if not await asyncio.to_thread(stores.local.has, path.stem):
            await stores.local.aput_file(path)
    return len(files)


def _load(source: str, recipe_id: str) -> Recipe:
    recipe = load_recipe(source, filename=f"recipe {recipe_id[:12]}")
    validate(recipe)
    return recipe


async def render_run(
    ctx: dict[str, Any],
    run_id: str,
    *,
    pace: float | None = None,
    duration: float | None = None,
) -> dict[str, Any]:
    """Render run ``run_id`` live; returns ``{"run_id", "status", ...}``.

    Args:
        ctx: arq context (its :class:`~streamer.resources.Resources`, ``job_id``).
        run_id: The run row to render (status ``pending``; a retried job restarts it).
        pace: Render no faster than this multiple of real time (None: as fast as possible).
        duration: Seconds to render (needed when the recipe's output never ends).
    """
    res = resources_of(ctx)
    settings, db, redis, stores, keys = res.settings, res.db, res.redis, res.stores, res.keys

    run = await runs_db.get_run(db, run_id)
    if run is None:
        log.warning("render_run: run %s does not exist", run_id)
        return {"run_id": run_id, "status": "missing"}
    if run["status"] in TERMINAL_STATUSES:
        return {"run_id": run_id, "status": run["status"]}

    async def finish(status: RunStatus, **fields: Any) -> dict[str, Any]:
        await runs_db.update_run(db, run_id, status=status, **fields)
        event = StatusEvent(status, error=fields.get("error"), output_cid=fields.get("output_cid"))
        with contextlib.suppress(Exception):
            await publish_event(redis, keys, run_id, event)
        return {"run_id": run_id, "status": str(status), **fields}

    if await cancel_requested(redis, keys, run_id):
        return await finish(RunStatus.CANCELLED)

    out_dir = hls_dir(settings, run_id)
    try:
        recipe_row = await recipes_db.get_recipe(db, run["recipe_id"]) if run["recipe_id"] else None
        if recipe_row is None:
            raise InputError(f"the run's recipe {run['recipe_id']!r} no longer exists")
        recipe = await asyncio.to_thread(_load, recipe_row["source"], recipe_row["id"])
        ipfs = await stores.reachable_ipfs()
        inputs = await _resolve_inputs(stores, ipfs is not None, run["inputs"] or {})
        analysis = run["analysis"]
        if analysis is None and (run.get("plan") or {}).get("analysis"):
            # phase 1 can take a while (a cold cache decodes the audio): the run is running
            await runs_db.update_run(
                db, run_id, status=RunStatus.RUNNING, task_id=str(ctx.get("job_id") or "")
            )
            with contextlib.suppress(Exception):
                await publish_event(
                    redis, keys, run_id, StatusEvent(RunStatus.RUNNING, stage="analysis")
                )
            analysis = await _analyses(stores, run.get("plan"), inputs, run["inputs"] or {}, recipe)
            if analysis is not None:
                await runs_db.update_run(db, run_id, analysis=analysis)
        # a retried job starts over: stale segments must not mix into the new playlist
        await asyncio.to_thread(shutil.rmtree, out_dir, True)
    except (InputError, InterpreterError, StorageError, OSError, ValueError) as exc:
        log.warning("run %s cannot start: %s", run_id, exc)
        return await finish(RunStatus.FAILED, error=str(exc))

    options = hls_options(settings)
    # each segment and playlist rewrite goes to the bucket as it is written
    mirrors = [S3SegmentMirror(stores.s3, run_id)] if stores.s3 is not None else []
    inner: LocalHLSOutput
    if ipfs is not None:
        inner = IPFSHLSOutput(ipfs, out_dir, options, cid_of_bytes, mirrors=mirrors)
    else:
        log.info("run %s: IPFS not reachable; rendering to local HLS only", run_id)
        inner = LocalHLSOutput(out_dir, options, cid_of_bytes, mirrors=mirrors)
    sink: Any = inner if pace is None else PacedSink(inner, pace)

    lock = asyncio.Lock()  # row updates from progress and playlist callbacks stay ordered
    state: dict[str, Any] = {"running": False}

    async def mark_running(**fields: Any) -> None:
        async with lock:
            if not state["running"]:
                state["running"] = True
                fields["status"] = RunStatus.RUNNING
            await runs_db.update_run(db, run_id, **fields)

    async def on_playlist_update(update: PlaylistUpdate) -> None:
        fields: dict[str, Any] = {"segment_count": update.segment_count}
        if ipfs is not None:  # a local-only playlist CID names nothing on IPFS
            fields["playlist_cid"] = update.playlist_cid
        await mark_running(**fields)
        event = PlaylistEvent(
            playlist_cid=fields.get("playlist_cid"),
            segment_cid=update.segment_cid,
            index=update.index,
            duration=update.duration,
            segment_count=update.segment_count,
            ended=update.ended,
            ipfs=ipfs is not None,
        )
        await publish_event(redis, keys, run_id, event)

    async def on_progress(p: Progress) -> None:
        fraction = min(max(p.fraction, 0.0), 1.0)
        fields: dict[str, Any] = {"progress": fraction}
        if ipfs is None:
            fields["segment_count"] = inner.stats.segments_local
        await mark_running(**fields)
        event = ProgressEvent(
            progress=fraction, frames=p.frames, total_frames=p.total_frames, fps=round(p.fps, 2)
        )
        await publish_event(redis, keys, run_id, event)

    interp = StreamInterpreter(
        recipe,
        inputs,
        sink,
        params=run["params"] or {},
        analysis=analysis,
        on_progress=on_progress,
        on_playlist_update=on_playlist_update,
        duration=duration,
    )
    stop_polling = threading.Event()

    async def poll_cancel() -> None:
        while not stop_polling.is_set():
            try:
                if await cancel_requested(redis, keys, run_id):
                    interp.cancel()
                    return
            except Exception as exc:  # a Redis hiccup must not kill the render
                log.warning("run %s: cancel poll failed: %s", run_id, exc)
            await asyncio.sleep(CANCEL_POLL_SECONDS)

    await mark_running(task_id=str(ctx.get("job_id") or ""))
    started = dt.datetime.now(dt.UTC)
    poller = asyncio.create_task(poll_cancel(), name=f"cancel-poll-{run_id}")
    try:
        result: HLSResult = await interp.run()
    except Cancelled:
        return await finish(RunStatus.CANCELLED, segment_count=inner.stats.segments_local)
    except (InterpreterError, StorageError, OSError, Exception) as exc:
        log.exception("run %s failed", run_id)
        return await finish(RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000])
    finally:
        stop_polling.set()
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller

    playlist_bytes = await asyncio.to_thread(result.playlist_path.read_bytes)
    try:
        await _keep_segments(stores, out_dir)
    except (StorageError, OSError) as exc:  # the live HLS is complete; only the copy failed
        log.warning("run %s: segments not copied into the content store: %s", run_id, exc)
    local_item = await stores.local.aput_bytes(playlist_bytes, suffix=".m3u8")
    output_cid = result.ipfs_playlist_cid or local_item.cid
    fields: dict[str, Any] = {
        "output_cid": output_cid,
        "progress": 1.0,
        "segment_count": len(result.segments),
    }
    if result.ipfs_playlist_cid:
        fields["playlist_cid"] = result.ipfs_playlist_cid
    try:
        await record_render_provenance(
            res,
            run,
            output_cid,
            job_id=str(ctx.get("job_id") or ""),
            output_name=f"{recipe.name}.m3u8",
            recipe=recipe,
            rendered_at=started,
        )
    except Exception as exc:  # the render itself succeeded; a missing record is logged
        log.exception("run %s: provenance not recorded: %s", run_id, exc)
    return await finish(RunStatus.COMPLETED, **fields)
