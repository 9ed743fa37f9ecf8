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
        self._iter: Iterator[av.AudioFrame] | None = None
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
        assert self._container is not None and self._iter is not None
        try:
            frame = next(self._iter)
        except StopIteration:
            chunks = self._resampler.resample(None)
            self._eof = True
            self._append(chunks)
            return bool(chunks)
        except av.FFmpegError as e:
            raise SourceError(f"{self.path}: audio decode failed: {e}") from e
        if self._skip is None:
            tb = frame.time_base  # decoded frames carry one; without it the start is unknown
            ft = (
                float(frame.pts * tb) - self._t0
                if frame.pts is not None and tb is not None
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
