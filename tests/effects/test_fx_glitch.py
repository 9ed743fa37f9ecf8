"""Glitch kernels against numpy references (all exact: integer work and the same hash)."""

from __future__ import annotations

import numpy as np
import pytest

from effects.frame import YUVFrame
from tests.effects.fx_reference import diff, hash3, make, mix64, planes, run, unit


def _shift(p: np.ndarray, dx: int, dy: int) -> np.ndarray:
    h, w = p.shape
    return p[np.ix_(np.clip(np.arange(h) - dy, 0, h - 1), np.clip(np.arange(w) - dx, 0, w - 1))]


@pytest.mark.parametrize(("x", "y"), [(8.0, 0.0), (-30.0, 12.0), (200.0, -200.0)])
def test_rgb_split(frame: YUVFrame, x: float, y: float) -> None:
    py, pu, pv = planes(frame)
    dx, dy = round(x / 2), round(y / 2)
    ref = make(py, _shift(pu, -dx, -dy), _shift(pv, dx, dy))
    assert diff(run("rgb_split", frame, x=x, y=y), ref) == 0


def _scan(
    p: np.ndarray, band: int, amount: float, prob: float, seed: int, fi: int, scale: int
) -> np.ndarray:
    h, w = p.shape
    out = np.empty_like(p)
    for i in range(h):
        hv = hash3(seed, fi, np.array([(i * scale) // band]))
        dx = 0
        if unit(hv)[0] < prob:
            r = unit(mix64(hv))[0] * 2 - 1
            dx = int(np.round(r * amount)) // scale
        out[i] = p[i, (np.arange(w) - dx) % w]
    return out


@pytest.mark.parametrize(
    ("band", "amount", "prob", "seed", "fi"),
    [(8, 40.0, 0.3, 0, 0), (1, 500.0, 1.0, 99, 17), (3, 10.0, 0.0, 5, 2)],
)
def test_scanlines(
    frame: YUVFrame, band: int, amount: float, prob: float, seed: int, fi: int
) -> None:
    y, u, v = planes(frame)
    ref = make(*(_scan(p, band, amount, prob, seed, fi, s) for p, s in ((y, 1), (u, 2), (v, 2))))
    out = run(
        "scanlines", frame, fi=fi, amount=amount, line_height=band, probability=prob, seed=seed
    )
    assert diff(out, ref) == 0
    if prob == 0.0:
        assert diff(out, frame) == 0


def _noise(p: np.ndarray, amount: float, seed: int, fi: int, salt: int) -> np.ndarray:
    h, w = p.shape
    k = (np.arange(h * w, dtype=np.uint64) * np.uint64(4) + np.uint64(salt)).reshape(h, w)
    n = (unit(hash3(seed, fi, k)) * 2 - 1) * amount
    return np.clip(np.trunc(p + n + 0.5), 0, 255)


@pytest.mark.parametrize("mono", [True, False])
def test_noise(frame: YUVFrame, mono: bool) -> None:
    y, u, v = planes(frame)
    if mono:
        ref = make(_noise(y, 20.0, 3, 5, 0), u, v)
    else:
        ref = make(_noise(y, 20.0, 3, 5, 0), _noise(u, 10.0, 3, 5, 1), _noise(v, 10.0, 3, 5, 2))
    out = run("noise", frame, fi=5, amount=20.0, seed=3, mono=mono)
    assert diff(out, ref) == 0
    assert diff(out, frame) > 5


def test_noise_depends_on_seed_and_frame(frame: YUVFrame) -> None:
    a = run("noise", frame, fi=1, seed=1)
    assert diff(a, run("noise", frame, fi=1, seed=1)) == 0
    assert diff(a, run("noise", frame, fi=2, seed=1)) > 0
    assert diff(a, run("noise", frame, fi=1, seed=2)) > 0
