"""FrameSinks that publish live HLS: local files, and local files plus IPFS.

Threading model: ``write()`` runs in the interpreter's pipeline thread and
encodes there (x264 releases the GIL). Finished segments cross to the event
loop through ONE bounded queue; a single writer task owns the stream state:
it writes each segment file (atomic rename, in a thread), appends it to the
playlist model and rewrites the playlist atomically, so a playlist never
lists a segment that is not completely on disk. A full queue blocks
``write()`` (backpressure) and is counted, never dropped.

:class:`IPFSHLSOutput` adds an uploader task: segments are added to IPFS in
order with per-call timeouts and capped exponential backoff. The IPFS
playlist lists only the uploaded prefix (never a gap) and catches up when
the node comes back; a slow or dead node never stalls the render.

Both take ``mirrors`` (:class:`hls.mirror.SegmentMirror`, e.g. S3): each gets
the init segment, every segment and every local playlist rewrite, in order,
through its own :class:`hls.mirror.MirrorUploader` (same never-stall and
retry rules); ``finish()`` waits for them within ``finish_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.encoder import EncodedSegment, SegmentEncoder
from hls.errors import HLSError, OutputStateError
from hls.mirror import MirrorStats, MirrorUploader, SegmentMirror
from hls.options import HLSOptions
from hls.playlist import MediaPlaylist, Segment

__all__ = [
    "ABORT_MIRROR_GRACE",
    "HLSResult",
    "IPFSHLSOutput",
    "LocalHLSOutput",
    "OutputStats",
    "PlaylistUpdate",
    "SegmentStore",
    "sha256_cid",
]

log = logging.getLogger(__name__)

CidFn = Callable[[bytes], str]
UpdateCallback = Callable[[Any], Awaitable[None]]


def sha256_cid(data: bytes) -> str:
    """Hex sha256, a stand-in content id for tests (production passes an IPFS CID function)."""
    return hashlib.sha256(data).hexdigest()


class SegmentStore(Protocol):
    """Where IPFSHLSOutput publishes bytes (``cache.ipfs.IPFSStore`` matches)."""

    async def add_bytes(self, data: bytes, *, pin: bool = True) -> str:
        """Add ``data`` and return its CID."""
        ...


@dataclass(frozen=True, slots=True)
class PlaylistUpdate:
    """Sent to ``on_playlist_update`` after each published playlist.

    Attributes:
        playlist_cid: CID of the playlist just published (local: ``cid_fn`` of its text).
        segment_cid: CID of the newest listed segment.
        index: Index of that segment.
        duration: Its duration in seconds.
        segment_count: Segments the playlist lists.
        ended: True for the final playlist (with EXT-X-ENDLIST).
    """

    playlist_cid: str
    segment_cid: str
    index: int
    duration: float
    segment_count: int
    ended: bool


@dataclass(slots=True)
class OutputStats:
    """Counters for monitoring; slow consumers show up here, not as stalls."""

    frames: int = 0
    segments_local: int = 0
    segments_uploaded: int = 0
    upload_failures: int = 0
    playlist_upload_failures: int = 0
    callback_failures: int = 0
    queue_high_water: int = 0
    backpressure_waits: int = 0
    upload_backlog_high_water: int = 0
    first_segment_seconds: float | None = None
    mirrors: tuple[MirrorStats, ...] = ()


@dataclass(frozen=True, slots=True)
class HLSResult:
    """What ``finish()`` returns.

    Attributes:
        playlist_path: The local playlist file.
        segments: Every segment in order.
        duration: Total duration in seconds.
        stats: Final counters.
        ipfs_playlist_cid: CID of the final IPFS playlist (IPFS output, all uploaded).
        ipfs_complete: True when every segment reached IPFS before the timeout.
        mirrors_complete: Per mirror, True when every file (and the final
            playlist) reached it before the timeout.
    """

    playlist_path: Path
    segments: tuple[Segment, ...]
    duration: float
    stats: OutputStats
    ipfs_playlist_cid: str | None = None
    ipfs_complete: bool = False
    mirrors_complete: tuple[bool, ...] = ()


@dataclass(slots=True)
class _Written:
    segment: Segment
    cid: str
    path: Path
    extra: dict[str, Any] = field(default_factory=dict)


_END = object()

#: Seconds ``abort()`` lets mirrors take the ended playlist (and their backlog).
ABORT_MIRROR_GRACE = 5.0


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class LocalHLSOutput:
    """FrameSink writing a live EVENT playlist and content-named segments to a directory.

    Args:
        directory: Output directory (created if missing).
        options: Encoding and queue options.
        cid_fn: Content id of a segment's bytes; file names are ``<cid><ext>``.
        mirrors: Extra destinations fed every file as it is written locally.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        options: HLSOptions,
        cid_fn: CidFn,
        *,
        mirrors: Sequence[SegmentMirror] = (),
    ) -> None:
        self.directory = Path(directory)
        self.options = options
        self.cid_fn = cid_fn
        self.stats = OutputStats()
        self._encoder: SegmentEncoder | None = None
        self._playlist: MediaPlaylist | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.Task[None] | None = None
        self._written: list[_Written] = []
        self._callback: UpdateCallback | None = None
        self._state = "new"
        self._t0 = 0.0
        self._error: BaseException | None = None
        self._mirrors = [
            MirrorUploader(m, options, f"mirror {i} ({type(m).__name__})")
            for i, m in enumerate(mirrors)
        ]
        self.stats.mirrors = tuple(u.stats for u in self._mirrors)
        self._mirrored: set[str] = set()

    @property
    def playlist_path(self) -> Path:
        """The local playlist file."""
        return self.directory / self.options.playlist_name

    @property
    def playlist(self) -> MediaPlaylist:
        """The live playlist model."""
        if self._playlist is None:
            raise OutputStateError("output not started")
        return self._playlist

    # -- FrameSink ------------------------------------------------------------------

    async def start(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        on_playlist_update: UpdateCallback | None = None,
    ) -> None:
        """Open the encoders and the writer task."""
        if self._state != "new":
            raise OutputStateError(f"start() called in state {self._state!r}")
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        if on_playlist_update is not None:
            self._callback = on_playlist_update
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        self._encoder = await asyncio.to_thread(SegmentEncoder, video, audio, self.options)
        for uploader in self._mirrors:
            uploader.start()
        self._playlist = MediaPlaylist(self._encoder.max_segment_duration, datetime.now(UTC))
        if self._encoder.init_segment is not None:
            init = self._encoder.init_segment
            name = self.cid_fn(init) + ".mp4"
            await asyncio.to_thread(_atomic_write, self.directory / name, init)
            self._playlist.set_init_uri(name)
            self._mirror_file(name, self.directory / name)
            await self._on_init(name, self.directory / name)
        self._queue = asyncio.Queue(self.options.queue_size)
        self._writer = asyncio.create_task(self._write_loop(), name="hls-writer")
        self._state = "running"

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        """Encode one frame in the calling (pipeline) thread; blocks only on backpressure.

        Raises:
            OutputStateError: Not started, already finished, or called on the loop thread.
            HLSError: The writer task failed (e.g. disk full); the render should stop.
        """
        if self._state != "running" or self._encoder is None or self._loop is None:
            raise OutputStateError(f"write() called in state {self._state!r}")
        if self._error is not None:
            raise HLSError(f"HLS writer failed: {self._error}") from self._error
        segments = self._encoder.write(frame, audio)
        self.stats.frames += 1
        for seg in segments:
            self._hand_over(seg)

    async def finish(self) -> HLSResult:
        """Flush the encoder, write the last segment and the ENDLIST playlist."""
        if self._state != "running" or self._encoder is None or self._queue is None:
            raise OutputStateError(f"finish() called in state {self._state!r}")
        self._state = "finishing"
        segments = await asyncio.to_thread(self._encoder.flush)
        for seg in segments:
            await self._put(seg)
        await self._queue.put(_END)
        assert self._writer is not None
        await self._writer
        if self._error is not None:
            self._state = "failed"
            for uploader in self._mirrors:
                await uploader.abort()
            raise HLSError(f"HLS writer failed: {self._error}") from self._error
        self.playlist.end()
        text = self.playlist.render()
        await asyncio.to_thread(_atomic_write, self.playlist_path, text.encode())
        self._state = "finished"
        self._mirror_playlist(text)
        # Mirrors drain while IPFS finishes; both within finish_timeout.
        mirrors = asyncio.gather(*(u.finish(self.options.finish_timeout) for u in self._mirrors))
        result = await self._finish_extra(text)
        return replace(result, mirrors_complete=tuple(await mirrors))

    async def abort(self) -> None:
        """Stop now: drop queued segments, close the encoder, end the playlist.

        Segments already written stay listed and the playlist gets EXT-X-ENDLIST
        so players stop waiting for a stream that will not grow; mirrors get that
        playlist too, within ``min(finish_timeout, ABORT_MIRROR_GRACE)`` seconds.
        """
        if self._state in ("aborted", "new"):
            self._state = "aborted"
            return
        self._state = "aborted"
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
        if self._queue is not None:
            # Free the slots so a pipeline thread blocked on backpressure returns.
            while not self._queue.empty():
                self._queue.get_nowait()
        if self._encoder is not None:
            await asyncio.to_thread(self._encoder.close)
        await self._abort_extra()
        if self._playlist is not None and not self._playlist.ended:
            self._playlist.end()
            text = self._playlist.render()
            with contextlib.suppress(OSError):
                await asyncio.to_thread(_atomic_write, self.playlist_path, text.encode())
            if self._mirrors:
                # The writer may have been cancelled between listing a segment and
                # queueing it: queue what is missing so the mirror's playlist has no gap.
                for seg in self._playlist.segments:
                    if seg.uri not in self._mirrored:
                        self._mirror_file(seg.uri, self.directory / seg.uri)
                self._mirror_playlist(text)
                grace = min(self.options.finish_timeout, ABORT_MIRROR_GRACE)
                await asyncio.gather(*(u.finish(grace) for u in self._mirrors))
        for uploader in self._mirrors:
            await uploader.abort()

    # -- internals -------------------------------------------------------------------

    def _hand_over(self, seg: EncodedSegment) -> None:
        assert self._loop is not None and self._queue is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise OutputStateError("write() must run in the pipeline thread, not the event loop")
        if self._queue.full():
            self.stats.backpressure_waits += 1
        asyncio.run_coroutine_threadsafe(self._put(seg), self._loop).result()

    async def _put(self, seg: EncodedSegment) -> None:
        assert self._queue is not None
        if self._state == "aborted":
            return  # nobody will write it; never block the pipeline thread
        await self._queue.put(seg)
        self.stats.queue_high_water = max(self.stats.queue_high_water, self._queue.qsize())

    async def _write_loop(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            try:
                await self._store_segment(item)
            except Exception as exc:  # surfaced to write()/finish()
                log.exception("HLS writer failed on segment %s", item.index)
                self._error = exc
                # Keep draining so the pipeline thread never blocks forever.
                while (await self._queue.get()) is not _END:
                    pass
                return

    async def _store_segment(self, seg: EncodedSegment) -> None:
        assert self._loop is not None
        cid, path = await asyncio.to_thread(self._save, seg)
        entry = Segment(
            uri=path.name, duration=seg.duration, index=seg.index, start_time=seg.start_time
        )
        self.playlist.add(entry)
        text = self.playlist.render()
        await asyncio.to_thread(_atomic_write, self.playlist_path, text.encode())
        self.stats.segments_local += 1
        if self.stats.first_segment_seconds is None:
            self.stats.first_segment_seconds = self._loop.time() - self._t0
        written = _Written(entry, cid, path)
        self._written.append(written)
        self._mirror_file(path.name, path)
        self._mirror_playlist(text)
        await self._on_segment(written, text)

    def _save(self, seg: EncodedSegment) -> tuple[str, Path]:
        cid = self.cid_fn(seg.data)
        path = self.directory / f"{cid}{seg.extension}"
        _atomic_write(path, seg.data)
        return cid, path

    def _mirror_file(self, name: str, path: Path) -> None:
        self._mirrored.add(name)
        for uploader in self._mirrors:
            uploader.put_file(name, path)

    def _mirror_playlist(self, text: str) -> None:
        for uploader in self._mirrors:
            uploader.put_playlist(self.options.playlist_name, text)

    async def _notify(self, update: PlaylistUpdate) -> None:
        if self._callback is None:
            return
        try:
            await self._callback(update)
        except Exception:
            self.stats.callback_failures += 1
            log.exception("on_playlist_update failed for segment %s", update.index)

    # Hooks for IPFSHLSOutput.
    async def _on_init(self, name: str, path: Path) -> None:
        return None

    async def _on_segment(self, written: _Written, playlist_text: str) -> None:
        last = written.segment
        pl_cid = await asyncio.to_thread(self.cid_fn, playlist_text.encode())
        await self._notify(
            PlaylistUpdate(pl_cid, written.cid, last.index, last.duration, last.index + 1, False)
        )

    async def _finish_extra(self, text: str) -> HLSResult:
        if self._written:
            last = self._written[-1]
            pl_cid = await asyncio.to_thread(self.cid_fn, text.encode())
            await self._notify(
                PlaylistUpdate(
                    pl_cid,
                    last.cid,
                    last.segment.index,
                    last.segment.duration,
                    len(self._written),
                    True,
                )
            )
        return HLSResult(
            self.playlist_path, self.playlist.segments, self.playlist.duration, self.stats
        )

    async def _abort_extra(self) -> None:
        return None


class IPFSHLSOutput(LocalHLSOutput):
    """LocalHLSOutput that also publishes every segment and playlist to IPFS as produced.

    Args:
        store: Where to add bytes (``add_bytes(data, pin=True) -> cid``).
        directory: Local output directory (segments stay here whatever IPFS does).
        options: Encoding, queue, upload timeout/backoff options.
        cid_fn: Content id function for local names (the IPFS CID function in production).
        on_playlist_update: Awaited after each IPFS playlist is added; ``start()``'s
            argument overrides it when given.
        mirrors: Extra destinations fed every local file (see LocalHLSOutput).
    """

    def __init__(
        self,
        store: SegmentStore,
        directory: str | os.PathLike[str],
        options: HLSOptions,
        cid_fn: CidFn,
        on_playlist_update: UpdateCallback | None = None,
        *,
        mirrors: Sequence[SegmentMirror] = (),
    ) -> None:
        super().__init__(directory, options, cid_fn, mirrors=mirrors)
        self.store = store
        self._callback = on_playlist_update
        self._uploads: asyncio.Queue[Any] = asyncio.Queue()
        self._uploader: asyncio.Task[None] | None = None
        self._ipfs_uri: dict[str, str] = {}
        self._ipfs_cid: dict[str, str] = {}
        self._uploaded = 0
        self._ipfs_playlist_cid: str | None = None
        self._final = False
        self._ended_published = False

    @property
    def ipfs_playlist_path(self) -> Path:
        """Local copy of the latest IPFS playlist (``<name>.ipfs.m3u8``)."""
        return self.directory / (self.options.playlist_name[: -len(".m3u8")] + ".ipfs.m3u8")

    async def start(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        on_playlist_update: UpdateCallback | None = None,
    ) -> None:
        """Start encoding, the local writer and the uploader."""
        self._uploader = asyncio.create_task(self._upload_loop(), name="hls-ipfs-uploader")
        try:
            await super().start(video, audio, on_playlist_update)
        except BaseException:
            self._uploader.cancel()
            raise

    async def _on_init(self, name: str, path: Path) -> None:
        self._enqueue(("init", name, path))

    async def _on_segment(self, written: _Written, playlist_text: str) -> None:
        self._enqueue(("segment", written.segment.uri, written))

    def _enqueue(self, item: Any) -> None:
        self._uploads.put_nowait(item)
        self.stats.upload_backlog_high_water = max(
            self.stats.upload_backlog_high_water, self._uploads.qsize()
        )

    async def _add_with_retry(self, data: bytes, what: str, forever: bool = True) -> str | None:
        delay = self.options.upload_retry_base
        while True:
            try:
                return await asyncio.wait_for(
                    self.store.add_bytes(data, pin=True), self.options.upload_timeout
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # store errors and timeouts alike
                if what == "playlist":
                    self.stats.playlist_upload_failures += 1
                else:
                    self.stats.upload_failures += 1
                log.warning("IPFS add of %s failed (%r); retrying in %.1f s", what, exc, delay)
                if not forever:
                    return None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.upload_retry_max)

    async def _upload_loop(self) -> None:
        while True:
            item = await self._uploads.get()
            if item is _END:
                return
            kind, name, payload = item
            path = payload if kind == "init" else payload.path
            data = await asyncio.to_thread(path.read_bytes)
            cid = await self._add_with_retry(data, name)
            assert cid is not None
            # ?filename= keeps an extension visible to clients that check it
            # (FFmpeg's allowed_segment_extensions); gateways ignore or honour it.
            self._ipfs_uri[name] = f"/ipfs/{cid}?filename={name}"
            if kind == "init":
                continue
            self._uploaded += 1
            self.stats.segments_uploaded += 1
            self._ipfs_cid[name] = cid
            await self._publish(
                payload, cid, ended=self._final and self._uploaded == len(self._written)
            )

    async def _publish(self, written: _Written, segment_cid: str, ended: bool) -> None:
        text = self.playlist.render(
            lambda name: self._ipfs_uri[name], count=self._uploaded, ended=ended
        )
        # A playlist add may fail; the next segment's playlist supersedes it.
        pl_cid = await self._add_with_retry(text.encode(), "playlist", forever=ended)
        if pl_cid is None:
            return
        self._ipfs_playlist_cid = pl_cid
        self._ended_published = ended
        await asyncio.to_thread(_atomic_write, self.ipfs_playlist_path, text.encode())
        seg = written.segment
        await self._notify(
            PlaylistUpdate(pl_cid, segment_cid, seg.index, seg.duration, self._uploaded, ended)
        )

    async def _finish_extra(self, text: str) -> HLSResult:
        self._final = True
        total = len(self._written)
        assert self._uploader is not None
        self._uploads.put_nowait(_END)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.finish_timeout
        try:
            await asyncio.wait_for(asyncio.shield(self._uploader), self.options.finish_timeout)
            if total and self._uploaded == total and not self._ended_published:
                # Everything went up before finish(): publish the ENDLIST version now.
                last = self._written[-1]
                await asyncio.wait_for(
                    self._publish(last, self._ipfs_cid[last.segment.uri], True),
                    max(0.0, deadline - loop.time()),
                )
        except TimeoutError:
            log.warning(
                "IPFS upload incomplete at finish: %d of %d segments", self._uploaded, total
            )
            self._uploader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._uploader
        complete = self._ended_published
        return HLSResult(
            self.playlist_path,
            self.playlist.segments,
            self.playlist.duration,
            self.stats,
            ipfs_playlist_cid=self._ipfs_playlist_cid if complete else None,
            ipfs_complete=complete,
        )

    async def _abort_extra(self) -> None:
        if self._uploader is not None:
            self._uploader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._uploader
