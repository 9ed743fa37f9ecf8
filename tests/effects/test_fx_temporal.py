"""Temporal effects: state across frames, against numpy references (1 level: fixed-point mixing)."""

from __future__ import annotations

import numpy as np

from effects.catalog import default_registry
from effects.frame import YUVFrame
from tests.effects.fx_pattern import pattern
from tests.effects.fx_reference import affine, diff, make, planes

W, H = 318, 242


def _frames(n: int) -> list[YUVFrame]:
    return [pattern(W, H, s) for s in range(n)]


def test_feedback_trails() -> None:
    frames = _frames(4)
    fx = default_registry().get("feedback").factory(W, H)
    out = YUVFrame.alloc(W, H)
    prev = None
    for i, f in enumerate(frames):
        fx.apply([f], out, {"amount": 0.7}, i)
        cur = f.data.astype(np.float64)
        ref = cur if prev is None else cur + 0.7 * (prev - cur)
        # Reference tracks the kernel's own previous output so errors do not compound.
        assert np.abs(out.data - np.floor(ref + 0.5)).max() <= 1
        prev = out.data.astype(np.float64)
    fx.reset()
    fx.apply([frames[0]], out, {"amount": 0.7}, 0)
    assert diff(out, frames[0]) == 0


def test_feedback_zoom_uses_transformed_previous() -> None:
    a, b = _frames(2)
    fx = default_registry().get("feedback").factory(W, H)
    out = YUVFrame.alloc(W, H)
    fx.apply([a], out, {"amount": 0.5, "zoom": 1.1, "rotate": 0.05}, 0)
    fx.apply([b], out, {"amount": 0.5, "zoom": 1.1, "rotate": 0.05}, 1)
    ay, au, av = planes(a)
    warped = [
        affine(ay, 1.1, 0.05, 0, 0, "clamp", 0),
        affine(au, 1.1, 0.05, 0, 0, "clamp", 128),
        affine(av, 1.1, 0.05, 0, 0, "clamp", 128),
    ]
    ref = make(*(p + 0.5 * (w - p) for p, w in zip(planes(b), warped, strict=True)))
    assert diff(out, ref) <= 2


def test_echo_weighted_average() -> None:
    frames = _frames(5)
    fx = default_registry().get("echo").factory(W, H)
    out = YUVFrame.alloc(W, H)
    for i, f in enumerate(frames):
        fx.apply([f], out, {"frames": 3, "decay": 0.5}, i)
    wts = np.array([1.0, 0.5, 0.25])
    ref = sum(w * frames[4 - k].data.astype(np.float64) for k, w in enumerate(wts)) / wts.sum()
    assert np.abs(out.data - np.floor(ref + 0.5)).max() <= 1
    fx.reset()
    fx.apply([frames[0]], out, {"frames": 3, "decay": 0.5}, 0)
    assert diff(out, frames[0]) == 0


def test_strobe_by_frame_index() -> None:
    (f,) = _frames(1)
    fx = default_registry().get("strobe").factory(W, H)
    out = YUVFrame.alloc(W, H)
    flashes = []
    for i in range(10):
        fx.apply([f], out, {"period": 4, "duty": 2, "level": 235}, i)
        flashed = bool((out.y == 235).all() and (out.u == 128).all())
        flashes.append(flashed)
        if not flashed:
            assert diff(out, f) == 0
    assert flashes == [True, True, False, False] * 2 + [True, True]
