"""A small effect registry for the recipe-language tests, independent of the catalog."""

from __future__ import annotations

from typing import NoReturn

from effects.registry import EffectSpec, ParamSpec, Registry


def _no_factory(width: int, height: int) -> NoReturn:
    raise AssertionError("the interpreter tests never instantiate effects")


def small_registry() -> Registry:
    """invert, blur(radius 0..50), hue(degrees), blend(mode, opacity; arity 2), posterize(levels int)."""
    return Registry(
        [
            EffectSpec("invert", "invert", "colour", (), _no_factory),
            EffectSpec(
                "blur",
                "box blur",
                "spatial",
                (ParamSpec("radius", "float", 1.0, 0.0, 50.0, "px", "radius"),),
                _no_factory,
            ),
            EffectSpec(
                "hue",
                "hue rotation",
                "colour",
                (ParamSpec("degrees", "float", 0.0, -360.0, 360.0, "deg", "angle"),),
                _no_factory,
            ),
            EffectSpec(
                "blend",
                "blend two",
                "composite",
                (
                    ParamSpec(
                        "mode",
                        "enum",
                        "normal",
                        doc="mode",
                        choices=("normal", "add"),
                        animatable=False,
                    ),
                    ParamSpec("opacity", "float", 0.5, 0.0, 1.0, "", "opacity"),
                ),
                _no_factory,
                arity=2,
            ),
            EffectSpec(
                "posterize",
                "posterize",
                "colour",
                (ParamSpec("levels", "int", 4, 2, 256, "", "levels", animatable=False),),
                _no_factory,
            ),
        ]
    )
