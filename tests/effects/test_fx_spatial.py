"""Spatial kernels against numpy references.

Tolerances: box blur 1 level (the kernel divides by a 24-bit fixed-point
reciprocal, the reference by integer division); gaussian 3 levels against
three reference box passes (one per pass) and a mean error under 1 level
against an exact gaussian on smooth input; sharpen 1 + amount levels (the blur's
rounding is amplified), edges/emboss 1 level
(float32 vs float64); pixelate exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from effects.frame import YUVFrame
from effects.kernels.spatial import gauss_radii
from tests.effects.fx_reference import box, diff, gaussian_true, make, planes, run


@pytest.mark.parametrize("radius", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 60.0, 200.0])
def test_box_blur(noisy: YUVFrame, radius: float) -> None:
    y, u, v = planes(noisy)
    r = int(radius)
    rc = (r + 1) // 2
    ref = make(box(y, r), box(u, rc), box(v, rc))
    assert diff(run("blur", noisy, radius=radius), ref) <= (0 if r == 0 else 1)


@pytest.mark.parametrize(("w", "h"), [(2, 2), (4, 4), (10, 6), (12, 2), (18, 8)])
def test_box_blur_narrow_frames(w: int, h: int) -> None:
    # Rows shorter than the window: the direct-sum interior (radii 1-4) is empty or tiny.
    rng = np.random.default_rng(w * 100 + h)
    f = YUVFrame.wrap(rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8))
    y, u, v = planes(f)
    for r in range(1, 7):
        rc = (r + 1) // 2
        ref = make(box(y, r), box(u, rc), box(v, rc))
        assert diff(run("blur", f, radius=float(r)), ref) <= 1, r


def test_box_blur_changes_noise(noisy: YUVFrame) -> None:
    out = run("blur", noisy, radius=3.0)
    assert out.y.std() < noisy.y.std() / 3


@pytest.mark.parametrize("sigma", [0.0, 0.5, 2.0, 9.0])
def test_gaussian_matches_box_passes(noisy: YUVFrame, sigma: float) -> None:
    y, u, v = planes(noisy)
    for r, rc in zip(gauss_radii(sigma), gauss_radii(sigma / 2), strict=True):
        y, u, v = box(y, r), box(u, rc), box(v, rc)
    assert diff(run("gaussian_blur", noisy, sigma=sigma), make(y, u, v)) <= 3


@pytest.mark.parametrize("sigma", [1.5, 4.0])
def test_gaussian_close_to_exact(frame: YUVFrame, sigma: float) -> None:
    out = run("gaussian_blur", frame, sigma=sigma)
    ref = gaussian_true(planes(frame)[0], sigma)
    err = np.abs(out.y.astype(np.float64) - ref)
    assert err.mean() < 1.0
    assert err.max() <= 6


def test_gauss_radii_variance() -> None:
    for sigma in (0.8, 2.0, 5.0, 20.0):
        var = sum(((2 * r + 1) ** 2 - 1) / 12 for r in gauss_radii(sigma))
        # Odd integer widths: the effective sigma misses by at most about 0.2 px.
        assert abs(var**0.5 - sigma) <= 0.25


@pytest.mark.parametrize(("amount", "radius"), [(0.0, 1.0), (1.0, 1.0), (3.0, 4.0), (10.0, 20.0)])
def test_sharpen(noisy: YUVFrame, amount: float, radius: float) -> None:
    y, u, v = planes(noisy)
    ref = make(y + amount * (y - box(y, int(radius))), u, v)
    # The blur inside may round one level differently; the mask multiplies that by amount.
    assert diff(run("sharpen", noisy, amount=amount, radius=radius), ref) <= 1 + amount


def _neighbours(y: np.ndarray) -> dict[str, np.ndarray]:
    q = np.pad(y, 1, mode="edge")
    h, w = y.shape
    return {
        k: q[i : i + h, j : j + w]
        for k, (i, j) in zip(
            "abcdfghk",
            [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)],
            strict=True,
        )
    }


@pytest.mark.parametrize("strength", [0.0, 1.0, 3.0])
def test_edges_sobel(noisy: YUVFrame, strength: float) -> None:
    y, u, _ = planes(noisy)
    n = _neighbours(y)
    gx = (n["c"] + 2 * n["f"] + n["k"]) - (n["a"] + 2 * n["d"] + n["g"])
    gy = (n["g"] + 2 * n["h"] + n["k"]) - (n["a"] + 2 * n["b"] + n["c"])
    grey = np.full_like(u, 128)
    ref = make(np.hypot(gx, gy) * strength * 0.25, grey, grey)
    assert diff(run("edges", noisy, strength=strength), ref) <= 1


def test_emboss(noisy: YUVFrame) -> None:
    y, u, _ = planes(noisy)
    n = _neighbours(y)
    grey = np.full_like(u, 128)
    ref = make(((n["k"] + n["f"] + n["h"]) - (n["a"] + n["b"] + n["d"])) * 2.0 + 128, grey, grey)
    assert diff(run("emboss", noisy, strength=2.0), ref) <= 1


def _pix(p: np.ndarray, s: int) -> np.ndarray:
    out = np.empty_like(p)
    h, w = p.shape
    for i in range(0, h, s):
        for j in range(0, w, s):
            blk = p[i : i + s, j : j + s]
            out[i : i + s, j : j + s] = np.floor(blk.mean() + 0.5)
    return out


@pytest.mark.parametrize("size", [2, 3, 16, 512])
def test_pixelate(noisy: YUVFrame, size: int) -> None:
    y, u, v = planes(noisy)
    s = max(2, size // 2 * 2)
    ref = make(_pix(y, s), _pix(u, s // 2), _pix(v, s // 2))
    # Block means: integer (s + n//2)//n in the kernel, floor(mean + .5) here -> identical.
    assert diff(run("pixelate", noisy, size=size), ref) == 0


@pytest.mark.parametrize(("w", "h"), [(2, 2), (4, 2), (6, 4)])
def test_stencils_small_frames(w: int, h: int) -> None:
    # Rows of 2-6 pixels: the clamped first/last columns around a tiny or empty interior.
    rng = np.random.default_rng(w + 10 * h)
    f = YUVFrame.wrap(rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8))
    y, u, _ = planes(f)
    n = _neighbours(y.astype(np.float64))
    grey = np.full_like(u, 128)
    gx = (n["c"] + 2 * n["f"] + n["k"]) - (n["a"] + 2 * n["d"] + n["g"])
    gy = (n["g"] + 2 * n["h"] + n["k"]) - (n["a"] + 2 * n["b"] + n["c"])
    assert diff(run("edges", f, strength=1.0), make(np.hypot(gx, gy) * 0.25, grey, grey)) <= 1
    emb = ((n["k"] + n["f"] + n["h"]) - (n["a"] + n["b"] + n["d"])) * 2.0 + 128
    assert diff(run("emboss", f, strength=2.0), make(emb, grey, grey)) <= 1
