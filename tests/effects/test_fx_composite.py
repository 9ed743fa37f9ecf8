"""Composite effects against numpy references (1 level: float32/fixed-point vs float64)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from effects.frame import YUVFrame
from effects.kernels.colour import rgb_to_yuv
from effects.kernels.composite import BLEND_MODES
from tests.effects.fx_reference import diff, make, planes, run

_MODES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "normal": lambda a, b: b,
    "add": lambda a, b: np.minimum(a + b, 1),
    "multiply": lambda a, b: a * b,
    "screen": lambda a, b: 1 - (1 - a) * (1 - b),
    "overlay": lambda a, b: np.where(a < 0.5, 2 * a * b, 1 - 2 * (1 - a) * (1 - b)),
    "difference": lambda a, b: np.abs(a - b),
    "lighten": np.maximum,
    "darken": np.minimum,
}


@pytest.mark.parametrize("mode", BLEND_MODES)
@pytest.mark.parametrize("opacity", [0.0, 0.6, 1.0])
def test_blend(noisy: YUVFrame, frame_b: YUVFrame, mode: str, opacity: float) -> None:
    (ay, au, av), (by, bu, bv) = planes(noisy), planes(frame_b)
    x, y = ay / 255, by / 255
    ref = make(
        (x + opacity * (_MODES[mode](x, y) - x)) * 255,
        au + opacity * (bu - au),
        av + opacity * (bv - av),
    )
    assert diff(run("blend", noisy, frame_b, mode=mode, opacity=opacity), ref) <= 1


def test_crossfade(frame: YUVFrame, frame_b: YUVFrame) -> None:
    a, b = frame.data.astype(float), frame_b.data.astype(float)
    for t in (0.0, 0.25, 1.0):
        out = run("crossfade", frame, frame_b, mix=t)
        assert np.abs(out.data - np.floor(a + t * (b - a) + 0.5)).max() <= 1
    assert diff(run("crossfade", frame, frame_b, mix=0.0), frame) == 0
    assert diff(run("crossfade", frame, frame_b, mix=1.0), frame_b) == 0


def test_chroma_key(frame: YUVFrame, frame_b: YUVFrame) -> None:
    fg = frame.copy()
    _, ku, kv = rgb_to_yuv((0, 255, 0))
    fg.u[:40, :60] = round(ku)  # a green block in the top-left corner
    fg.v[:40, :60] = round(kv)
    out = run("chroma_key", fg, frame_b, color=[0, 255, 0], similarity=0.1, softness=0.1)
    (fy, fu, fv), (by, bu, bv) = planes(fg), planes(frame_b)
    d = np.hypot((fu - ku) / 255, (fv - kv) / 255)
    alpha = np.clip((d - 0.1) / 0.1, 0, 1)
    a2 = alpha.repeat(2, 0).repeat(2, 1)
    ref = make(by + a2 * (fy - by), bu + alpha * (fu - bu), bv + alpha * (fv - bv))
    assert diff(out, ref) <= 1
    assert (
        diff(
            make(out.y[:80, :120], out.u[:40, :60], out.v[:40, :60]),
            make(by[:80, :120], bu[:40, :60], bv[:40, :60]),
        )
        == 0
    )


@pytest.mark.parametrize(
    ("amount", "radius", "softness"), [(0.6, 0.5, 0.5), (1.0, 0.0, 0.0), (0.0, 0.5, 0.5)]
)
def test_vignette(frame: YUVFrame, amount: float, radius: float, softness: float) -> None:
    def ref(p: np.ndarray, centre: float) -> np.ndarray:
        h, w = p.shape
        cx, cy = w / 2, h / 2
        inv = 1 / np.hypot(cx, cy)
        jj, ii = np.meshgrid(np.arange(w), np.arange(h))
        r = np.hypot((jj + 0.5 - cx) * inv, (ii + 0.5 - cy) * inv)
        t = np.clip((r - radius) / max(softness, 1e-6), 0, 1)
        t = t * t * (3 - 2 * t)
        shaded: np.ndarray = centre + (p - centre) * (1 - amount * t)
        return shaded

    y, u, v = planes(frame)
    out = run("vignette", frame, amount=amount, radius=radius, softness=softness)
    assert diff(out, make(ref(y, 16), ref(u, 128), ref(v, 128))) <= 1
    if amount == 0.0:
        assert diff(out, frame) == 0
