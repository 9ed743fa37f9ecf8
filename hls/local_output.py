"""FrameSink that publishes live HLS as local files (the base of the IPFS output).

Threading model: ``write()`` runs in the interpreter's pipeline thread and
encodes there (x264 releases the GIL). Finished segments cross to the event
loop through ONE bounded queue; a single writer task owns the stream state:
it writes each segment file (atomic rename, in a thread), appends it to the
playlist model and rewrites the playlist atomically, so a playlist never
lists a segment that is not completely on disk. A write that fails (a full
disk: :class:`hls.errors.OutputWriteError` naming the file and folder) leaves
no partial file, stops the stream (``write()``/``finish()`` raise) and the
playlist ends with the segments already complete. A full queue blocks
``write()`` (backpressure) and is counted, never dropped.

With ``options.part_duration`` (Low-Latency HLS) the writer also writes each
part as it is encoded, then the local playlist with its parts
(:class:`hls.ll_playlist.LowLatencyParts`); mirrors, IPFS and callbacks get the
standard playlist, the ended playlist is standard and the part files go.

``mirrors`` (:class:`hls.mirror.SegmentMirror`, e.g. S3) each get the init
segment, every segment and every local playlist rewrite, in order, through
their own :class:`hls.mirror.MirrorUploader`; ``finish()`` waits for them
within ``finish_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.encoder import EncodedPart, EncodedSegment, SegmentEncoder, in_stream_order
from hls.errors import HLSError, OutputStateError, OutputWriteError
from hls.ll_playlist import LowLatencyParts
from hls.mirror import MirrorUploader, SegmentMirror
from hls.options import HLSOptions
from hls.output_reports import HLSResult, OutputStats, PlaylistUpdate, UpdateCallback
from hls.playlist import MediaPlaylist, Segment
from hls.segment_files import CidFn, WrittenSegment, atomic_write

__all__ = ["ABORT_MIRROR_GRACE", "LocalHLSOutput"]

log = logging.getLogger(__name__)

#: Seconds ``abort()`` lets mirrors take the ended playlist (and their backlog).
ABORT_MIRROR_GRACE = 5.0

_State = Literal["new", "running", "finishing", "finished", "failed", "aborted"]


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
        # None marks the end of the stream.
        self._queue: asyncio.Queue[EncodedSegment | EncodedPart | None] | None = None
        # Low-latency HLS (options.part_duration): the local playlist lists parts.
        self._ll: LowLatencyParts | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.Task[None] | None = None
        self._written: list[WrittenSegment] = []
        self._callback: UpdateCallback | None = None
        self._state: _State = "new"
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
        if self._encoder.part_target is not None:
            self._ll = LowLatencyParts(self._encoder.part_target, secrets.token_hex(4))
        if self._encoder.init_segment is not None:
            init = self._encoder.init_segment
            name = self.cid_fn(init) + ".mp4"
            await asyncio.to_thread(atomic_write, self.directory / name, init)
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
        for item in in_stream_order(self._encoder.take_parts(), segments):
            self._hand_over(item)

    async def finish(self) -> HLSResult:
        """Flush the encoder, write the last segment and the ENDLIST playlist."""
        if self._state != "running" or self._encoder is None or self._queue is None:
            raise OutputStateError(f"finish() called in state {self._state!r}")
        self._state = "finishing"
        segments = await asyncio.to_thread(self._encoder.flush)
        for item in in_stream_order(self._encoder.take_parts(), segments):
            await self._put(item)
        await self._queue.put(None)
        assert self._writer is not None
        await self._writer
        if self._error is not None:
            await self._fail()
            raise HLSError(f"HLS writer failed: {self._error}") from self._error
        self.playlist.end()
        text = self.playlist.render()
        try:
            await asyncio.to_thread(atomic_write, self.playlist_path, text.encode())
        except OutputWriteError as exc:  # the playlist on disk still lists complete segments
            await self._fail()
            raise HLSError(f"HLS writer failed: {exc}") from exc
        self._state = "finished"
        await self._drop_parts()
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
            await self._end_aborted_playlist(self._playlist)
        for uploader in self._mirrors:
            await uploader.abort()

    # -- internals -------------------------------------------------------------------

    async def _fail(self) -> None:
        """finish() could not write everything: end the playlist (if it still can be
        written) with the segments that are complete, stop the uploads."""
        self._state = "failed"
        await self._abort_extra()
        if self._playlist is not None and not self._playlist.ended:
            await self._end_aborted_playlist(self._playlist)
        for uploader in self._mirrors:
            await uploader.abort()

    async def _end_aborted_playlist(self, playlist: MediaPlaylist) -> None:
        playlist.end()
        text = playlist.render()
        with contextlib.suppress(OSError):
            await asyncio.to_thread(atomic_write, self.playlist_path, text.encode())
        await self._drop_parts()
        if self._mirrors:
            # The writer may have been cancelled between listing a segment and
            # queueing it: queue what is missing so the mirror's playlist has no gap.
            for seg in playlist.segments:
                if seg.uri not in self._mirrored:
                    self._mirror_file(seg.uri, self.directory / seg.uri)
            self._mirror_playlist(text)
            grace = min(self.options.finish_timeout, ABORT_MIRROR_GRACE)
            await asyncio.gather(*(u.finish(grace) for u in self._mirrors))

    def _hand_over(self, seg: EncodedSegment | EncodedPart) -> None:
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

    async def _put(self, seg: EncodedSegment | EncodedPart) -> None:
        assert self._queue is not None
        if self._state == "aborted":
            return  # nobody will write it; never block the pipeline thread
        await self._queue.put(seg)
        self.stats.queue_high_water = max(self.stats.queue_high_water, self._queue.qsize())

    async def _write_loop(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                if isinstance(item, EncodedPart):
                    await self._store_part(item)
                else:
                    await self._store_segment(item)
            except Exception as exc:  # surfaced to write()/finish()
                log.exception("HLS writer failed on segment %s", item.index)
                self._error = exc
                # Keep draining so the pipeline thread never blocks forever.
                while (await self._queue.get()) is not None:
                    pass
                return

    async def _store_segment(self, seg: EncodedSegment) -> None:
        assert self._loop is not None
        cid, path = await asyncio.to_thread(self._save, seg)
        entry = Segment(
            uri=path.name, duration=seg.duration, index=seg.index, start_time=seg.start_time
        )
        self.playlist.add(entry)
        text = self.playlist.render()  # standard HLS: mirrors, IPFS, callbacks
        local = text if self._ll is None else self._ll.render(self.playlist)
        await asyncio.to_thread(atomic_write, self.playlist_path, local.encode())
        if self._ll is not None:
            await asyncio.to_thread(self._unlink, self._ll.prune(len(self.playlist.segments)))
        self.stats.segments_local += 1
        if self.stats.first_segment_seconds is None:
            self.stats.first_segment_seconds = self._loop.time() - self._t0
        written = WrittenSegment(entry, cid, path)
        self._written.append(written)
        self._mirror_file(path.name, path)
        self._mirror_playlist(text)
        await self._on_segment(written, text)

    async def _store_part(self, part: EncodedPart) -> None:
        """Write a partial segment, then the local playlist that lists it (LL-HLS)."""
        assert self._ll is not None
        entry = self._ll.add(part.segment, part.index, part.duration, part.independent, part.last)
        await asyncio.to_thread(atomic_write, self.directory / entry.uri, part.data)
        text = self._ll.render(self.playlist)
        await asyncio.to_thread(atomic_write, self.playlist_path, text.encode())
        self.stats.parts_local += 1

    async def _drop_parts(self) -> None:
        """The stream ended: its playlist lists segments only, the part files go."""
        if self._ll is not None:
            await asyncio.to_thread(self._unlink, self._ll.prune(None))

    def _unlink(self, names: list[str]) -> None:
        for name in names:
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()

    def _save(self, seg: EncodedSegment) -> tuple[str, Path]:
        cid = self.cid_fn(seg.data)
        path = self.directory / f"{cid}{seg.extension}"
        atomic_write(path, seg.data)
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

    # -- hooks overridden by IPFSHLSOutput ---------------------------------------------

    async def _on_init(self, name: str, path: Path) -> None:
        return None

    async def _on_segment(self, written: WrittenSegment, playlist_text: str) -> None:
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
