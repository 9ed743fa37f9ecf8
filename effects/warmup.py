"""Compile every kernel once, at worker start.

With numba's on-disk cache (``cache=True``) a restarted worker loads the
compiled kernels instead of compiling them; this call then takes well under
a second and the first real frame runs at full speed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from effects.catalog import default_registry
from effects.frame import YUVFrame
from effects.registry import ParamValue, Registry

__all__ = ["IDENTITY_CUBE", "warm_up"]

IDENTITY_CUBE = "LUT_3D_SIZE 2\n" + "".join(
    f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1)
)


def warm_up(registry: Registry | None = None, width: int = 64, height: int = 48) -> float:
    """Run every registered effect on a small synthetic frame; returns seconds taken."""
    t0 = time.perf_counter()
    reg = registry if registry is not None else default_registry()
    rng = np.random.default_rng(1)
    a = YUVFrame.wrap(rng.integers(0, 256, (height * 3 // 2, width), dtype=np.uint8))
    b = YUVFrame.wrap(rng.integers(0, 256, (height * 3 // 2, width), dtype=np.uint8))
    out = YUVFrame.alloc(width, height)
    with tempfile.TemporaryDirectory() as tmp:
        cube = Path(tmp) / "identity.cube"
        cube.write_text(IDENTITY_CUBE)
        for spec in reg:
            params: dict[str, ParamValue] = {
                p.name: str(cube) for p in spec.params if p.type == "path"
            }
            effect = spec.factory(width, height)
            for i in range(2):  # temporal effects take another branch once they have state
                effect.apply([a, b][: spec.arity], out, params, i)
    return time.perf_counter() - t0
