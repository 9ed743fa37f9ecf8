"""Media files as streams: PyAV decode, seek, scale and frame-rate conversion.

Video is decoded in its own thread into a small bounded queue (the decode
stage of the pipeline; PyAV releases the GIL while decoding and scaling).
Each output frame ``k`` shows the latest source frame whose timestamp is at
or before ``start + k / fps``: frames are dropped or repeated by timestamp,
never by counting. Audio is decoded lazily in the reading thread, resampled
to the output format (float32 planar) and trimmed to the sample.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

from effects.frame import AudioFormat, YUVFrame
from interpreter.runtime.base import Chunk, Stream, Timing, silence
from interpreter.runtime.errors import Cancelled, SourceError

__all__ = ["AudioReader", "FileSource", "Fit", "MediaInfo", "probe", "scale_frame"]

Fit = Literal["fit", "fill", "stretch"]
_EPS = 1e-3  # seconds: timestamp rounding tolerance when matching frames to the grid
_END = object()
_ONE_THREAD_PIXELS = 1920 * 1088  # decode up to 1080p in the decode thread alone


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a media file holds.

    Attributes:
        duration: Seconds (0.0 when unknown).
        width: Video width (0 without video).
        height: Video height.
        fps: Average video frame rate (0.0 without video).
        has_video: Whether there is a video stream.
        has_audio: Whether there is an audio stream.
    """

    duration: float
    width: int
    height: int
    fps: float
    has_video: bool
    has_audio: bool


def probe(path: Path) -> MediaInfo:
    """Read a file's streams and duration; raises SourceError if unreadable."""
    try:
        with av.open(str(path)) as c:
            v = c.streams.video[0] if c.streams.video else None
            a = c.streams.audio[0] if c.streams.audio else None
            dur = float(c.duration) / av.time_base if c.duration else 0.0
            if not dur and v is not None and v.duration and v.time_base:
                dur = float(v.duration * v.time_base)
            return MediaInfo(
                duration=dur,
                width=v.codec_context.width if v else 0,
                height=v.codec_context.height if v else 0,
                fps=float(v.average_rate) if v is not None and v.average_rate else 0.0,
                has_video=v is not None,
                has_audio=a is not None,
            )
    except (av.FFmpegError, OSError) as e:
        raise SourceError(f"{path}: cannot read media: {e}") from e


