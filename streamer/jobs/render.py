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

``ctx`` holds the worker's :class:`~streamer.resources.Resources` (see
:mod:`streamer.entry.worker`); :mod:`streamer.jobs.render_inputs` has the
inputs, analyses and pacing around the interpreter.

When the first segment is listed the job logs (INFO) the way there, ``run <id>
first segment listed: enqueued=<unix time> picked=+s prepared=+s started=+s
first_frame=+s listed=+s notified=+s`` (seconds after the enqueue: the job
started; recipe, inputs and analysis ready; graph built; first frame handed to
the encoder; the output reported the segment, i.e. the local playlist lists
it (IPFS output: and the node has it); row updated and event published).
``bench/live_server.py`` reads it. A worker warm-up still running
(:mod:`streamer.jobs.warmup`) waits between its units until then.
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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cache.cid import cid_of_bytes
from cache.errors import StorageError
from cache.ipfs import IPFSStore
from cache.s3 import S3SegmentMirror
from hls.ladder import MASTER_NAME, LadderOutput, VariantUpdate
from hls.options import HLSOptions
from hls.output import HLSResult, IPFSHLSOutput, LocalHLSOutput, PlaylistUpdate
from interpreter.errors import InterpreterError
from interpreter.nodes import Recipe
from interpreter.planner import ExecutionPlan
from interpreter.runtime.errors import Cancelled
from interpreter.stream import Progress, StreamInterpreter
from streamer.content.primary import PLAN_RECORD, SharedDocs
from streamer.content.provenance import record_render_provenance
from streamer.content.stores import hls_dir
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.db.outage import database_unavailable, retry_db
from streamer.jobs.chunk_owner import own_chunked_run
from streamer.jobs.render_inputs import (
    InputError,
    PacedSink,
    hls_options,
    keep_segments,
    load_checked,
    paced_lead,
    resolve_inputs,
    run_analyses,
)
from streamer.jobs.replicate import replicate_after_completion
from streamer.jobs.warmup import pause_warmup
from streamer.resources import Resources, resources_of
from streamer.runs.events import (
    PlaylistEvent,
    ProgressEvent,
    RunEvent,
    StatusEvent,
    cancel_requested,
    publish_event,
)
from streamer.runs.status import TERMINAL_STATUSES, RunStatus

__all__ = [
    "CANCEL_POLL_SECONDS",
    "InputError",
    "LiveRender",
    "PacedSink",
    "hls_options",
    "render_run",
]

log = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.2


