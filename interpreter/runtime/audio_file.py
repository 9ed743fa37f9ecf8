"""Audio from a media file: decoded lazily, resampled to the output format, from a start time."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from effects.frame import AudioFormat
from interpreter.runtime.base import silence
from interpreter.runtime.errors import SourceError

__all__ = ["AudioReader"]


class AudioReader:
    """Sequential audio from a file, resampled to ``fmt``, from ``start`` seconds.

    Seconds count from ``origin``, a container time: the file's first video
    frame for a file with video (audio before it is dropped, a late start is
    padded with silence, so the tracks stay as the file has them), else the
    audio stream's own start. Any channel layout is mixed to ``fmt``'s. Reads
    past the end give silence, or wrap around when ``loop``: at the end of the
    audio, or at ``end`` when given (a longer track is cut there, a shorter
    one padded with silence, so each pass lasts exactly ``end - start``).

    Args:
        path: Media file.
        fmt: Output rate and channels.
        start: Seconds after ``origin`` to start from.
        loop: Start again at ``start`` at the end.
        origin: Container seconds of time 0 (None: the audio stream's start).
        end: Seconds after ``origin`` where a looping pass ends (None: the
            audio's end).
    """

    def __init__(
        self,
        path: Path,
        fmt: AudioFormat,
        start: float = 0.0,
        loop: bool = False,
        *,
        origin: float | None = None,
        end: Fraction | float | None = None,
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.start = start
        self.loop = loop
        self.origin = origin
        # samples per pass (exact; pass k gets round((k+1)P) - round(kP))
        self._period = (
            None
            if end is None or not loop
            else max(Fraction(0), Fraction(end) - Fraction(start)) * fmt.sample_rate
        )
        self._passes = 0
        self._left: int | None = None
        self._buf = np.zeros((fmt.channels, 0), dtype=np.float32)
        self._container: av.container.InputContainer | None = None
        self._iter: Iterator[av.AudioFrame] | None = None
        self._eof = False
        self._ahead = 0  # samples skipped before any read (seeked past, not decoded)
        self._fresh = True  # nothing read yet: a skip may seek
        self._open()

    def _open(self) -> None:
        self.close()
        try:
            c = av.open(str(self.path), metadata_errors="replace")
        except (av.FFmpegError, OSError) as e:
            raise SourceError(f"{self.path}: cannot read audio: {e}") from e
        if not c.streams.audio:
            c.close()
            raise SourceError(f"{self.path}: no audio stream")
        s = c.streams.audio[0]
        tb = s.time_base or Fraction(1, 1)
        t0 = self.origin
        if t0 is None:
            t0 = float(s.start_time * tb) if s.start_time is not None else 0.0
        at = self.start + self._ahead / self.fmt.sample_rate
        if at > 0:
            c.seek(int((at + t0) / tb), stream=s, backward=True)
        self._container = c
        self._t0 = t0
        self._skip: int | None = None  # samples to drop before start, known at the first frame
        if self._period is not None:
            k = self._passes
            self._left = round((k + 1) * self._period) - round(k * self._period)
        self._passes += 1
        self._resampler = av.AudioResampler(
            format="fltp",
            layout="stereo" if self.fmt.channels == 2 else "mono",
            rate=self.fmt.sample_rate,
        )
        self._iter = c.decode(s)
        self._eof = False

    def _more(self) -> bool:
        """Decode the next frame into the buffer; False at the end of the pass."""
        if self._eof:
            return False
        assert self._container is not None and self._iter is not None
        try:
            frame = next(self._iter)
        except StopIteration:
            self._eof = True
            before = self._buf.shape[1]
            self._append(self._resampler.resample(None))
            if self._left:  # the pass is longer than the audio: silence to its end
                self._push(silence(self.fmt.channels, self._left))
            return self._buf.shape[1] > before
        except av.FFmpegError as e:
            raise SourceError(f"{self.path}: audio decode failed: {e}") from e
        if self._skip is None:
            tb = frame.time_base  # decoded frames carry one; without it the start is unknown
            ft = (
                float(frame.pts * tb) - self._t0
                if frame.pts is not None and tb is not None
                else self.start
            )
            # negative: the audio starts after ``start``, padded with silence
            self._skip = round((self.start - ft) * self.fmt.sample_rate) + self._ahead
            if self._skip < 0:
                self._push(silence(self.fmt.channels, -self._skip))
                self._skip = 0
        self._append(self._resampler.resample(frame))
        return True

    def _append(self, frames: list[av.AudioFrame]) -> None:
        for f in frames:
            a = f.to_ndarray().astype(np.float32, copy=False).reshape(self.fmt.channels, -1)
            if self._skip:
                drop = min(self._skip, a.shape[1])
                a = a[:, drop:]
                self._skip -= drop
            self._push(a)

    def _push(self, a: np.ndarray) -> None:
        """Append samples to the buffer, cut at the end of a looping pass."""
        if self._left is not None:
            a = a[:, : self._left]
            self._left -= a.shape[1]
            if self._left == 0:
                self._eof = True
        if a.shape[1]:
            self._buf = np.concatenate([self._buf, a], axis=1)

    def skip(self, n: int) -> None:
        """Drop the next ``n`` samples: a seek when nothing was read yet (and not looping)."""
        if self._fresh and not self.loop:
            self._ahead += n
            self._open()
            return
        while n > 0:
            m = min(n, 1 << 16)
            self.read(m)
            n -= m

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples, ``(channels, n)`` float32."""
        self._fresh = False
        while self._buf.shape[1] < n:
            if self._more():
                continue
            if not self.loop or self._container is None:
                break
            self._open()  # the next pass appends after what is left of this one
            if not self._more():
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
