"""The default effect registry, built from an explicit list of declaration modules.

Building it imports no kernel (and neither numba nor numpy): each kernel
module is imported by the first ``factory()`` call of one of its effects.
"""

from __future__ import annotations

from types import ModuleType

from effects.registry import Registry
from effects.specs import colour, composite, geometric, glitch, spatial, temporal, utility

__all__ = ["SPEC_MODULES", "default_registry"]

SPEC_MODULES: tuple[ModuleType, ...] = (
    colour,
    spatial,
    geometric,
    glitch,
    temporal,
    composite,
    utility,
)


def default_registry() -> Registry:
    """A fresh registry holding every effect of every declaration module (pure data, cheap)."""
    return Registry([spec for module in SPEC_MODULES for spec in module.SPECS])