def scale_frame(frame: av.VideoFrame, width: int, height: int, fit: Fit) -> YUVFrame:
    """Convert a decoded frame to a ``width`` x ``height`` yuv420p YUVFrame.

    ``stretch`` ignores the aspect ratio; ``fit`` letterboxes inside black
    bars; ``fill`` scales to cover and crops the centre.
    """
    sw, sh = frame.width, frame.height
    if fit == "stretch" or (sw * height == sh * width):
        out = frame.reformat(width=width, height=height, format="yuv420p")
        return YUVFrame.wrap(out.to_ndarray())
    scale = min(width / sw, height / sh) if fit == "fit" else max(width / sw, height / sh)
    iw = max(2, round(sw * scale / 2) * 2)
    ih = max(2, round(sh * scale / 2) * 2)
    img = YUVFrame.wrap(frame.reformat(width=iw, height=ih, format="yuv420p").to_ndarray())
    out_f = YUVFrame.alloc(width, height)
    if fit == "fit":
        out_f.y[:] = 16
        out_f.u[:] = 128
        out_f.v[:] = 128
        x0, y0 = ((width - iw) // 2) & ~1, ((height - ih) // 2) & ~1
        out_f.y[y0 : y0 + ih, x0 : x0 + iw] = img.y
        out_f.u[y0 // 2 : (y0 + ih) // 2, x0 // 2 : (x0 + iw) // 2] = img.u
        out_f.v[y0 // 2 : (y0 + ih) // 2, x0 // 2 : (x0 + iw) // 2] = img.v
    else:
        x0, y0 = ((iw - width) // 2) & ~1, ((ih - height) // 2) & ~1
        out_f.y[:] = img.y[y0 : y0 + height, x0 : x0 + width]
        out_f.u[:] = img.u[y0 // 2 : (y0 + height) // 2, x0 // 2 : (x0 + width) // 2]
        out_f.v[:] = img.v[y0 // 2 : (y0 + height) // 2, x0 // 2 : (x0 + width) // 2]
    return out_f


class AudioReader:
    """Sequential audio from a file, resampled to ``fmt``, from ``start`` seconds.

    Reads past the end give silence (or wrap around when ``loop``).
    """

    def __init__(
        self, path: Path, fmt: AudioFormat, start: float = 0.0, loop: bool = False
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.start = start
        self.loop = loop
        self._buf = np.zeros((fmt.channels, 0), dtype=np.float32)
        self._container: av.container.InputContainer | None = None
        self._iter: object = None
        self._eof = False
        self._open()

    def _open(self) -> None:
        self.close()
        try:
            c = av.open(str(self.path))
        except (av.FFmpegError, OSError) as e:
            raise SourceError(f"{self.path}: cannot read audio: {e}") from e
        if not c.streams.audio:
            c.close()
            raise SourceError(f"{self.path}: no audio stream")
        s = c.streams.audio[0]
        tb = s.time_base or Fraction(1, 1)
        t0 = float(s.start_time * tb) if s.start_time is not None else 0.0
        if self.start > 0:
            c.seek(int((self.start + t0) / tb), stream=s, backward=True)
        self._container = c
        self._t0 = t0
        self._skip: int | None = None  # samples to drop before start, known at the first frame
        self._resampler = av.AudioResampler(
            format="fltp",
            layout="stereo" if self.fmt.channels == 2 else "mono",
            rate=self.fmt.sample_rate,
        )
        self._iter = c.decode(s)
        self._eof = False

    def _more(self) -> bool:
        if self._eof:
            return False
        assert self._container is not None
        try:
            frame = next(self._iter)  # type: ignore[call-overload]
        except StopIteration:
            chunks = self._resampler.resample(None)
            self._eof = True
            self._append(chunks)
            return bool(chunks)
        except av.FFmpegError as e:
            raise SourceError(f"{self.path}: audio decode failed: {e}") from e
        if self._skip is None:
            ft = (
                float(frame.pts * frame.time_base) - self._t0
                if frame.pts is not None
                else self.start
            )
            self._skip = max(0, round((self.start - ft) * self.fmt.sample_rate))
        self._append(self._resampler.resample(frame))
        return True

    def _append(self, frames: list[av.AudioFrame]) -> None:
        for f in frames:
            a = f.to_ndarray().astype(np.float32, copy=False).reshape(self.fmt.channels, -1)
            if self._skip:
                drop = min(self._skip, a.shape[1])
                a = a[:, drop:]
                self._skip -= drop
            if a.shape[1]:
                self._buf = np.concatenate([self._buf, a], axis=1)

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples, ``(channels, n)`` float32."""
        while self._buf.shape[1] < n:
            if not self._more():
                if self.loop and self._buf.shape[1] < n and self._container is not None:
                    keep = self._buf
                    self._open()
                    if not self._more():
                        break
                    self._buf = np.concatenate([keep, self._buf], axis=1)
                    continue
                break
        out = self._buf[:, :n]
        self._buf = self._buf[:, n:]
        if out.shape[1] < n:
            out = np.concatenate([out, silence(self.fmt.channels, n - out.shape[1])], axis=1)
        return np.ascontiguousarray(out)

    def close(self) -> None:
        """Close the file."""
        if self._container is not None:
            self._container.close()
            self._container = None


class FileSource(Stream):
    """A media file (or a SEGMENT of it) on the output grid.

    Args:
        path: Media file.
        timing: Output timing (size, rate, audio format, cancel flag).
        start: Seconds into the file to start from (seeks).
        duration: Seconds to play (None: to the end of the file, or
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
        if self.info.duration and start >= self.info.duration and not loop:
            raise SourceError(
                f"{path}: start {start:g} s is past the end ({self.info.duration:.3f} s)"
            )
        self.start = start
        self.fit: Fit = fit
        self.loop = loop
        self.has_video = self.info.has_video
        self.has_audio = self.info.has_audio and timing.audio is not None
        if duration is None and not loop:
            duration = max(0.0, self.info.duration - start)
        self.frames = None if duration is None else timing.frames_for(duration)
        self._audio = (
            AudioReader(self.path, timing.audio, start, loop)
            if self.has_audio and timing.audio
            else None
        )
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, prefetch))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._last: YUVFrame | None = None
        if self.has_video:
            self._thread = threading.Thread(
                target=self._decode, name=f"decode:{self.path.name}", daemon=True
            )
            self._thread.start()

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
        vf = self.timing.video
        fps = vf.fps
        total = self.frames
        k = 0
        while total is None or k < total:
            base = k  # first output frame of this pass over the file
            prev_raw: av.VideoFrame | None = None
            prev: YUVFrame | None = None
            pass_end = self.start
            with av.open(str(self.path)) as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                if s.codec_context.width * s.codec_context.height <= _ONE_THREAD_PIXELS:
                    # This thread is already a pipeline stage beside the effects
                    # and encoder threads: frame threads would add CPU and
                    # start-up delay (one frame per thread) for no throughput.
                    s.codec_context.thread_count = 1
                tb = s.time_base or Fraction(1, 1)
                t0 = float(s.start_time * tb) if s.start_time is not None else 0.0
                step = 1.0 / float(s.average_rate) if s.average_rate else 0.0
                if self.start > 0:
                    c.seek(int((self.start + t0) / tb), stream=s, backward=True)
                for f in c.decode(s):
                    if f.pts is None:
                        continue
                    ft = float(f.pts * tb) - t0
                    # every grid time before this frame shows the previous frame
                    while (total is None or k < total) and self.start + (
                        k - base
                    ) / fps < ft - _EPS:
                        if prev_raw is None:  # seek landed after start: show the first frame
                            prev_raw = f
                        if prev is None:
                            prev = scale_frame(prev_raw, vf.width, vf.height, self.fit)
                        if not self._put(prev):
                            return
                        k += 1
                    if total is not None and k >= total:
                        return
                    if self._stop.is_set() or self.timing.cancel.is_set():
                        return
                    prev_raw, prev = f, None
                    pass_end = max(pass_end, ft + step)
            if prev_raw is None:
                raise SourceError(f"{self.path}: no video frames at or after {self.start:g} s")
            if prev is None:
                prev = scale_frame(prev_raw, vf.width, vf.height, self.fit)
            if not self.loop:
                # past the last frame: hold it for the remaining grid points
                while total is not None and k < total:
                    if not self._put(prev):
                        return
                    k += 1
                return
            while (total is None or k < total) and self.start + (k - base) / fps < pass_end - _EPS:
                if not self._put(prev):
                    return
                k += 1
            if k == base:
                raise SourceError(f"{self.path}: nothing to loop after {self.start:g} s")

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

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
            self._thread.join(timeout=5)
        if self._audio is not None:
            self._audio.close()
