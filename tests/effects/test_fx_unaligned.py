"""The unaligned uint16 load used by the warp's gather, against numpy."""

from __future__ import annotations

import numpy as np
from numba import njit

from effects.kernels._unaligned import load_u16


@njit(cache=False)
def _all_pairs(flat: np.ndarray, out: np.ndarray) -> None:
    for k in range(flat.size - 1):
        out[k] = load_u16(flat, k)


@njit(cache=False)
def _unsigned_offsets(flat: np.ndarray, out: np.ndarray) -> None:
    for k in range(flat.size - 1):
        out[k] = load_u16(flat, np.uint32(k))


def test_load_u16_matches_little_endian_pairs() -> None:
    rng = np.random.default_rng(3)
    buf = rng.integers(0, 256, 1001, dtype=np.uint8)
    flat = buf[1:]  # odd start address: every load is misaligned somewhere
    ref = flat[:-1].astype(np.uint16) | (flat[1:].astype(np.uint16) << 8)
    for fn in (_all_pairs, _unsigned_offsets):
        out = np.zeros(flat.size - 1, np.uint16)
        fn(flat, out)
        np.testing.assert_array_equal(out, ref)
