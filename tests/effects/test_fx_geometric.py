"""Geometric kernels against numpy references.

Tolerances: ``transform`` 2 levels against float bilinear sampling (the
kernel uses 16.16 coordinates and 8-bit weights) and exact for the identity
geometry; mirror and tile exact; kaleidoscope and wave 1 level except at a
tiny fraction of pixels where float32/float64 differences flip a fold or a
sample to the neighbouring pixel.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from effects.frame import YUVFrame
from effects.kernels.geometric import EDGE_MODES
from tests.effects.fx_reference import affine, bilinear, diff, make, planes, run


def test_transform_identity_is_exact(noisy: YUVFrame) -> None:
    assert diff(run("transform", noisy), noisy) == 0
    assert diff(run("transform", noisy, edge="wrap"), noisy) == 0


@pytest.mark.parametrize("edge", EDGE_MODES)
@pytest.mark.parametrize(
    ("zoom", "rot", "x", "y"),
    [
        (1.0, 0.1, 0.0, 0.0),
        (0.6, -1.2, 13.5, -7.25),
        (2.5, 3.0, -40.0, 22.0),
        (0.01, 0.3, 0.0, 0.0),
        (100.0, 0.0, 3.0, 1.0),
    ],
)
def test_transform(frame: YUVFrame, edge: str, zoom: float, rot: float, x: float, y: float) -> None:
    py, pu, pv = planes(frame)
    ref = make(
        affine(py, zoom, rot, x, y, edge, 16),
        affine(pu, zoom, rot, x / 2, y / 2, edge, 128),
        affine(pv, zoom, rot, x / 2, y / 2, edge, 128),
    )
    out = run("transform", frame, zoom=zoom, rotate=rot, x=x, y=y, edge=edge)
    assert diff(out, ref) <= 2


@pytest.mark.parametrize(("w", "h"), [(2, 2), (4, 2), (2, 6), (6, 4), (34, 10)])
@pytest.mark.parametrize("edge", EDGE_MODES)
def test_transform_small_frames(w: int, h: int, edge: str) -> None:
    # Spans of 0-2 columns and footprints on the last row and column of a plane
    # (the gather reads 2 bytes per row; this is where it could overrun).
    rng = np.random.default_rng(w * 10 + h)
    f = YUVFrame.wrap(rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8))
    py, pu, pv = planes(f)
    for zoom, rot, x, y in [(1.0, 0.1, 0.0, 0.0), (0.9, -0.4, 0.3, 0.2), (1.5, 2.0, 0.0, 0.5)]:
        ref = make(
            affine(py, zoom, rot, x, y, edge, 16),
            affine(pu, zoom, rot, x / 2, y / 2, edge, 128),
            affine(pv, zoom, rot, x / 2, y / 2, edge, 128),
        )
        assert diff(run("transform", f, zoom=zoom, rotate=rot, x=x, y=y, edge=edge), ref) <= 2


def test_transform_in_place(frame: YUVFrame) -> None:
    from effects.catalog import default_registry

    spec = default_registry().get("transform")
    work = frame.copy()
    spec.factory(frame.width, frame.height).apply([work], work, {"rotate": 0.5}, 0)
    assert diff(work, run("transform", frame, rotate=0.5)) == 0


@pytest.mark.parametrize("axis", ["horizontal", "vertical", "both"])
def test_mirror(noisy: YUVFrame, axis: str) -> None:
    y, u, v = planes(noisy)
    w = y.shape[1]

    # Reference by explicit index maps (works for odd chroma sizes too).
    def ref(p: np.ndarray) -> np.ndarray:
        hh, ww = p.shape
        ii = np.arange(hh)
        jj = np.arange(ww)
        si = np.where((axis == "horizontal") | (ii < hh // 2), ii, hh - 1 - ii)
        sj = np.where((axis == "vertical") | (jj < ww // 2), jj, ww - 1 - jj)
        mirrored: np.ndarray = p[np.ix_(si, sj)]
        return mirrored

    out = run("mirror", noisy, axis=axis)
    assert diff(out, make(ref(y), ref(u), ref(v))) == 0
    if axis == "horizontal":
        assert np.array_equal(out.y[:, : w // 2], out.y[:, w - w // 2 :][:, ::-1])


@pytest.mark.parametrize("count", [1, 2, 3, 32])
def test_tile(noisy: YUVFrame, count: int) -> None:
    def ref(p: np.ndarray) -> np.ndarray:
        hh, ww = p.shape
        return p[np.ix_((np.arange(hh) * count) % hh, (np.arange(ww) * count) % ww)]

    y, u, v = planes(noisy)
    assert diff(run("tile", noisy, count=count), make(ref(y), ref(u), ref(v))) == 0


def _kaleido(p: np.ndarray, n: int, ang: float) -> np.ndarray:
    h, w = p.shape
    cx, cy = w / 2, h / 2
    jj, ii = np.meshgrid(np.arange(w), np.arange(h))
    dx, dy = jj + 0.5 - cx, ii + 0.5 - cy
    r = np.hypot(dx, dy)
    wedge = math.pi / n
    t = np.mod(np.arctan2(dy, dx), 2 * wedge)
    t = np.where(t > wedge, 2 * wedge - t, t) + ang
    return bilinear(p, cx + r * np.cos(t) - 0.5, cy + r * np.sin(t) - 0.5, "mirror", 0)


@pytest.mark.parametrize(("n", "ang"), [(1, 0.0), (6, 0.0), (7, 0.4), (64, -2.0)])
def test_kaleidoscope(frame: YUVFrame, n: int, ang: float) -> None:
    y, u, v = planes(frame)
    out = run("kaleidoscope", frame, segments=n, rotate=ang)
    ref = make(_kaleido(y, n, ang), _kaleido(u, n, ang), _kaleido(v, n, ang))
    d = np.abs(out.data.astype(int) - ref.data.astype(int))
    assert (d > 1).mean() < 0.001


def _wave(
    p: np.ndarray, amp: float, wl: float, ph: float, vertical: bool, edge: str, fill: float
) -> np.ndarray:
    h, w = p.shape
    jj, ii = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    k = 2 * math.pi / wl
    if vertical:
        return bilinear(p, jj, ii + amp * np.sin(k * jj + ph), edge, fill)
    return bilinear(p, jj + amp * np.sin(k * ii + ph), ii, edge, fill)


@pytest.mark.parametrize("direction", ["horizontal", "vertical"])
@pytest.mark.parametrize("edge", EDGE_MODES)
def test_wave(frame: YUVFrame, direction: str, edge: str) -> None:
    y, u, v = planes(frame)
    vert = direction == "vertical"
    amp, wl, ph = 17.0, 45.0, 0.7
    ref = make(
        _wave(y, amp, wl, ph, vert, edge, 16),
        _wave(u, amp / 2, wl / 2, ph, vert, edge, 128),
        _wave(v, amp / 2, wl / 2, ph, vert, edge, 128),
    )
    out = run("wave", frame, amplitude=amp, wavelength=wl, phase=ph, direction=direction, edge=edge)
    d = np.abs(out.data.astype(int) - ref.data.astype(int))
    assert d.max() <= 1


def test_wave_zero_amplitude_is_identity(frame: YUVFrame) -> None:
    assert diff(run("wave", frame, amplitude=0.0), frame) == 0


def test_kaleidoscope_animated_matches_fresh(frame: YUVFrame) -> None:
    # One instance across changing rotate and segments (cached offsets, rotated
    # per frame) gives exactly what a fresh instance gives.
    from effects.catalog import default_registry

    fx = default_registry().get("kaleidoscope").factory(frame.width, frame.height)
    out = YUVFrame.alloc(frame.width, frame.height)
    for i, (n, ang) in enumerate([(6, 0.0), (6, 0.5), (6, -2.5), (3, 0.5), (6, 0.5)]):
        fx.apply([frame], out, {"segments": n, "rotate": ang}, i)
        assert diff(out, run("kaleidoscope", frame, segments=n, rotate=ang)) == 0, (n, ang)


@pytest.mark.parametrize(("w", "h"), [(2, 2), (4, 2), (6, 4), (34, 10)])
def test_resampling_effects_small_frames(w: int, h: int) -> None:
    # Planes of 1-2 pixels take the no-interior path; rows of a few pixels mix both.
    rng = np.random.default_rng(w * 10 + h)
    f = YUVFrame.wrap(rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8))
    y, u, v = planes(f)
    ref = make(_kaleido(y, 5, 0.3), _kaleido(u, 5, 0.3), _kaleido(v, 5, 0.3))
    assert diff(run("kaleidoscope", f, segments=5, rotate=0.3), ref) <= 1
    for vert in (False, True):
        ref = make(
            _wave(y, 3.0, 7.0, 0.2, vert, "mirror", 16),
            _wave(u, 1.5, 3.5, 0.2, vert, "mirror", 128),
            _wave(v, 1.5, 3.5, 0.2, vert, "mirror", 128),
        )
        direction = "vertical" if vert else "horizontal"
        assert (
            diff(run("wave", f, amplitude=3.0, wavelength=7.0, phase=0.2, direction=direction), ref)
            <= 1
        )


def test_warp_rejects_planes_too_large_for_int32_coordinates() -> None:
    from effects.kernels.geometric import warp_affine

    src = np.zeros((1, 32768), np.uint8)
    with pytest.raises(ValueError, match="under 32768"):
        warp_affine(src, np.zeros((1, 4), np.uint8), 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0, 16)
