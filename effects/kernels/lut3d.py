"""3D colour LUTs: the ``.cube`` reader and the trilinear lookup kernel of ``lut3d``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import Params
from effects.registry import EffectError

__all__ = ["CubeLUT", "LutCache", "apply_lut3d", "load_cube"]


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
    c0: float = c00 + (c01 - c00) * gf  # table loads are untyped to mypy
    c1: float = c10 + (c11 - c10) * gf
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


class LutCache:
    """Per-instance cache of the loaded table, keyed by path (paths rarely change).

    ``table64`` is the table widened to float64 (exact), which spares the kernel
    a conversion per table load.
    """

    def __init__(self) -> None:
        self.path: str | None = None
        self.lut: CubeLUT | None = None
        self.table64: np.ndarray = np.zeros((2, 2, 2, 3))


def apply_lut3d(
    inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, cache: LutCache
) -> None:
    """The ``lut3d`` effect: load (or reuse) the table, then one pass of the kernel."""
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
