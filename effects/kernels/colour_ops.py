"""Fusable colour ops: a luma table plus an affine chroma map, and each effect's op.

Most colour effects have the form ``Y' = lut[Y]`` and
``(U', V') - 128 = M (U - 128, V - 128) + o``. That form composes, so
consecutive effects fuse into one pass (see ``effects.fusion``); the ``op_*``
builders map an effect's parameter values to its ``ColourOp``. Colour
conversions are BT.601 limited range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import Params

__all__ = [
    "LEVELS",
    "ColourOp",
    "OpBuilder",
    "apply_colour_op",
    "op_brightness",
    "op_color_balance",
    "op_contrast",
    "op_gamma",
    "op_grayscale",
    "op_hue",
    "op_identity",
    "op_invert",
    "op_levels",
    "op_saturation",
    "op_threshold",
    "op_tint",
    "rgb_to_yuv",
    "yuv_to_rgb",
]

LEVELS = np.arange(256, dtype=np.float64)

# BT.601 limited range, the range H.264 test material and most video uses.
_RGB2YUV = np.array(
    [[0.257, 0.504, 0.098], [-0.148, -0.291, 0.439], [0.439, -0.368, -0.071]], dtype=np.float64
)
_YUV_OFF = np.array([16.0, 128.0, 128.0], dtype=np.float64)


def rgb_to_yuv(rgb: Sequence[float]) -> np.ndarray:
    """BT.601 limited-range YUV of an RGB colour (0..255 floats)."""
    return _RGB2YUV @ np.asarray(rgb, dtype=np.float64) + _YUV_OFF


def yuv_to_rgb(yuv: Sequence[float]) -> np.ndarray:
    """Inverse of ``rgb_to_yuv`` (unclipped floats)."""
    return np.linalg.solve(_RGB2YUV, np.asarray(yuv, dtype=np.float64) - _YUV_OFF)


@dataclass(frozen=True, slots=True)
class ColourOp:
    """A fusable colour transform: luma table plus affine chroma map.

    Attributes:
        ylut: float64 (256,): output luma for each input luma (unclipped).
        m: float64 (2, 2) chroma matrix acting on (U-128, V-128).
        off: float64 (2,) chroma offset added after ``m``.
    """

    ylut: np.ndarray
    m: np.ndarray
    off: np.ndarray

    @staticmethod
    def identity() -> ColourOp:
        """The op that changes nothing."""
        return ColourOp(LEVELS.copy(), np.eye(2), np.zeros(2))

    def then(self, nxt: ColourOp) -> ColourOp:
        """The op equal to ``self`` followed by ``nxt`` (intermediate luma clipped)."""
        first = np.clip(self.ylut, 0.0, 255.0)
        return ColourOp(
            np.interp(first, LEVELS, nxt.ylut),
            nxt.m @ self.m,
            nxt.m @ self.off + nxt.off,
        )

    def luma_is_identity(self) -> bool:
        """Whether the luma table maps every level to itself."""
        return bool(np.all(np.rint(np.clip(self.ylut, 0, 255)) == LEVELS))

    def chroma_is_identity(self) -> bool:
        """Whether the chroma map is the identity."""
        return bool(np.allclose(self.m, np.eye(2)) and np.allclose(self.off, 0.0))


@njit(nogil=True, cache=True)
def _luma_lut(src: np.ndarray, dst: np.ndarray, lut: np.ndarray) -> None:
    h, w = src.shape
    for i in range(h):
        for j in range(w):
            dst[i, j] = lut[src[i, j]]


@njit(nogil=True, cache=True)
def _chroma_affine(
    su: np.ndarray,
    sv: np.ndarray,
    du: np.ndarray,
    dv: np.ndarray,
    m00: float,
    m01: float,
    m10: float,
    m11: float,
    ou: float,
    ov: float,
) -> None:
    # Matrix entries in float32 locals keep the loop vectorisable.
    a = np.float32(m00)
    b = np.float32(m01)
    c = np.float32(m10)
    d = np.float32(m11)
    eu = np.float32(ou + 128.5)
    ev = np.float32(ov + 128.5)
    h, w = su.shape
    for i in range(h):
        for j in range(w):
            u = np.float32(su[i, j]) - np.float32(128.0)
            v = np.float32(sv[i, j]) - np.float32(128.0)
            nu = a * u + b * v + eu
            nv = c * u + d * v + ev
            nu = min(max(nu, np.float32(0.0)), np.float32(255.0))
            nv = min(max(nv, np.float32(0.0)), np.float32(255.0))
            du[i, j] = np.uint8(nu)
            dv[i, j] = np.uint8(nv)


#: An effect's parameter values -> its op (``EffectSpec.extra["colour_op"]``).
OpBuilder = Callable[[Params], ColourOp]


def apply_colour_op(op: ColourOp, src: YUVFrame, dst: YUVFrame) -> None:
    """Run one (possibly fused) colour op from ``src`` into ``dst``; in place is fine."""
    same = src.data is dst.data
    if not (same and op.luma_is_identity()):
        lut = np.clip(np.rint(op.ylut), 0, 255).astype(np.uint8)
        _luma_lut(src.y, dst.y, lut)
    if not (same and op.chroma_is_identity()):
        m = op.m
        _chroma_affine(
            src.u,
            src.v,
            dst.u,
            dst.v,
            float(m[0, 0]),
            float(m[0, 1]),
            float(m[1, 0]),
            float(m[1, 1]),
            float(op.off[0]),
            float(op.off[1]),
        )


# ---------------------------------------------------------------- op builders
# One per fusable effect; the YUV-versus-RGB notes are in ``effects.kernels.colour``.


def _op(
    ylut: np.ndarray | None = None, m: np.ndarray | None = None, off: np.ndarray | None = None
) -> ColourOp:
    return ColourOp(
        LEVELS.copy() if ylut is None else ylut,
        np.eye(2) if m is None else m,
        np.zeros(2) if off is None else off,
    )


def op_identity(p: Params) -> ColourOp:
    """The ``identity`` op: changes nothing."""
    return ColourOp.identity()


def op_invert(p: Params) -> ColourOp:
    """The ``invert`` op: ``255 - x`` on every plane, mixed by ``amount``."""
    a = float(p["amount"])
    # 255 - U == -(U - 128) + 127, so the chroma offset is -1 at full strength.
    return _op((1 - a) * LEVELS + a * (255.0 - LEVELS), np.eye(2) * (1 - 2 * a), np.full(2, -a))


def op_brightness(p: Params) -> ColourOp:
    """The ``brightness`` op: ``amount * 255`` added to luma."""
    return _op(LEVELS + float(p["amount"]) * 255.0)


def op_contrast(p: Params) -> ColourOp:
    """The ``contrast`` op: luma and chroma scaled about 128."""
    c = float(p["amount"])
    return _op((LEVELS - 128.0) * c + 128.0, np.eye(2) * c)


def op_saturation(p: Params) -> ColourOp:
    """The ``saturation`` op: chroma scaled."""
    return _op(m=np.eye(2) * float(p["amount"]))


def _rotation(degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    return np.array([[c, -s], [s, c]])


def op_hue(p: Params) -> ColourOp:
    """The ``hue`` op: the (U, V) pair rotated by ``degrees``."""
    return _op(m=_rotation(float(p["degrees"])))


def op_gamma(p: Params) -> ColourOp:
    """The ``gamma`` op: a luma power curve."""
    g = float(p["gamma"])
    return _op(255.0 * (LEVELS / 255.0) ** (1.0 / g))


def op_levels(p: Params) -> ColourOp:
    """The ``levels`` op: an input luma range mapped to an output range, with a mid-tone gamma."""
    lo, hi = float(p["in_black"]), float(p["in_white"])
    olo, ohi = float(p["out_black"]), float(p["out_white"])
    x = np.clip((LEVELS - lo) / max(hi - lo, 1e-6), 0.0, 1.0) ** (1.0 / float(p["gamma"]))
    return _op(olo + x * (ohi - olo))


def op_threshold(p: Params) -> ColourOp:
    """The ``threshold`` op: luma to black or white, chroma removed."""
    return _op(np.where(float(p["level"]) <= LEVELS, 255.0, 0.0), np.zeros((2, 2)))


def op_grayscale(p: Params) -> ColourOp:
    """The ``grayscale`` op: chroma scaled towards neutral."""
    return _op(m=np.eye(2) * (1.0 - float(p["amount"])))


def op_tint(p: Params) -> ColourOp:
    """The ``tint`` op: a mix towards ``color``."""
    a = float(p["amount"])
    y, u, v = rgb_to_yuv(p["color"])
    return _op((1 - a) * LEVELS + a * y, np.eye(2) * (1 - a), a * np.array([u - 128.0, v - 128.0]))


def op_color_balance(p: Params) -> ColourOp:
    """The ``color_balance`` op: RGB offsets, exact in YUV."""
    shift = _RGB2YUV @ (np.array([p["red"], p["green"], p["blue"]], dtype=np.float64) * 255.0)
    return _op(LEVELS + shift[0], off=shift[1:].copy())
