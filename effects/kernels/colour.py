# mypy: disable-error-code="arg-type,assignment,return-value"
# (numba kernels mix numpy scalar types with Python ints/floats by design)
"""Colour effects on YUV 4:2:0 planes.

Most colour effects here are defined directly in YUV and have the form
``Y' = lut[Y]`` and ``(U', V') - 128 = M (U - 128, V - 128) + o``: a luma
lookup table plus an affine map of the chroma pair. That form composes, so
consecutive effects fuse into one pass (see ``effects.fusion``). Each such
effect's spec carries ``extra["colour_op"]``, a function from its parameter
values to a ``ColourOp``.

How the YUV definitions relate to the RGB ones (BT.601):

* ``invert``: ``255 - x`` on every plane (exact RGB negation for full-range
  video; for limited range, luma ends up 4 levels off the RGB definition).
* ``brightness``: adds ``amount * 255`` to Y only (RGB add scaled to luma).
* ``contrast``: scales Y and chroma about 128, the RGB ``(x-128)*c+128``.
* ``saturation``: scales chroma; RGB saturation about luma, up to rounding.
* ``hue``: rotates (U, V), the same approximation as ffmpeg's ``hue`` filter
  (exact RGB hue rotation would need the unequal U/V scales folded in).
* ``gamma``/``levels``/``threshold``: applied to luma only (luma
  definitions, not per RGB channel); threshold also removes chroma.
* ``grayscale``, ``tint``, ``color_balance``: affine in RGB, hence exact in
  YUV (BT.601 limited range).
* ``posterize`` quantises each plane (not fusable); ``lut3d`` converts each
  pixel to RGB, looks the .cube table up trilinearly and converts back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import Params, fspec
from effects.registry import EffectError, ParamSpec

__all__ = [
    "SPECS",
    "ColourOp",
    "CubeLUT",
    "apply_colour_op",
    "load_cube",
    "rgb_to_yuv",
    "yuv_to_rgb",
]

_LEVELS = np.arange(256, dtype=np.float64)

# BT.601 limited range, the range H.264 test material and most video uses.
_RGB2YUV = np.array(
    [[0.257, 0.504, 0.098], [-0.148, -0.291, 0.439], [0.439, -0.368, -0.071]], dtype=np.float64
)
_YUV_OFF = np.array([16.0, 128.0, 128.0])


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
        return ColourOp(_LEVELS.copy(), np.eye(2), np.zeros(2))

    def then(self, nxt: ColourOp) -> ColourOp:
        """The op equal to ``self`` followed by ``nxt`` (intermediate luma clipped)."""
        first = np.clip(self.ylut, 0.0, 255.0)
        return ColourOp(
            np.interp(first, _LEVELS, nxt.ylut),
            nxt.m @ self.m,
            nxt.m @ self.off + nxt.off,
        )

    def luma_is_identity(self) -> bool:
        """Whether the luma table maps every level to itself."""
        return bool(np.all(np.rint(np.clip(self.ylut, 0, 255)) == _LEVELS))

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


def _op(
    ylut: np.ndarray | None = None, m: np.ndarray | None = None, off: np.ndarray | None = None
) -> ColourOp:
    return ColourOp(
        _LEVELS.copy() if ylut is None else ylut,
        np.eye(2) if m is None else m,
        np.zeros(2) if off is None else off,
    )


def op_identity(p: Params) -> ColourOp:
    return ColourOp.identity()


def op_invert(p: Params) -> ColourOp:
    a = float(p["amount"])
    # 255 - U == -(U - 128) + 127, so the chroma offset is -1 at full strength.
    return _op((1 - a) * _LEVELS + a * (255.0 - _LEVELS), np.eye(2) * (1 - 2 * a), np.full(2, -a))


def op_brightness(p: Params) -> ColourOp:
    return _op(_LEVELS + float(p["amount"]) * 255.0)


def op_contrast(p: Params) -> ColourOp:
    c = float(p["amount"])
    return _op((_LEVELS - 128.0) * c + 128.0, np.eye(2) * c)


def op_saturation(p: Params) -> ColourOp:
    return _op(m=np.eye(2) * float(p["amount"]))


def _rotation(degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    return np.array([[c, -s], [s, c]])


def op_hue(p: Params) -> ColourOp:
    return _op(m=_rotation(float(p["degrees"])))


def op_gamma(p: Params) -> ColourOp:
    g = float(p["gamma"])
    return _op(255.0 * (_LEVELS / 255.0) ** (1.0 / g))


def op_levels(p: Params) -> ColourOp:
    lo, hi = float(p["in_black"]), float(p["in_white"])
    olo, ohi = float(p["out_black"]), float(p["out_white"])
    x = np.clip((_LEVELS - lo) / max(hi - lo, 1e-6), 0.0, 1.0) ** (1.0 / float(p["gamma"]))
    return _op(olo + x * (ohi - olo))


def op_threshold(p: Params) -> ColourOp:
    return _op(np.where(float(p["level"]) <= _LEVELS, 255.0, 0.0), np.zeros((2, 2)))


def op_grayscale(p: Params) -> ColourOp:
    return _op(m=np.eye(2) * (1.0 - float(p["amount"])))


def op_tint(p: Params) -> ColourOp:
    a = float(p["amount"])
    y, u, v = rgb_to_yuv(p["color"])
    return _op((1 - a) * _LEVELS + a * y, np.eye(2) * (1 - a), a * np.array([u - 128.0, v - 128.0]))


def op_color_balance(p: Params) -> ColourOp:
    shift = _RGB2YUV @ (np.array([p["red"], p["green"], p["blue"]], dtype=np.float64) * 255.0)
    return _op(_LEVELS + shift[0], off=shift[1:].copy())


def _fused_apply(builder):  # type: ignore[no-untyped-def]
    def fn(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, scratch: object) -> None:
        apply_colour_op(builder(p), inputs[0], out)

    return fn


# ---------------------------------------------------------------- posterize


@njit(nogil=True, cache=True)
def _plane_lut(src: np.ndarray, dst: np.ndarray, lut: np.ndarray) -> None:
    h, w = src.shape
    for i in range(h):
        for j in range(w):
            dst[i, j] = lut[src[i, j]]


def posterize_lut(levels: int, centre: float) -> np.ndarray:
    """Quantise 0..255 to ``levels`` steps; chroma keeps its neutral level."""
    step = 255.0 / (levels - 1)
    out = np.floor(np.rint((_LEVELS - centre) / step) * step + centre + 0.5)
    return np.clip(out, 0, 255).astype(np.uint8)


def _posterize(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
    n = int(p["levels"])
    src = inputs[0]
    _plane_lut(src.y, out.y, posterize_lut(n, 0.0))
    cl = posterize_lut(n, 128.0)
    _plane_lut(src.u, out.u, cl)
    _plane_lut(src.v, out.v, cl)


# ---------------------------------------------------------------- 3D LUT


@dataclass(frozen=True, slots=True)
class CubeLUT:
    """A parsed .cube 3D LUT.

    Attributes:
        table: float32 (N, N, N, 3) indexed [b, g, r] (red varies fastest in files).
        size: N.
        domain_min: Input domain lower bound per channel.
        domain_max: Input domain upper bound per channel.
    """

    table: np.ndarray
    size: int
    domain_min: tuple[float, float, float]
    domain_max: tuple[float, float, float]


def load_cube(path: str | Path) -> CubeLUT:
    """Parse an Adobe/Resolve ``.cube`` 3D LUT.

    Raises:
        EffectError: naming the file and line of the first problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EffectError(f"{path}: cannot read LUT: {exc.strerror}") from exc
    size = 0
    dmin, dmax = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    rows: list[tuple[float, float, float]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.upper().startswith("TITLE"):
            continue
        parts = line.split()
        key = parts[0].upper()
        try:
            if key == "LUT_3D_SIZE":
                size = int(parts[1])
                if not 2 <= size <= 256:
                    raise ValueError("size must be 2..256")
            elif key == "LUT_1D_SIZE":
                raise ValueError("1D LUTs are not supported")
            elif key in ("DOMAIN_MIN", "DOMAIN_MAX"):
                vals = (float(parts[1]), float(parts[2]), float(parts[3]))
                dmin, dmax = (vals, dmax) if key == "DOMAIN_MIN" else (dmin, vals)
            elif len(parts) == 3:
                rows.append((float(parts[0]), float(parts[1]), float(parts[2])))
            elif key.replace("_", "").isalpha():
                continue  # other keywords (LUT_IN_VIDEO_RANGE...) do not change the table
            else:
                raise ValueError(f"expected three numbers, got {len(parts)}")
        except (ValueError, IndexError) as exc:
            raise EffectError(f"{path}:{lineno}: bad .cube line {raw.strip()!r}: {exc}") from exc
    if not size:
        raise EffectError(f"{path}: missing LUT_3D_SIZE")
    if len(rows) != size**3:
        raise EffectError(f"{path}: expected {size**3} table rows for size {size}, got {len(rows)}")
    table = np.asarray(rows, dtype=np.float32).reshape(size, size, size, 3)
    return CubeLUT(table, size, dmin, dmax)


@njit(nogil=True, cache=True, inline="always")
def _lut_coord(x: float, off: float, scale: float, top: float, n: int) -> tuple[int, float]:
    """Cell index and fraction of ``x`` (0-255 scale) on a table axis: ``t = x * scale - off``."""
    t = min(max(x * scale - off, 0.0), top)
    i0 = min(int(t), n - 2)
    return i0, t - i0


@njit(nogil=True, cache=True, inline="always")
def _trilerp(
    flat: np.ndarray, base: int, c: int, sg: int, sb: int, rf: float, gf: float, bf: float
) -> float:
    """Trilinear value of channel ``c`` in the cell at flat offset ``base`` (r stride 3).

    Unsigned offsets (cells are never negative) spare numba's wraparound check
    on each of the eight loads.
    """
    k = np.uint64(base + c)
    u3 = np.uint64(3)
    k1 = k + np.uint64(sg)
    k2 = k + np.uint64(sb)
    k3 = k2 + np.uint64(sg)
    c00 = flat[k] + (flat[k + u3] - flat[k]) * rf
    c01 = flat[k1] + (flat[k1 + u3] - flat[k1]) * rf
    c10 = flat[k2] + (flat[k2 + u3] - flat[k2]) * rf
    c11 = flat[k3] + (flat[k3 + u3] - flat[k3]) * rf
    c0 = c00 + (c01 - c00) * gf
    c1 = c10 + (c11 - c10) * gf
    return c0 + (c1 - c0) * bf


@njit(nogil=True, cache=True)
def _lut3d_kernel(
    sy: np.ndarray,
    su: np.ndarray,
    sv: np.ndarray,
    dy: np.ndarray,
    du: np.ndarray,
    dv: np.ndarray,
    table: np.ndarray,
    dmin: np.ndarray,
    dscale: np.ndarray,
    amount: float,
) -> None:
    """YUV -> RGB -> trilinear table lookup -> YUV, one chroma row (two luma rows) at a time.

    Three loops per chroma row: colour conversion to table cells and fractions
    (vectorises), the table lookups (scalar gathers), and the mix back to YUV
    with chroma averaged over each 2x2 block (vectorises).
    """
    n = table.shape[0]
    top = n - 1.0
    # t = (x / 255 - dmin) * dscale * (n - 1), as one multiply-add per channel.
    sr = dscale[0] * top / 255.0
    sgc = dscale[1] * top / 255.0
    sbc = dscale[2] * top / 255.0
    orr = dmin[0] * dscale[0] * top
    og = dmin[1] * dscale[1] * top
    ob = dmin[2] * dscale[2] * top
    flat = table.reshape(-1)
    sg = 3 * n
    sb = 3 * n * n
    hc, wc = su.shape
    m = 4 * wc  # the 2x2 luma pixels of a chroma row, block q = 2 * (row) + (column)
    base = np.empty(m, np.int64)
    fr = np.empty(m)
    fg = np.empty(m)
    fb = np.empty(m)
    rr = np.empty(m)
    gg = np.empty(m)
    bb = np.empty(m)
    o0 = np.empty(m)
    o1 = np.empty(m)
    o2 = np.empty(m)
    for ci in range(hc):
        ru = su[ci]
        rv = sv[ci]
        for q in range(4):
            ry = sy[2 * ci + (q >> 1)]
            dj = q & 1
            off = q * wc
            for cj in range(wc):
                cu = ru[cj] - 128.0
                cv = rv[cj] - 128.0
                yy = 1.164 * (ry[2 * cj + dj] - 16.0)
                r = yy + 1.596 * cv
                g = yy - 0.392 * cu - 0.813 * cv
                b = yy + 2.017 * cu
                ri, rf = _lut_coord(r, orr, sr, top, n)
                gi, gf = _lut_coord(g, og, sgc, top, n)
                bi, bf = _lut_coord(b, ob, sbc, top, n)
                k = off + cj
                base[k] = ((bi * n + gi) * n + ri) * 3
                fr[k] = rf
                fg[k] = gf
                fb[k] = bf
                rr[k] = r
                gg[k] = g
                bb[k] = b
        for k in range(m):
            o0[k] = _trilerp(flat, base[k], 0, sg, sb, fr[k], fg[k], fb[k])
            o1[k] = _trilerp(flat, base[k], 1, sg, sb, fr[k], fg[k], fb[k])
            o2[k] = _trilerp(flat, base[k], 2, sg, sb, fr[k], fg[k], fb[k])
        ou = du[ci]
        ov = dv[ci]
        for cj in range(wc):
            acc_u = 0.0
            acc_v = 0.0
            for q in range(4):
                k = q * wc + cj
                r = (1.0 - amount) * rr[k] + amount * o0[k] * 255.0
                g = (1.0 - amount) * gg[k] + amount * o1[k] * 255.0
                b = (1.0 - amount) * bb[k] + amount * o2[k] * 255.0
                ny = 0.257 * r + 0.504 * g + 0.098 * b + 16.5
                dy[2 * ci + (q >> 1), 2 * cj + (q & 1)] = np.uint8(min(max(ny, 0.0), 255.0))
                acc_u += -0.148 * r - 0.291 * g + 0.439 * b
                acc_v += 0.439 * r - 0.368 * g - 0.071 * b
            ou[cj] = np.uint8(min(max(acc_u * 0.25 + 128.5, 0.0), 255.0))
            ov[cj] = np.uint8(min(max(acc_v * 0.25 + 128.5, 0.0), 255.0))


class _LutCache:
    """Per-instance cache of the loaded table, keyed by path (paths rarely change).

    ``table64`` is the table widened to float64 (exact), which spares the kernel
    a conversion per table load.
    """

    def __init__(self) -> None:
        self.path: str | None = None
        self.lut: CubeLUT | None = None
        self.table64: np.ndarray = np.zeros((2, 2, 2, 3))


def _lut3d(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, cache: _LutCache) -> None:
    path = str(p["path"])
    if cache.path != path or cache.lut is None:
        cache.lut, cache.path = load_cube(path), path
        cache.table64 = np.ascontiguousarray(cache.lut.table, dtype=np.float64)
    lut = cache.lut
    dmin = np.asarray(lut.domain_min, dtype=np.float32)
    dscale = 1.0 / np.maximum(np.asarray(lut.domain_max, dtype=np.float32) - dmin, 1e-6)
    src = inputs[0]
    _lut3d_kernel(
        src.y,
        src.u,
        src.v,
        out.y,
        out.u,
        out.v,
        cache.table64,
        dmin,
        dscale.astype(np.float32),
        float(p["amount"]),
    )


# ---------------------------------------------------------------- specs

_AMOUNT01 = ParamSpec("amount", "float", 1.0, 0.0, 1.0, "", "strength, 0 = unchanged, 1 = full")


def _colour(name: str, doc: str, builder, params: tuple[ParamSpec, ...]):  # type: ignore[no-untyped-def]
    return fspec(
        name,
        doc,
        "colour",
        params,
        _fused_apply(builder),
        fusable=True,
        extra={"colour_op": builder},
    )


SPECS = (
    _colour("identity", "Pass the frame through unchanged.", op_identity, ()),
    _colour("invert", "Negate every plane (photographic negative).", op_invert, (_AMOUNT01,)),
    _colour(
        "brightness",
        "Add to luma; +1 is full white, -1 full black.",
        op_brightness,
        (
            ParamSpec(
                "amount", "float", 0.0, -1.0, 1.0, "", "luma offset as a fraction of full scale"
            ),
        ),
    ),
    _colour(
        "contrast",
        "Scale luma and chroma about mid grey.",
        op_contrast,
        (ParamSpec("amount", "float", 1.0, 0.0, 4.0, "x", "contrast factor, 1 = unchanged"),),
    ),
    _colour(
        "saturation",
        "Scale colourfulness (chroma).",
        op_saturation,
        (
            ParamSpec(
                "amount", "float", 1.0, 0.0, 4.0, "x", "saturation factor, 1 = unchanged, 0 = grey"
            ),
        ),
    ),
    _colour(
        "hue",
        "Rotate hue (rotation of the U/V chroma pair, as ffmpeg's hue filter).",
        op_hue,
        (ParamSpec("degrees", "float", 0.0, -360.0, 360.0, "deg", "hue rotation angle"),),
    ),
    _colour(
        "gamma",
        "Luma gamma curve; >1 brightens mid-tones.",
        op_gamma,
        (ParamSpec("gamma", "float", 1.0, 0.1, 10.0, "", "gamma, 1 = unchanged"),),
    ),
    _colour(
        "levels",
        "Map an input luma range to an output range with a mid-tone gamma.",
        op_levels,
        (
            ParamSpec("in_black", "float", 0.0, 0.0, 255.0, "", "input level mapped to out_black"),
            ParamSpec(
                "in_white", "float", 255.0, 0.0, 255.0, "", "input level mapped to out_white"
            ),
            ParamSpec("gamma", "float", 1.0, 0.1, 10.0, "", "mid-tone gamma"),
            ParamSpec("out_black", "float", 0.0, 0.0, 255.0, "", "output black level"),
            ParamSpec("out_white", "float", 255.0, 0.0, 255.0, "", "output white level"),
        ),
    ),
    fspec(
        "posterize",
        "Quantise each plane to a few levels.",
        "colour",
        (ParamSpec("levels", "int", 4, 2, 256, "", "number of levels per plane"),),
        _posterize,
    ),
    _colour(
        "threshold",
        "Black and white: luma at or above level becomes white.",
        op_threshold,
        (ParamSpec("level", "float", 128.0, 0.0, 255.0, "", "luma threshold"),),
    ),
    _colour("grayscale", "Remove colour.", op_grayscale, (_AMOUNT01,)),
    _colour(
        "tint",
        "Mix towards a colour.",
        op_tint,
        (
            ParamSpec(
                "color",
                "color",
                (255.0, 160.0, 60.0),
                unit="rgb",
                doc="tint colour",
                animatable=False,
            ),
            ParamSpec("amount", "float", 0.3, 0.0, 1.0, "", "mix amount"),
        ),
    ),
    _colour(
        "color_balance",
        "Shift red, green and blue (colour balance).",
        op_color_balance,
        (
            ParamSpec("red", "float", 0.0, -1.0, 1.0, "", "red offset, fraction of full scale"),
            ParamSpec("green", "float", 0.0, -1.0, 1.0, "", "green offset, fraction of full scale"),
            ParamSpec("blue", "float", 0.0, -1.0, 1.0, "", "blue offset, fraction of full scale"),
        ),
    ),
    fspec(
        "lut3d",
        "Apply a 3D colour LUT from a .cube file (trilinear, in RGB).",
        "colour",
        (
            ParamSpec("path", "path", "", doc=".cube file", animatable=False),
            ParamSpec("amount", "float", 1.0, 0.0, 1.0, "", "mix with the original"),
        ),
        _lut3d,
        scratch=lambda w, h: _LutCache(),
        layout="rgb24",
    ),
)
