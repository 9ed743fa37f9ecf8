"""Media files as streams: PyAV decode, seek, scale and frame-rate conversion.

Video is decoded in its own thread into a small bounded queue (the decode
stage of the pipeline; PyAV releases the GIL while decoding and scaling).
Each output frame ``k`` shows the latest source frame whose timestamp is at
or before ``start + k / fps``: frames are dropped or repeated by timestamp,
never by counting. A file played to its end gives the output frames whose
start time lies inside its video (:func:`~interpreter.runtime.media.grid_frames`):
at the source's own rate exactly its frames. Times count from the first
video frame, for the audio too. Audio (``interpreter.runtime.audio_file``) is
decoded lazily in the reading thread, resampled to the output format (float32
planar) and trimmed to the sample.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from effects.frame import YUVFrame
from interpreter.runtime.audio_file import AudioReader
from interpreter.runtime.base import Chunk, Stream, Timing
from interpreter.runtime.clock import Clock
from interpreter.runtime.errors import Cancelled, SourceError
from interpreter.runtime.media import (
    GRID_EPS,
    Fit,
    MediaInfo,
    grid_frames,
    probe,
    scale_frame,
    video_format_of,
    video_stream,
)

# the media helpers and the audio reader have their own modules; their names stay importable here
__all__ = [
    "AudioReader",
    "FileSource",
    "Fit",
    "MediaInfo",
    "grid_frames",
    "probe",
    "scale_frame",
    "video_format_of",
]

_END = object()
_ONE_THREAD_PIXELS = 1920 * 1088  # decode up to 1080p in the decode thread alone


@dataclass(slots=True)
class _Pass:
    """One pass of the decode thread over the file.

    Attributes:
        base: The first output frame of the pass (grid times count from it).
        k: The next output frame.
        end: Where the pass's frames end, in file seconds (loops restart there).
        raw: The latest decoded frame, the one on show.
        shown: ``raw`` scaled to the output (None until needed).
    """

    base: int
    k: int
    end: float
    raw: av.VideoFrame | None = None
    shown: YUVFrame | None = None


class FileSource(Stream):
    """A media file (or a SEGMENT of it) on the output grid.

    Args:
        path: Media file.
        timing: Output timing (size, rate, audio format, cancel flag).
        start: Seconds into the file to start from (seeks).
        duration: Seconds to play (None: to the end of the file's video, or
            unbounded when ``loop``).
        fit: How to scale to the output size.
        loop: Start again at ``start`` at the end of the file.
        prefetch: Frames decoded ahead (the bounded queue to the next stage).
    """

    def __init__(
        self,
        path: Path,
        timing: Timing,
        *,
        start: float = 0.0,
        duration: float | None = None,
        fit: Fit = "fit",
        loop: bool = False,
        prefetch: int = 4,
    ) -> None:
        self.path = Path(path)
        self.timing = timing
        self.info = probe(self.path)
        if start < 0:
            raise SourceError(f"{path}: start {start} is negative")
        length = self.info.length
        if length and start >= length and not loop:
            raise SourceError(f"{path}: start {start:g} s is past the end ({length:.3f} s)")
        self.start = start
        self.fit: Fit = fit
        self.loop = loop
        self.has_video = self.info.has_video
        self.has_audio = self.info.has_audio and timing.audio is not None
        if duration is not None:
            self.frames: int | None = timing.frames_for(duration)
        elif loop:
            self.frames = None
        elif self.has_video:
            self.frames = grid_frames(length - start, timing.fps)
        else:
            self.frames = timing.frames_for(max(0.0, length - start))
        # The video's first frame is time 0 for the audio too (A/V offsets
        # kept), and a looping pass of the audio lasts as long as the video's.
        origin = self.info.video_start if self.has_video else None
        end = (
            Fraction(start) + Fraction(grid_frames(length - start, timing.fps)) / timing.video.rate
            if self.has_video
            else None
        )
        self._audio = (
            AudioReader(self.path, timing.audio, start, loop, origin=origin, end=end)
            if self.has_audio and timing.audio
            else None
        )
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, prefetch))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._last: YUVFrame | None = None
        self._first = 0  # output frame the decode thread starts at (a skip seeks past more)
        self._start_decoder()

    def _start_decoder(self) -> None:
        if self.has_video:
            self._thread = threading.Thread(
                target=self._decode, name=f"decode:{self.path.name}", daemon=True
            )
            self._thread.start()

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Before the first read of a file played once: seek (decode restarts there).

        Otherwise (a loop, or frames already read) frames are read and dropped.
        """
        if self.loop or self._last is not None:
            super().skip(clock, first, sizes)
            return
        if self._audio is not None:
            self._audio.skip(sum(sizes))
        if self._thread is None:
            return
        self._stop_decoder()
        self._first += len(sizes)
        if self.frames is not None and self._first >= self.frames:
            self._first = self.frames - 1  # past the end: the last frame is held
        self._error = None
        self._stop.clear()
        self._start_decoder()

    # -- decode thread -------------------------------------------------
    def _put(self, item: object) -> bool:
        while not self._stop.is_set() and not self.timing.cancel.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self) -> None:
        try:
            self._decode_loop()
        except BaseException as e:  # handed to the reader, re-raised there
            self._error = e
        finally:
            self._put(_END)

    def _decode_loop(self) -> None:
        # a skip starts the (single) pass part-way: grid times still count from 0
        base, k = 0, self._first
        while self._wants(k):
            p = _Pass(base=base, k=k, end=max(self.start, self.info.video_duration))
            if not self._decode_pass(p):
                return
            if p.raw is None:
                raise SourceError(f"{self.path}: no video frames at or after {self.start:g} s")
            if p.shown is None:
                p.shown = self._scale(p.raw)
            if not self.loop:
                # past the last frame: hold it for the remaining grid points
                if self.frames is not None:
                    self._show_until(p, None, p.raw)
                return
            if not self._show_until(p, p.end, p.raw):
                return
            if p.k == p.base:
                raise SourceError(f"{self.path}: nothing to loop after {self.start:g} s")
            base = k = p.k

    def _wants(self, k: int) -> bool:
        """Whether output frame ``k`` is still to be produced."""
        return self.frames is None or k < self.frames

    def _scale(self, frame: av.VideoFrame) -> YUVFrame:
        vf = self.timing.video
        return scale_frame(frame, vf.width, vf.height, self.fit, self.info.sar, vf.sar)

    def _decode_pass(self, p: _Pass) -> bool:
        """Decode the file once from ``start``, queueing a frame per grid point passed.

        Returns False when the run is over (enough frames, stopped or cancelled).
        """
        with av.open(str(self.path), metadata_errors="replace") as c:
            s = video_stream(c)
            if s is None:
                raise SourceError(f"{self.path}: no video stream")
            s.thread_type = "AUTO"
            if s.codec_context.width * s.codec_context.height <= _ONE_THREAD_PIXELS:
                # This thread is already a pipeline stage beside the effects
                # and encoder threads: frame threads would add CPU and
                # start-up delay (one frame per thread) for no throughput.
                s.codec_context.thread_count = 1
            tb = s.time_base or Fraction(1, 1)
            t0 = self.info.video_start
            step = 1.0 / float(self.info.rate) if self.info.rate else 0.0
            at = self.start + (p.k - p.base) / self.timing.video.fps
            if at > 0:
                c.seek(int((at + t0) / tb), stream=s, backward=True)
            for f in c.decode(s):
                if f.pts is None:
                    continue
                ft = float(f.pts * tb) - t0
                # every grid time before this frame shows the previous frame
                if not self._show_until(p, ft, f):
                    return False
                if not self._wants(p.k):
                    return False
                if self._stop.is_set() or self.timing.cancel.is_set():
                    return False
                p.raw, p.shown = f, None
                p.end = max(p.end, ft + (float(f.duration * tb) if f.duration else step))
        return True

    def _show_until(self, p: _Pass, limit: float | None, upcoming: av.VideoFrame) -> bool:
        """Queue the frame on show for each grid time before ``limit`` (None: to the end).

        A pass that has shown nothing yet (its seek landed after ``start``)
        shows ``upcoming``, the first frame decoded. Returns False when the
        queue was abandoned (stopped or cancelled).
        """
        fps = self.timing.video.fps
        while self._wants(p.k) and (
            limit is None or self.start + (p.k - p.base) / fps < limit - GRID_EPS
        ):
            if p.raw is None:
                p.raw = upcoming
            if p.shown is None:
                p.shown = self._scale(p.raw)
            if not self._put(p.shown):
                return False
            p.k += 1
        return True

    # -- reader --------------------------------------------------------
    def read(self, nsamples: int) -> Chunk:
        frame: YUVFrame | None = None
        if self.has_video:
            item = self._get()
            if item is _END:
                if self._error is not None:
                    raise self._error
                if self._last is None:
                    raise SourceError(f"{self.path}: no video frames")
                frame = self._last  # fewer frames than promised: hold the last
                self._queue.put(_END)
            else:
                assert isinstance(item, YUVFrame)
                frame = self._last = item
        audio = self._audio.read(nsamples) if self._audio is not None else None
        return frame, audio

    def _get(self) -> object:
        while True:
            if self.timing.cancel.is_set():
                raise Cancelled("cancelled")
            try:
                return self._queue.get(timeout=0.05)
            except queue.Empty:
                continue

    def _stop_decoder(self) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
            self._thread.join(timeout=5)
            with contextlib.suppress(queue.Empty):  # what it queued before it stopped
                while True:
                    self._queue.get_nowait()

    def close(self) -> None:
        self._stop_decoder()
        if self._audio is not None:
            self._audio.close()
