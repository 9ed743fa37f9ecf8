"""Temporal effects that keep state across frames: feedback, echo, strobe.

State lives in the effect instance (one per node and frame size); ``reset``
clears it, e.g. on a seek or a new stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import NEUTRAL_UV
from effects.kernels.affine import affine_coeffs, warp_affine, warp_affine2
from effects.registry import ParamValue
from effects.specs.temporal import ECHO_PARAMS, FEEDBACK_PARAMS, MAX_ECHO

__all__ = ["Echo", "Feedback", "mix_into"]


@njit(nogil=True, cache=True)
def mix_into(a: np.ndarray, b: np.ndarray, dst: np.ndarray, t: float) -> None:
    """``dst = a + t * (b - a)`` rounded; buffers of equal shape, any may alias."""
    h, w = a.shape
    wt = np.int32(round(t * 256.0))
    for i in range(h):
        for j in range(w):
            x = np.int32(a[i, j])
            dst[i, j] = np.uint8(x + ((np.int32(b[i, j]) - x) * wt + 128 >> 8))


class Feedback:
    """out = mix(input, transformed previous output, amount)."""

    def __init__(self, width: int, height: int) -> None:
        self.prev = np.empty((height * 3 // 2, width), dtype=np.uint8)
        self.warped = np.empty_like(self.prev)
        self.have = False
        self.defaults: dict[str, ParamValue] = {p.name: p.default for p in FEEDBACK_PARAMS}

    def apply(
        self,
        inputs: Sequence[YUVFrame],
        out: YUVFrame,
        params: Mapping[str, ParamValue],
        frame_index: int,
    ) -> None:
        p: dict[str, Any] = self.defaults | dict(params)
        src = inputs[0]
        if not self.have:
            out.data[:] = src.data
        else:
            prev = YUVFrame(self.prev, src.width, src.height)
            warped = YUVFrame(self.warped, src.width, src.height)
            z, r = float(p["zoom"]), float(p["rotate"])
            if z == 1.0 and r == 0.0:
                warped = prev
            else:
                w, h = src.width, src.height
                warp_affine(prev.y, warped.y, *affine_coeffs(w, h, z, r, 0.0, 0.0), 1, 0)
                cc = affine_coeffs(w // 2, h // 2, z, r, 0.0, 0.0)
                warp_affine2(prev.u, prev.v, warped.u, warped.v, *cc, 1, NEUTRAL_UV)
            mix_into(src.data, warped.data, out.data, float(p["amount"]))
        self.prev[:] = out.data
        self.have = True

    def reset(self) -> None:
        self.have = False


@njit(nogil=True, cache=True)
def weighted_sum(ring: np.ndarray, order: np.ndarray, weights: np.ndarray, dst: np.ndarray) -> None:
    """``dst = sum_k weights[k] * ring[order[k]]`` (weights sum to 1), rounded."""
    n = order.shape[0]
    h, w = dst.shape
    acc = np.empty(w)
    for i in range(h):
        # Row-wise accumulation (same order of additions per pixel as a
        # per-pixel loop over k, so the same result) keeps the loops contiguous.
        for j in range(w):
            acc[j] = 0.0
        for k in range(n):
            wk = weights[k]
            row = ring[order[k], i]
            for j in range(w):
                acc[j] += wk * row[j]
        out = dst[i]
        for j in range(w):
            out[j] = np.uint8(min(acc[j] + 0.5, 255.0))


class Echo:
    """Weighted average of the last ``frames`` inputs, newest weighted 1, older decay**k."""

    def __init__(self, width: int, height: int) -> None:
        self.shape = (height * 3 // 2, width)
        self.ring = np.empty((0, *self.shape), dtype=np.uint8)
        self.count = 0
        self.head = 0
        self.defaults: dict[str, ParamValue] = {p.name: p.default for p in ECHO_PARAMS}

    def apply(
        self,
        inputs: Sequence[YUVFrame],
        out: YUVFrame,
        params: Mapping[str, ParamValue],
        frame_index: int,
    ) -> None:
        p: dict[str, Any] = self.defaults | dict(params)
        n, decay = int(p["frames"]), float(p["decay"])
        if self.ring.shape[0] == 0:
            self.ring = np.empty((MAX_ECHO, *self.shape), dtype=np.uint8)
        self.head = (self.head + 1) % MAX_ECHO
        self.ring[self.head] = inputs[0].data
        self.count = min(self.count + 1, MAX_ECHO)
        k = min(n, self.count)
        order = np.array([(self.head - i) % MAX_ECHO for i in range(k)], dtype=np.int64)
        weights = decay ** np.arange(k, dtype=np.float64)
        weights /= weights.sum()
        weighted_sum(self.ring, order, weights, out.data)

    def reset(self) -> None:
        self.count = 0


def _strobe(
    inputs: Sequence[YUVFrame], out: YUVFrame, p: dict[str, Any], fi: int, s: object
) -> None:
    period, duty = int(p["period"]), int(p["duty"])
    src = inputs[0]
    if fi % period < duty:
        out.y.fill(int(p["level"]))
        out.u.fill(NEUTRAL_UV)
        out.v.fill(NEUTRAL_UV)
    elif src.data is not out.data:
        out.data[:] = src.data
