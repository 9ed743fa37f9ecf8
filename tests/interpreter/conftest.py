"""Fixtures of the recipe-language tests: a small effect registry independent of the catalog."""

from __future__ import annotations

import pytest

from effects.registry import EffectSpec, ParamSpec, Registry
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe


def _no_factory(width: int, height: int) -> object:
    raise AssertionError("the interpreter tests never instantiate effects")


def small_registry() -> Registry:
    """invert, blur(radius 0..50), hue(degrees), blend(mode, opacity; arity 2), posterize(levels int)."""
    return Registry(
        [
            EffectSpec("invert", "invert", "colour", (), _no_factory),  # type: ignore[arg-type]
            EffectSpec(
                "blur", "box blur", "spatial",
                (ParamSpec("radius", "float", 1.0, 0.0, 50.0, "px", "radius"),),
                _no_factory,  # type: ignore[arg-type]
            ),
            EffectSpec(
                "hue", "hue rotation", "colour",
                (ParamSpec("degrees", "float", 0.0, -360.0, 360.0, "deg", "angle"),),
                _no_factory,  # type: ignore[arg-type]
            ),
            EffectSpec(
                "blend", "blend two", "composite",
                (
                    ParamSpec("mode", "enum", "normal", doc="mode", choices=("normal", "add"), animatable=False),
                    ParamSpec("opacity", "float", 0.5, 0.0, 1.0, "", "opacity"),
                ),
                _no_factory,  # type: ignore[arg-type]
                arity=2,
            ),
            EffectSpec(
                "posterize", "posterize", "colour",
                (ParamSpec("levels", "int", 4, 2, 256, "", "levels", animatable=False),),
                _no_factory,  # type: ignore[arg-type]
            ),
        ]
    )  # fmt: skip


@pytest.fixture
def registry() -> Registry:
    """The small registry."""
    return small_registry()


@pytest.fixture
def load(registry: Registry):  # type: ignore[no-untyped-def]
    """``load(text, filename="t.yaml") -> Recipe`` with the small registry."""

    def _load(text: str, filename: str = "t.yaml") -> Recipe:
        return load_recipe(text, filename, registry)

    return _load
