"""The ABR ladder: one rendered frame, encoded into every rung, one multivariant playlist.

:class:`LadderOutput` is a FrameSink around the run's ordinary output (the top
rung: the output size, its ``playlist.m3u8`` and bytes exactly as without a
ladder) and one more output per lower rung (:mod:`hls.ladder_config`), each a
:class:`~hls.local_output.LocalHLSOutput` or
:class:`~hls.ipfs_output.IPFSHLSOutput` of its own writing
``playlist_<rung>.m3u8`` and content-named segments into the same directory
(and to IPFS/S3 as they are made). Every output uses the same
:class:`~hls.segment_schedule.SegmentSchedule` options, so all rungs are cut on
the same frames: aligned IDR frames and identical EXTINF.

Threads: ``write()`` encodes the top rung in the pipeline thread; each lower
rung has one thread of its own that scales the frame (numba, GIL released:
:mod:`hls.scaler`) and encodes it (x264 releases the GIL too). A rung may run
one frame behind the top; ``write()`` waits for a rung's previous frame before
handing it the next, so a slow rung is backpressure, never a growing queue.

Scaling cascades (:func:`scale_sources`): a rung is scaled from the smallest
frame above it that is still at least 1.5 times its size, so with the default
ladder at 1080p the 480p and 360p rungs come from the 720p frame (2 taps a
pixel instead of 3-4, on a plane 2.25 times smaller). The 720p thread hands
its scaled frame on as a future passed to the dependent rung's job (never
through shared state), and a rung only ever waits on a rung above it, so the
threads cannot wait on each other in a cycle.

Audio is muxed into every rung (see docs/ARCHITECTURE.md, "ABR ladder").

The multivariant playlist (``master.m3u8``, :mod:`hls.multivariant`) is written
once every rung has listed a segment and rewritten as segments arrive: each
rung's segments are measured (:mod:`hls.segment_probe`) when its output
reports them. With IPFS, it is added too, listing each rung's newest IPFS media
playlist, and ``on_variant_update`` gets its CID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.errors import HLSError
from hls.ipfs_output import SegmentStore
from hls.ladder_config import RungSize, RungSpec, rung_sizes
from hls.local_output import LocalHLSOutput
from hls.mirror import MirrorUploader, SegmentMirror
from hls.multivariant import MultivariantPlaylist, VariantInfo, VariantMeter
from hls.options import HLSOptions
from hls.output_reports import HLSResult, PlaylistUpdate, UpdateCallback
from hls.scaler import FrameScaler
from hls.segment_files import atomic_write
from hls.segment_probe import probe_segment

__all__ = [
    "CASCADE_FACTOR",
    "MASTER_NAME",
    "LadderOutput",
    "OutputFactory",
    "VariantCallback",
    "VariantUpdate",
    "rung_playlist_name",
    "scale_sources",
]

log = logging.getLogger(__name__)

#: The multivariant playlist's file name beside ``playlist.m3u8``.
MASTER_NAME = "master.m3u8"

OutputFactory = Callable[[HLSOptions], LocalHLSOutput]
"""Builds a lower rung's output (same kind as the top's) from its options."""


#: A rung is scaled from a lower rung's frame only when that frame is at least
#: this many times its size on both axes (closer sizes blur for little saving).
CASCADE_FACTOR = 1.5


def rung_playlist_name(spec: RungSpec) -> str:
    """``playlist_720p.m3u8``: a lower rung's media playlist."""
    return f"playlist_{spec.name}.m3u8"


def scale_sources(top: tuple[int, int], rungs: Sequence[tuple[int, int]]) -> list[int]:
    """Which frame each lower rung is scaled from: 0 the top's, ``i`` lower rung ``i``.

    Args:
        top: The rendered frame's ``(width, height)``.
        rungs: The lower rungs' sizes, largest first.

    Returns:
        One index per rung into ``[top, *rungs]``: the smallest earlier frame at
        least :data:`CASCADE_FACTOR` times the rung's size on both axes (give or
        take the rounding to even sizes), else the top.
    """
    sizes = [top, *rungs]
    sources: list[int] = []
    for i, (w, h) in enumerate(rungs, start=1):
        fits = [
            j
            for j in range(i)
            # + 2: sizes are rounded to even (854x480 is 1.5 times less than 1280x720)
            if sizes[j][0] + 2 >= CASCADE_FACTOR * w and sizes[j][1] + 2 >= CASCADE_FACTOR * h
        ]
        sources.append(min(fits, key=lambda j: sizes[j][0] * sizes[j][1]) if fits else 0)
    return sources


