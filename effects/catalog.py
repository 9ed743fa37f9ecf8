"""The default effect registry, built from an explicit list of kernel modules."""

from __future__ import annotations

from types import ModuleType

from effects.kernels import colour, composite, geometric, glitch, spatial, temporal
from effects.registry import Registry

__all__ = ["KERNEL_MODULES", "default_registry"]

KERNEL_MODULES: tuple[ModuleType, ...] = (colour, spatial, geometric, glitch, temporal, composite)


def default_registry() -> Registry:
    """A fresh registry holding every effect of every kernel module (pure data, cheap)."""
    return Registry([spec for module in KERNEL_MODULES for spec in module.SPECS])
