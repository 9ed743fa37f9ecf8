"""The ladder's plane resampler against independent references.

Area downscale is checked against exact box averaging (each source pixel
repeated ``n_out`` times, then blocks of ``n_in`` averaged: the area integral
with no weight tables), bilinear upscale against numpy's ``interp``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from effects.kernels.resize import WEIGHT_BITS, axis_taps, resample_plane, row_taps


def _area_reference(src: np.ndarray, h_out: int, w_out: int) -> np.ndarray:
    h_in, w_in = src.shape
    gh, gw = math.gcd(h_in, h_out), math.gcd(w_in, w_out)
    up = np.repeat(np.repeat(src.astype(np.float64), h_out // gh, axis=0), w_out // gw, axis=1)
    ref: np.ndarray = up.reshape(h_out, h_in // gh, w_out, w_in // gw).mean(axis=(1, 3))
    return ref


def _resample(src: np.ndarray, h_out: int, w_out: int) -> np.ndarray:
    dst = np.zeros((h_out, w_out), np.uint8)
    xi, xw = row_taps(*axis_taps(src.shape[1], w_out), src.shape[1])
    ys, yw = axis_taps(src.shape[0], h_out)
    resample_plane(np.ascontiguousarray(src), dst, xi, xw, ys, yw)
    return dst


@pytest.mark.parametrize(
    ("shape_in", "shape_out"),
    [((108, 192), (36, 64)), ((1080, 1920), (720, 1280)), ((90, 160), (48, 86)), ((7, 9), (3, 4))],
)
def test_area_downscale_matches_box_average(
    shape_in: tuple[int, int], shape_out: tuple[int, int]
) -> None:
    rng = np.random.default_rng(7)
    src = rng.integers(0, 256, shape_in, dtype=np.uint8)
    got = _resample(src, *shape_out).astype(np.float64)
    ref = _area_reference(src, *shape_out)
    # fixed-point weights: within half a level plus the weight rounding
    assert np.abs(got - ref).max() <= 0.51 + 255 * 2 * 4 / (1 << WEIGHT_BITS)
    assert abs(got.mean() - ref.mean()) < 0.3


def test_bilinear_upscale_matches_interp() -> None:
    rng = np.random.default_rng(3)
    row = rng.integers(0, 256, (1, 10), dtype=np.uint8)
    src = np.repeat(row, 4, axis=0)
    got = _resample(src, 4, 25)
    x = np.clip((np.arange(25) + 0.5) * 10 / 25 - 0.5, 0, 9)
    ref = np.interp(x, np.arange(10), row[0].astype(np.float64))
    assert np.abs(got[0].astype(np.float64) - ref).max() <= 0.51


@pytest.mark.parametrize(("n_in", "n_out"), [(1920, 1280), (1080, 360), (540, 427), (10, 25)])
def test_tap_weights_sum_to_one_and_stay_inside(n_in: int, n_out: int) -> None:
    starts, weights = axis_taps(n_in, n_out)
    assert (weights.sum(axis=1) == 1 << WEIGHT_BITS).all()
    for i in range(n_out):
        used = np.nonzero(weights[i])[0]
        assert starts[i] >= 0 and starts[i] + used.max() < n_in


@pytest.mark.parametrize("level", [0, 77, 255])
@pytest.mark.parametrize("shape_out", [(480, 854), (720, 1280), (1440, 2560)])
def test_flat_plane_stays_flat(level: int, shape_out: tuple[int, int]) -> None:
    # 255 is the int32 headroom check: the horizontal sum must not wrap
    src = np.full((1080, 1920), level, np.uint8)
    assert (_resample(src, *shape_out) == level).all()


def test_bad_sizes_raise() -> None:
    with pytest.raises(ValueError, match="positive"):
        axis_taps(0, 4)