@dataclass(frozen=True, slots=True)
class VariantUpdate:
    """A lower rung's media playlist or the multivariant playlist was published.

    Attributes:
        name: ``playlist_<rung>.m3u8`` or :data:`MASTER_NAME`.
        playlist_cid: Its CID (IPFS when the output publishes there, else the local content id).
        ended: True for its final version.
    """

    name: str
    playlist_cid: str
    ended: bool


VariantCallback = Callable[[VariantUpdate], Awaitable[None]]


@dataclass(slots=True)
class _Rung:
    name: str
    output: LocalHLSOutput
    meter: VariantMeter
    video: VideoFormat | None = None
    source: int = 0  # index of the rung whose frame it is scaled from (0: the rendered frame)
    scaler: FrameScaler | None = None
    pool: ThreadPoolExecutor | None = None
    pending: Future[None] | None = None
    probe_codecs: str | None = None
    size: tuple[int, int] = (0, 0)
    ipfs_cid: str | None = None
    ended: bool = False


class LadderOutput:
    """FrameSink writing the top output and every lower rung, plus the multivariant playlist.

    Args:
        top: The run's ordinary output (the top rung, unchanged).
        rungs: Lower rungs as configured; only those below the output height are used.
        make_output: Builds a lower rung's output from its options.
        store: Where the multivariant playlist is added (the IPFS output's store), or ``None``.
        mirrors: Destinations that get every multivariant playlist rewrite (S3).
        on_variant_update: Awaited after each lower-rung media playlist and each
            multivariant playlist is published (failures counted, not raised).
        concurrent: Scale and encode the lower rungs in their own threads (the
            default); ``False`` does it all in the pipeline thread (bench/ladder.py
            compares the two).
    """

    def __init__(
        self,
        top: LocalHLSOutput,
        rungs: Sequence[RungSpec],
        make_output: OutputFactory,
        *,
        store: SegmentStore | None = None,
        mirrors: Sequence[SegmentMirror] = (),
        on_variant_update: VariantCallback | None = None,
        concurrent: bool = True,
    ) -> None:
        self.top = top
        self._concurrent = concurrent
        self.options = top.options
        self.stats = top.stats
        self._specs = tuple(rungs)
        self._make_output = make_output
        self._store = store
        self._mirrors = [MirrorUploader(m, top.options, "master mirror") for m in mirrors]
        self._on_variant = on_variant_update
        self._rungs: list[_Rung] = []
        self._video = VideoFormat(2, 2)
        self._master: MultivariantPlaylist | None = None
        self._dirty = asyncio.Event()
        self._publisher: asyncio.Task[None] | None = None
        self._last_local = ""
        self._last_ipfs = ""
        self.master_cid: str | None = None
        """CID of the newest multivariant playlist on IPFS (``None`` without IPFS)."""
        self.callback_failures = 0

    @property
    def master_path(self) -> Path:
        """The local multivariant playlist (exists once every rung listed a segment)."""
        return self.top.directory / MASTER_NAME

    @property
    def outputs(self) -> tuple[LocalHLSOutput, ...]:
        """Every rung's output, top first (only the top's without lower rungs)."""
        return tuple(r.output for r in self._rungs) or (self.top,)

    @property
    def rung_names(self) -> tuple[str, ...]:
        """Media playlist names, top first (only the top's without lower rungs)."""
        return tuple(r.name for r in self._rungs)

    # -- FrameSink ------------------------------------------------------------------

    async def start(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        on_playlist_update: UpdateCallback | None = None,
    ) -> None:
        """Start the top output and, when the output is tall enough, every lower rung."""
        sizes = rung_sizes(video, self._specs)
        if not sizes:  # a plain single-rendition run
            await self.top.start(video, audio, on_playlist_update)
            return
        self._video = video
        top = _Rung(self.top.options.playlist_name, self.top, VariantMeter())
        self._rungs = [top]
        await self.top.start(video, audio, self._forwarding(top, on_playlist_update))
        sources = scale_sources(
            (video.width, video.height), [(s.video.width, s.video.height) for s in sizes]
        )
        try:
            for size, source in zip(sizes, sources, strict=True):
                await self._start_rung(size, audio, source)
        except BaseException:
            await self.abort()
            raise
        self._master = MultivariantPlaylist(self.rung_names)
        for uploader in self._mirrors:
            uploader.start()
        self._publisher = asyncio.create_task(self._publish_loop(), name="hls-ladder-master")

    async def _start_rung(self, size: RungSize, audio: AudioFormat | None, source: int) -> None:
        spec = size.spec
        options = replace(
            self.top.options,
            playlist_name=rung_playlist_name(spec),
            # a rate is a cap on the top's CRF (capped CRF), not a target: a rung never
            # spends more bits than the picture needs, so it stays below the rungs above it
            video_bitrate=None,
            video_maxrate=spec.video_bitrate,
            crf=self.top.options.crf if spec.video_bitrate is not None else spec.crf,
            # Low-Latency HLS parts are the top rung's alone: the origin answers blocking
            # reloads on playlist.m3u8 only, and the lower rungs' playlists are standard HLS
            part_duration=0.0,
        )
        rung = _Rung(options.playlist_name, self._make_output(options), VariantMeter())
        rung.video = size.video
        rung.source = source
        src = self._rungs[source].video or self._video
        rung.scaler = FrameScaler(src.width, src.height, size.video.width, size.video.height)
        rung.pool = ThreadPoolExecutor(1, thread_name_prefix=f"hls-rung-{spec.name}")
        self._rungs.append(rung)
        await rung.output.start(size.video, audio, self._forwarding(rung, None))

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        """Hand the frame to each lower rung's thread, then encode the top rung here."""
        if not self._concurrent:
            self.top.write(frame, audio)
            frames = [frame]
            for rung in self._rungs[1:]:
                frames.append(self._scale(rung, frames[rung.source]))
                self._encode_rung(rung, frames[-1], audio)
            return
        # each rung's scaled frame, as a future its own thread completes first
        sources: list[YUVFrame | Future[YUVFrame]] = [frame]
        for rung in self._rungs[1:]:
            if rung.pending is not None:
                rung.pending.result()  # a rung's failure stops the render like the top's
            assert rung.pool is not None
            scaled = rung.pool.submit(self._scale, rung, sources[rung.source])
            sources.append(scaled)
            # same one-thread pool: the encode runs after its scale, in order
            rung.pending = rung.pool.submit(self._encode_rung, rung, scaled, audio)
        self.top.write(frame, audio)

    @staticmethod
    def _scale(rung: _Rung, source: YUVFrame | Future[YUVFrame]) -> YUVFrame:
        assert rung.scaler is not None
        # a rung above this one (its own thread) may still be scaling the source
        frame = source.result() if isinstance(source, Future) else source
        return rung.scaler.scale(frame)

    @staticmethod
    def _encode_rung(
        rung: _Rung, scaled: YUVFrame | Future[YUVFrame], audio: np.ndarray | None
    ) -> None:
        rung.output.write(scaled.result() if isinstance(scaled, Future) else scaled, audio)

    async def finish(self) -> HLSResult:
        """Finish every rung (concurrently), then write the final multivariant playlist."""
        if not self._rungs:
            return await self.top.finish()
        try:
            await asyncio.to_thread(self._drain)
        except BaseException:
            await self.abort()
            raise
        # every rung finishes (ends its playlist) even when another fails
        results = await asyncio.gather(
            *(r.output.finish() for r in self._rungs), return_exceptions=True
        )
        self._stop_pools()
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            await self._stop_publisher()
            raise failed
        top = results[0]
        assert isinstance(top, HLSResult)
        await self._stop_publisher()
        await self._publish(final=True)
        await asyncio.gather(*(u.finish(self.options.finish_timeout) for u in self._mirrors))
        return top

    async def abort(self) -> None:
        """Abort every rung (each ends its playlist); the multivariant playlist stays as is."""
        if self._rungs:
            for rung in self._rungs[1:]:
                if rung.pending is not None:
                    rung.pending.cancel()
            await asyncio.gather(*(r.output.abort() for r in self._rungs), return_exceptions=True)
            self._stop_pools()
            await self._stop_publisher()
            for uploader in self._mirrors:
                await uploader.abort()
        else:
            await self.top.abort()

    # -- internals -------------------------------------------------------------------

    def _drain(self) -> None:
        for rung in self._rungs[1:]:
            if rung.pending is not None:
                rung.pending.result()
                rung.pending = None

    def _stop_pools(self) -> None:
        for rung in self._rungs:
            if rung.pool is not None:
                rung.pool.shutdown(wait=False, cancel_futures=True)

    async def _stop_publisher(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
            self._publisher = None

    def _forwarding(self, rung: _Rung, then: UpdateCallback | None) -> UpdateCallback:
        async def on_update(update: PlaylistUpdate) -> None:
            try:
                await self._measure(rung, update)
            except (HLSError, OSError):
                self.callback_failures += 1
                log.exception("ladder: measuring %s failed", rung.name)
            rung.ended = update.ended
            if self._store is not None:
                rung.ipfs_cid = update.playlist_cid
            self._dirty.set()
            if rung.output is not self.top:
                await self._notify(VariantUpdate(rung.name, update.playlist_cid, update.ended))
            if then is not None:
                await then(update)

        return on_update

    async def _measure(self, rung: _Rung, update: PlaylistUpdate) -> None:
        out = rung.output
        segments = out.playlist.segments
        init = out.playlist.init_uri
        while len(rung.meter.sizes) < min(update.segment_count, len(segments)):
            seg = segments[len(rung.meter.sizes)]
            path, init_path = out.directory / seg.uri, (out.directory / init if init else None)
            data = await asyncio.to_thread(path.read_bytes)
            init_data = await asyncio.to_thread(init_path.read_bytes) if init_path else None
            probe = await asyncio.to_thread(probe_segment, data, init_data)
            rung.meter.add(len(data), seg.duration, probe.frames)
            rung.probe_codecs, rung.size = probe.codecs, (probe.width, probe.height)

    def _variant(self, rung: _Rung) -> VariantInfo | None:
        m = rung.meter
        if not m.sizes or rung.probe_codecs is None:
            return None
        return VariantInfo(
            rung.name,
            rung.size[0],
            rung.size[1],
            rung.probe_codecs,
            m.frame_rate,
            round(m.peak),
            round(m.average),
        )

    async def _publish_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._publish(final=False)
            except asyncio.CancelledError:
                raise
            except Exception:  # the next update publishes again
                log.exception("ladder: multivariant playlist not published")

    async def _publish(self, final: bool) -> None:
        master = self._master
        if master is None:
            return
        for rung in self._rungs:
            if (variant := self._variant(rung)) is not None:
                master.set(variant)
        if not master.complete:
            return
        text = master.render()
        if text != self._last_local:
            await asyncio.to_thread(atomic_write, self.master_path, text.encode())
            self._last_local = text
            for uploader in self._mirrors:
                uploader.put_playlist(MASTER_NAME, text)
        if self._store is None or any(r.ipfs_cid is None for r in self._rungs):
            return
        cids = {r.name: r.ipfs_cid for r in self._rungs}
        ipfs_text = master.render(lambda name: f"/ipfs/{cids[name]}?filename={name}")
        ended = final and all(r.ended for r in self._rungs)
        if ipfs_text == self._last_ipfs and not ended:
            return
        try:
            cid = await asyncio.wait_for(
                self._store.add_bytes(ipfs_text.encode(), pin=True), self.options.upload_timeout
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # superseded by the next version
            log.warning("ladder: IPFS add of the multivariant playlist failed: %r", exc)
            return
        self._last_ipfs = ipfs_text
        self.master_cid = cid
        await self._notify(VariantUpdate(MASTER_NAME, cid, ended))

    async def _notify(self, update: VariantUpdate) -> None:
        if self._on_variant is None:
            return
        try:
            await self._on_variant(update)
        except Exception:
            self.callback_failures += 1
            log.exception("on_variant_update failed for %s", update.name)