class LiveRender:
    """One run's live render: its row, its events, its output and its cancel poll.

    Row updates from the progress and playlist callbacks go through one lock so
    they stay ordered; the first of them marks the run ``running``.
    """

    def __init__(
        self,
        res: Resources,
        run: Mapping[str, Any],
        job_id: str,
        enqueued: float | None = None,
    ) -> None:
        self.res = res
        self.run = run
        self.run_id = str(run["id"])
        self.job_id = job_id
        self.out_dir = hls_dir(res.settings, self.run_id)
        self._lock = asyncio.Lock()
        self._running = False
        # row fields a PostgreSQL outage held back (written with the next update)
        self._unwritten: dict[str, Any] = {}
        self._ipfs: IPFSStore | None = None
        self._inner: LocalHLSOutput | None = None
        self._ladder: LadderOutput | None = None
        # each lower ABR rung's newest IPFS media playlist CID (runs.variant_cids)
        self._variant_cids: dict[str, str] = {}
        self._variant_ended: set[str] = set()
        self._sink: PacedSink | None = None
        # the way to the first listed segment (time.time() of each stage)
        self.marks: dict[str, float] = {"picked": time.time()}
        self.enqueued = enqueued if enqueued is not None else self.marks["picked"]
        #: called once the first segment is listed (the worker's warm-up resumes)
        self.on_first_segment: Callable[[], None] | None = None

    async def finish(self, status: RunStatus, **fields: Any) -> dict[str, Any]:
        """Write the final status (and fields) and publish it; the job's result.

        The row is written whatever happens to PostgreSQL meanwhile: with the
        updates an outage held back, retried until it is back (bounded by
        :data:`streamer.db.outage.RETRY_BUDGET_SECONDS`).
        """
        async with self._lock:
            row = {**self._unwritten, "status": status, **fields}
            await retry_db(
                lambda: runs_db.update_run(self.res.db, self.run_id, **row),
                f"run {self.run_id} final status {status}",
            )
            self._unwritten.clear()
        event = StatusEvent(status, error=fields.get("error"), output_cid=fields.get("output_cid"))
        await self._publish(event)
        return {"run_id": self.run_id, "status": str(status), **fields}

    async def _publish(self, event: RunEvent) -> None:
        # live subscribers (SSE) are optional: a failed publish (Redis restarting)
        # never fails the run; the next event carries the state again
        try:
            await publish_event(self.res.redis, self.res.keys, self.run_id, event)
        except Exception as exc:
            log.debug("run %s: %s event not published: %s", self.run_id, event.type, exc)

    async def claim(self, *, retried: bool) -> bool:
        """Mark the run running for this job; False when another job renders it.

        Args:
            retried: arq retries this job (its worker died): it takes a running run over.
        """
        row = await retry_db(
            lambda: runs_db.claim_run(self.res.db, self.run_id, self.job_id, take_over=retried),
            f"run {self.run_id} start",
        )
        if row is None:
            log.warning(
                "run %s: another job renders it already; job %s stops", self.run_id, self.job_id
            )
            return False
        self.run, self._running = row, True
        return True

    async def prepare(
        self, duration: float | None = None
    ) -> tuple[Recipe, dict[str, Path], dict[str, Any] | None]:
        """Recipe, local input files and analysis; clears a retried job's old segments.

        Args:
            duration: Seconds the run renders (caps the audio analysed of a long generator).

        Raises:
            InputError, InterpreterError, StorageError, OSError, ValueError: it cannot start.
        """
        db, stores, run = self.res.db, self.res.stores, self.run
        row = await recipes_db.get_recipe(db, run["recipe_id"]) if run["recipe_id"] else None
        if row is None:
            raise InputError(f"the run's recipe {run['recipe_id']!r} no longer exists")
        recipe = await asyncio.to_thread(load_checked, row["source"], row["id"])
        self._ipfs = await stores.reachable_ipfs()
        inputs = await resolve_inputs(stores, run["inputs"] or {})
        shared = SharedDocs(stores, db, self.res.settings.ipfs.primary)
        if shared.primary and run.get("plan") and run.get("plan_id"):  # the plan on IPFS too
            plan_json = ExecutionPlan.from_json(json.dumps(run["plan"])).to_json()
            await shared.publish(
                plan_json.encode(), key=str(run["plan_id"]), kind="plan", record=PLAN_RECORD
            )
        analysis = run["analysis"]
        if analysis is None and (run.get("plan") or {}).get("analysis"):
            # phase 1 can take a while (a cold cache decodes the audio): the run is running
            await runs_db.update_run(db, self.run_id, status=RunStatus.RUNNING, task_id=self.job_id)
            await self._publish(StatusEvent(RunStatus.RUNNING, stage="analysis"))
            plan = run.get("plan")
            analysis = await run_analyses(
                stores,
                plan,
                inputs,
                run["inputs"] or {},
                recipe,
                params=run["params"] or {},
                duration=duration,
                shared=shared,
            )
            if analysis is not None:
                await runs_db.update_run(db, self.run_id, analysis=analysis)
        # a retried job starts over: stale segments must not mix into the new playlist
        await asyncio.to_thread(shutil.rmtree, self.out_dir, True)
        return recipe, inputs, analysis

    def _output(self, options: HLSOptions | None = None) -> LocalHLSOutput:
        """The top rendition's output (``options`` None) or a lower ABR rung's."""
        stores = self.res.stores
        top = options is None
        options = hls_options(self.res.settings) if options is None else options
        # each segment and playlist rewrite goes to the bucket as it is written
        mirrors = [S3SegmentMirror(stores.s3, self.run_id)] if stores.s3 is not None else []
        if self._ipfs is not None:
            return IPFSHLSOutput(self._ipfs, self.out_dir, options, cid_of_bytes, mirrors=mirrors)
        if top:
            log.info("run %s: IPFS not reachable; rendering to local HLS only", self.run_id)
        return LocalHLSOutput(self.out_dir, options, cid_of_bytes, mirrors=mirrors)

    def _ladder_output(self, top: LocalHLSOutput) -> LadderOutput:
        """The ABR ladder around the top output (it adds no rung to a small output)."""
        s3 = self.res.stores.s3
        return LadderOutput(
            top,
            self.res.settings.hls.ladder,
            self._output,
            store=self._ipfs,
            mirrors=[S3SegmentMirror(s3, self.run_id)] if s3 is not None else [],
            on_variant_update=self.on_variant_update,
        )

    async def on_variant_update(self, update: VariantUpdate) -> None:
        """A ladder playlist was published: its IPFS CID on the row (the multivariant
        playlist's in ``master_cid``, a lower rung's media playlist's in ``variant_cids``)."""
        if self._ipfs is None:  # a local-only CID names nothing on IPFS
            return
        if update.name == MASTER_NAME:
            await self._mark_running(master_cid=update.playlist_cid)
        else:
            await self._mark_running(variant=update)

    def _record_variant(self, update: VariantUpdate) -> dict[str, str] | None:
        """Note a rung's newer playlist CID (under the lock); the CIDs to write, or None.

        A rung publishes its playlists one after another, so a later update is a newer
        playlist; an ended rung's final CID is never replaced by a late live one.
        """
        if update.name in self._variant_ended:
            return None
        self._variant_cids[update.name] = update.playlist_cid
        if update.ended:
            self._variant_ended.add(update.name)
        return dict(self._variant_cids)

    async def _mark_running(self, *, variant: VariantUpdate | None = None, **fields: Any) -> None:
        async with self._lock:
            # the snapshot is taken under the lock: writes go out in the order they were made
            if variant is not None and (cids := self._record_variant(variant)) is not None:
                fields["variant_cids"] = cids
            if not self._running:
                self._running = True
                fields["status"] = RunStatus.RUNNING
            row = {**self._unwritten, **fields}
            try:
                await runs_db.update_run(self.res.db, self.run_id, **row)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                # the render goes on; the fields go with the next update (or the final one)
                if not self._unwritten:
                    log.warning("run %s: row update held back (PostgreSQL: %s)", self.run_id, exc)
                self._unwritten = row
                return
            if self._unwritten:
                log.info("run %s: held-back row update written", self.run_id)
                self._unwritten = {}

    async def on_playlist_update(self, update: PlaylistUpdate) -> None:
        """A segment was listed: row (count, IPFS playlist CID) and a playlist event."""
        fields: dict[str, Any] = {"segment_count": update.segment_count}
        if self._ipfs is not None:  # a local-only playlist CID names nothing on IPFS
            fields["playlist_cid"] = update.playlist_cid
        first = "listed" not in self.marks
        if first:
            self.marks["listed"] = time.time()
        await self._mark_running(**fields)
        event = PlaylistEvent(
            playlist_cid=fields.get("playlist_cid"),
            segment_cid=update.segment_cid,
            index=update.index,
            duration=update.duration,
            segment_count=update.segment_count,
            ended=update.ended,
            ipfs=self._ipfs is not None,
        )
        await self._publish(event)
        if first:
            self.marks["notified"] = time.time()
            log.info("run %s first segment listed: %s", self.run_id, self.startup_line())
            if self.on_first_segment is not None:
                self.on_first_segment()

    def startup_line(self) -> str:
        """``enqueued=<unix time> picked=+s ...``: each stage so far, seconds after the enqueue."""
        marks = dict(self.marks)
        if self._sink is not None:
            for name, at in (
                ("started", self._sink.started_at),
                ("first_frame", self._sink.first_write_at),
            ):
                if at is not None:
                    marks[name] = at
        order = ("picked", "prepared", "started", "first_frame", "listed", "notified")
        parts = [f"{k}=+{marks[k] - self.enqueued:.3f}" for k in order if k in marks]
        return f"enqueued={self.enqueued:.3f} " + " ".join(parts)

    async def on_progress(self, p: Progress) -> None:
        """A progress tick: row and a progress event."""
        fraction = min(max(p.fraction, 0.0), 1.0)
        fields: dict[str, Any] = {"progress": fraction}
        if self._ipfs is None and self._inner is not None:
            fields["segment_count"] = self._inner.stats.segments_local
        await self._mark_running(**fields)
        event = ProgressEvent(
            progress=fraction, frames=p.frames, total_frames=p.total_frames, fps=round(p.fps, 2)
        )
        await self._publish(event)

    async def _poll_cancel(self, interp: StreamInterpreter, stop: threading.Event) -> None:
        failing = False
        while not stop.is_set():
            try:
                if await cancel_requested(self.res.redis, self.res.keys, self.run_id):
                    interp.cancel()
                    return
            except Exception as exc:  # a Redis hiccup must not kill the render
                if not failing:  # once per outage, not every poll
                    log.warning("run %s: cancel poll failed: %s", self.run_id, exc)
                failing = True
            else:
                if failing:
                    log.info("run %s: cancel poll answers again", self.run_id)
                failing = False
            await asyncio.sleep(CANCEL_POLL_SECONDS)

    async def render(
        self,
        recipe: Recipe,
        inputs: Mapping[str, Path],
        analysis: dict[str, Any] | None,
        *,
        pace: float | None,
        duration: float | None,
    ) -> dict[str, Any]:
        """Run the interpreter into the live output; the job's result."""
        self.marks["prepared"] = time.time()
        inner = self._inner = self._output()
        lead = paced_lead(inner.options)
        ladder = self._ladder = self._ladder_output(inner) if self.res.settings.hls.ladder else None
        sink = self._sink = PacedSink(ladder if ladder is not None else inner, pace, lead=lead)
        interp = StreamInterpreter(
            recipe,
            inputs,
            sink,
            params=self.run["params"] or {},
            analysis=analysis,
            on_progress=self.on_progress,
            on_playlist_update=self.on_playlist_update,
            duration=duration,
        )
        stop_polling = threading.Event()
        await self._mark_running(task_id=self.job_id)
        started = dt.datetime.now(dt.UTC)
        poller = asyncio.create_task(
            self._poll_cancel(interp, stop_polling), name=f"cancel-poll-{self.run_id}"
        )
        try:
            result: HLSResult = await interp.run()
        except Cancelled:
            return await self.finish(RunStatus.CANCELLED, segment_count=inner.stats.segments_local)
        except Exception as exc:  # InterpreterError, StorageError, OSError and the unforeseen
            log.exception("run %s failed", self.run_id)
            return await self.finish(RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000])
        finally:
            stop_polling.set()
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        try:
            return await self._complete(recipe, result, started)
        except (StorageError, OSError) as exc:  # e.g. no space left for the playlist copy
            log.exception("run %s: rendered but not stored", self.run_id)
            error = f"the render finished but its output could not be stored: {exc}"
            return await self.finish(RunStatus.FAILED, error=error[:4000])

    async def _complete(
        self, recipe: Recipe, result: HLSResult, started: dt.datetime
    ) -> dict[str, Any]:
        stores = self.res.stores
        playlist_bytes = await asyncio.to_thread(result.playlist_path.read_bytes)
        try:
            await keep_segments(stores, self.out_dir)
        except (StorageError, OSError) as exc:  # the live HLS is complete; only the copy failed
            log.warning("run %s: segments not copied into the content store: %s", self.run_id, exc)
        local_item = await stores.local.aput_bytes(playlist_bytes, suffix=".m3u8")
        output_cid = result.ipfs_playlist_cid or local_item.cid
        fields: dict[str, Any] = {
            "output_cid": output_cid,
            "progress": 1.0,
            "segment_count": len(result.segments),
        }
        if result.ipfs_playlist_cid:
            fields["playlist_cid"] = result.ipfs_playlist_cid
        if self._ladder is not None and self._ladder.master_cid:
            fields["master_cid"] = self._ladder.master_cid
        if self._variant_cids:
            fields["variant_cids"] = dict(self._variant_cids)
        try:
            await retry_db(
                lambda: record_render_provenance(
                    self.res,
                    self.run,
                    output_cid,
                    job_id=self.job_id,
                    output_name=f"{recipe.name}.m3u8",
                    recipe=recipe,
                    rendered_at=started,
                ),
                f"run {self.run_id} provenance",
            )
        except Exception as exc:  # the render itself succeeded; a missing record is logged
            log.exception("run %s: provenance not recorded: %s", self.run_id, exc)
        done = await self.finish(RunStatus.COMPLETED, **fields)
        await replicate_after_completion(self.res, self.run_id)  # copies to storage providers
        return done


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
    enqueued = ctx.get("enqueue_time")
    enqueued_at = enqueued.timestamp() if isinstance(enqueued, dt.datetime) else None
    run = await retry_db(lambda: runs_db.get_run(res.db, run_id), f"run {run_id} start")
    if run is None:
        log.warning("render_run: run %s does not exist", run_id)
        return {"run_id": run_id, "status": "missing"}
    if run["status"] in TERMINAL_STATUSES:
        return {"run_id": run_id, "status": run["status"]}
    job_id = str(ctx.get("job_id") or "")
    job = LiveRender(res, run, job_id, enqueued_at)
    # a warm-up still running holds back until this run lists its first segment
    job.on_first_segment = resume_warmup = pause_warmup(ctx)
    try:
        if await cancel_requested(res.redis, res.keys, run_id):
            return await job.finish(RunStatus.CANCELLED)
        if not await job.claim(retried=int(ctx.get("job_try") or 1) > 1):
            return {"run_id": run_id, "status": "duplicate"}
        if res.settings.hls.chunk_segments > 0:  # a distributed run: this job owns it
            try:
                return await own_chunked_run(job, duration, pace)
            except (InputError, InterpreterError, StorageError, OSError, ValueError) as exc:
                log.warning("run %s cannot start: %s", run_id, exc)
                return await job.finish(RunStatus.FAILED, error=str(exc))
        try:
            recipe, inputs, analysis = await job.prepare(duration)
        except (InputError, InterpreterError, StorageError, OSError, ValueError) as exc:
            log.warning("run %s cannot start: %s", run_id, exc)
            return await job.finish(RunStatus.FAILED, error=str(exc))
        return await job.render(recipe, inputs, analysis, pace=pace, duration=duration)
    finally:
        resume_warmup()
