"""Colour kernels against numpy references.

Tolerances: 0 where kernel and reference do the same integer work (invert,
posterize, brightness); 1 level where the kernel computes in float32 and the
reference in float64 (chroma matrices, luma curves); 2-3 levels where the
reference is defined in RGB and converted (tint, color_balance, lut3d),
because 4:2:0 chroma is averaged and rounded twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from effects.frame import YUVFrame
from effects.kernels.colour import load_cube
from effects.registry import EffectError
from tests.effects.fx_reference import diff, from_rgb, make, planes, run, to_rgb


def test_identity_is_exact(frame: YUVFrame) -> None:
    assert diff(run("identity", frame), frame) == 0


@pytest.mark.parametrize("amount", [0.0, 0.3, 1.0])
def test_invert(noisy: YUVFrame, amount: float) -> None:
    y, u, v = planes(noisy)
    ref = make(*[(1 - amount) * p + amount * (255 - p) for p in (y, u, v)])
    assert diff(run("invert", noisy, amount=amount), ref) <= (0 if amount in (0.0, 1.0) else 1)


@pytest.mark.parametrize("amount", [-1.0, -0.2, 0.0, 0.35, 1.0])
def test_brightness(noisy: YUVFrame, amount: float) -> None:
    y, u, v = planes(noisy)
    assert diff(run("brightness", noisy, amount=amount), make(y + 255 * amount, u, v)) == 0


@pytest.mark.parametrize("amount", [0.0, 0.5, 1.7, 4.0])
def test_contrast(noisy: YUVFrame, amount: float) -> None:
    y, u, v = planes(noisy)
    ref = make(*[(p - 128) * amount + 128 for p in (y, u, v)])
    assert diff(run("contrast", noisy, amount=amount), ref) <= 1


@pytest.mark.parametrize("amount", [0.0, 1.0, 1.5, 4.0])
def test_saturation(noisy: YUVFrame, amount: float) -> None:
    y, u, v = planes(noisy)
    ref = make(y, (u - 128) * amount + 128, (v - 128) * amount + 128)
    assert diff(run("saturation", noisy, amount=amount), ref) <= 1


@pytest.mark.parametrize("degrees", [-360.0, -45.0, 0.0, 90.0, 180.0, 359.0])
def test_hue(noisy: YUVFrame, degrees: float) -> None:
    y, u, v = planes(noisy)
    t = math.radians(degrees)
    cu, cv = u - 128, v - 128
    ref = make(
        y, math.cos(t) * cu - math.sin(t) * cv + 128, math.sin(t) * cu + math.cos(t) * cv + 128
    )
    assert diff(run("hue", noisy, degrees=degrees), ref) <= 1


def test_hue_360_is_identity(frame: YUVFrame) -> None:
    assert diff(run("hue", frame, degrees=360.0), frame) <= 1


@pytest.mark.parametrize("gamma", [0.1, 0.5, 1.0, 2.2, 10.0])
def test_gamma(noisy: YUVFrame, gamma: float) -> None:
    y, u, v = planes(noisy)
    assert diff(run("gamma", noisy, gamma=gamma), make(255 * (y / 255) ** (1 / gamma), u, v)) <= 1


def test_levels(noisy: YUVFrame) -> None:
    y, u, v = planes(noisy)
    x = np.clip((y - 20) / (200 - 20), 0, 1) ** (1 / 1.4)
    ref = make(30 + x * (220 - 30), u, v)
    out = run(
        "levels", noisy, in_black=20.0, in_white=200.0, gamma=1.4, out_black=30.0, out_white=220.0
    )
    assert diff(out, ref) <= 1


@pytest.mark.parametrize("levels", [2, 3, 8, 256])
def test_posterize(noisy: YUVFrame, levels: int) -> None:
    y, u, v = planes(noisy)
    step = 255 / (levels - 1)
    ref = make(
        np.rint(y / step) * step,
        np.rint((u - 128) / step) * step + 128,
        np.rint((v - 128) / step) * step + 128,
    )
    assert diff(run("posterize", noisy, levels=levels), ref) == 0


@pytest.mark.parametrize("level", [0.0, 100.0, 255.0])
def test_threshold(noisy: YUVFrame, level: float) -> None:
    y, u, _ = planes(noisy)
    grey = np.full_like(u, 128)
    assert (
        diff(run("threshold", noisy, level=level), make(np.where(y >= level, 255, 0), grey, grey))
        == 0
    )


def test_grayscale(frame: YUVFrame) -> None:
    y, u, _ = planes(frame)
    out = run("grayscale", frame)
    assert diff(out, make(y, np.full_like(u, 128), np.full_like(u, 128))) == 0
    half = run("grayscale", frame, amount=0.5)
    assert (
        diff(
            half,
            make(y, (planes(frame)[1] - 128) * 0.5 + 128, (planes(frame)[2] - 128) * 0.5 + 128),
        )
        <= 1
    )


@pytest.mark.parametrize("amount", [0.0, 0.4, 1.0])
def test_tint_matches_rgb_definition(frame: YUVFrame, amount: float) -> None:
    color = np.array([255.0, 40.0, 90.0])
    ref = from_rgb((1 - amount) * to_rgb(frame) + amount * color)
    assert diff(run("tint", frame, color=[255, 40, 90], amount=amount), ref) <= 2


def test_color_balance_matches_rgb_definition(frame: YUVFrame) -> None:
    ref = from_rgb(to_rgb(frame) + np.array([0.1, -0.05, 0.2]) * 255)
    assert diff(run("color_balance", frame, red=0.1, green=-0.05, blue=0.2), ref) <= 2


def _write_cube(
    path: Path, size: int, fn: Callable[[float, float, float], Sequence[float]]
) -> None:
    lines = ['TITLE "test"', f"LUT_3D_SIZE {size}"]
    g = np.linspace(0, 1, size)
    for b in g:
        for gg in g:
            for r in g:
                lines.append(" ".join(f"{c:.6f}" for c in fn(r, gg, b)))
    path.write_text("\n".join(lines) + "\n")


def test_lut3d_identity_and_swap(frame: YUVFrame, tmp_path: Path) -> None:
    ident = tmp_path / "id.cube"
    _write_cube(ident, 5, lambda r, g, b: (r, g, b))
    # Identity table: only the RGB round trip and chroma averaging remain.
    assert diff(run("lut3d", frame, path=str(ident)), frame) <= 3
    swap = tmp_path / "swap.cube"
    _write_cube(swap, 9, lambda r, g, b: (b, g, r))
    rgb = np.clip(to_rgb(frame), 0, 255)
    ref = from_rgb(rgb[..., ::-1])
    assert diff(run("lut3d", frame, path=str(swap)), ref) <= 3
    half = run("lut3d", frame, path=str(swap), amount=0.0)
    assert diff(half, frame) <= 3


def test_cube_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 2\n0 0 0\n1 0\n")
    with pytest.raises(EffectError, match=r"bad\.cube:3:"):
        load_cube(bad)
    short = tmp_path / "short.cube"
    short.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    with pytest.raises(EffectError, match="expected 8 table rows"):
        load_cube(short)
    with pytest.raises(EffectError, match="cannot read"):
        load_cube(tmp_path / "missing.cube")
