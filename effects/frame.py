"""Frame layout shared by every kernel: planar YUV 4:2:0 in one buffer.

A frame is one contiguous ``uint8`` array of shape ``(H * 3 // 2, W)``: the
layout PyAV's ``VideoFrame.to_ndarray(format="yuv420p")`` returns and
``VideoFrame.from_numpy_buffer`` accepts, so frames cross the decode/encode
boundary without copies. ``Y`` is the first ``H`` rows; ``U`` and ``V`` are the
next ``H // 4`` rows each, reshaped to ``(H // 2, W // 2)``. Width and height
must be even (H.264 4:2:0 needs that anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["AudioFormat", "FrameShapeError", "VideoFormat", "YUVFrame"]


class FrameShapeError(ValueError):
    """A buffer does not hold a yuv420p frame of the stated size."""


@dataclass(frozen=True, slots=True)
class YUVFrame:
    """A view of one yuv420p frame.

    Attributes:
        data: The whole frame, shape ``(H * 3 // 2, W)``, dtype uint8.
        width: Frame width in pixels (even).
        height: Frame height in pixels (even).
    """

    data: np.ndarray
    width: int
    height: int

    @classmethod
    def alloc(cls, width: int, height: int) -> YUVFrame:
        """Allocate an uninitialised frame."""
        _check_size(width, height)
        return cls(np.empty((height * 3 // 2, width), dtype=np.uint8), width, height)

    @classmethod
    def wrap(cls, data: np.ndarray) -> YUVFrame:
        """Wrap an existing ``(H * 3 // 2, W)`` uint8 buffer without copying."""
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[0] % 3:
            raise FrameShapeError(f"not a yuv420p buffer: shape {data.shape}, dtype {data.dtype}")
        height = data.shape[0] * 2 // 3
        _check_size(data.shape[1], height)
        return cls(data, data.shape[1], height)

    @property
    def y(self) -> np.ndarray:
        """Luma plane, ``(H, W)``."""
        return self.data[: self.height]

    @property
    def u(self) -> np.ndarray:
        """Cb plane, ``(H // 2, W // 2)``."""
        h, w = self.height, self.width
        n = (h // 2) * (w // 2)
        return self.data.reshape(-1)[h * w : h * w + n].reshape(h // 2, w // 2)

    @property
    def v(self) -> np.ndarray:
        """Cr plane, ``(H // 2, W // 2)``."""
        h, w = self.height, self.width
        n = (h // 2) * (w // 2)
        return self.data.reshape(-1)[h * w + n :].reshape(h // 2, w // 2)

    def copy(self) -> YUVFrame:
        """A deep copy."""
        return YUVFrame(self.data.copy(), self.width, self.height)


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise FrameShapeError(f"frame size must be positive and even, got {width}x{height}")


@dataclass(frozen=True, slots=True)
class VideoFormat:
    """Output video geometry and rate shared by the interpreter and the HLS sink.

    Pixels need not be square: ``sar_num:sar_den`` is the sample (pixel)
    aspect ratio the encoders signal, so a player shows the frame
    ``width * sar_num / sar_den`` wide for ``height`` tall.

    Attributes:
        width: Even width in pixels.
        height: Even height in pixels.
        fps_num: Frame rate numerator (e.g. 30000).
        fps_den: Frame rate denominator (e.g. 1001).
        sar_num: Sample aspect ratio numerator (1: square pixels).
        sar_den: Sample aspect ratio denominator.
    """

    width: int
    height: int
    fps_num: int = 30
    fps_den: int = 1
    sar_num: int = 1
    sar_den: int = 1

    @property
    def fps(self) -> float:
        """Frames per second as a float."""
        return self.fps_num / self.fps_den

    @property
    def rate(self) -> Fraction:
        """Frames per second, exact."""
        return Fraction(self.fps_num, self.fps_den)

    @property
    def sar(self) -> Fraction:
        """Sample (pixel) aspect ratio, exact (``Fraction(1)``: square pixels)."""
        return Fraction(self.sar_num, self.sar_den)

    @property
    def display_aspect(self) -> Fraction:
        """Display aspect ratio: ``width * sar / height``."""
        return Fraction(self.width * self.sar_num, self.height * self.sar_den)


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """Audio carried beside the video: float32 planar ``(channels, n)`` samples.

    Attributes:
        sample_rate: Samples per second per channel.
        channels: 1 or 2.
    """

    sample_rate: int = 48000
    channels: int = 2
