"""Validation rules beyond the corpus: each error class with its position."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from effects.registry import Registry
from interpreter import errors as E
from interpreter.nodes import Recipe
from interpreter.schema import Kind
from interpreter.validate import validate

Load = Callable[..., Recipe]

HEAD = "name: v\ninputs:\n  video: {type: video}\n  audio: {type: audio}\nsteps:\n"


def _check(
    load: Load, registry: Registry, steps: str, output: str = "x", head: str = HEAD
) -> dict[str, Kind]:
    return validate(load(head + steps + f"output: {output}\n"), registry)


CASES = [
    # (steps, error class, line, column, fragment)
    (
        "  - {id: x, type: MUX, inputs: [audio, video]}\n",
        E.TypeMismatchError,
        6,
        33,
        "audio fed to the video input",
    ),
    (
        "  - {id: x, type: EFFECT, inputs: [video], config: {effect: blend}}\n",
        E.RecipeValidationError,
        6,
        10,
        "takes 2 video inputs",
    ),
    (
        "  - {id: x, type: RESIZE, inputs: [video], config: {width: 64}}\n  - {id: y, type: MUX, inputs: [x, audio]}\n",
        E.RecipeValidationError,
        6,
        10,
        "missing 'height'",
    ),
    (
        "  - {id: x, type: SOURCE, config: {input: video, generator: noise}}\n",
        E.RecipeValidationError,
        6,
        10,
        "exactly one of",
    ),
    (
        "  - {id: x, type: SOURCE, config: {generator: nosie}}\n",
        E.ParamRangeError,
        6,
        47,
        "unknown generator",
    ),
    (
        "  - {id: x, type: SOURCE, config: {generator: sine, frequency: 0}}\n",
        E.ParamRangeError,
        6,
        64,
        "out of range",
    ),
    (
        "  - {id: x, type: EFFECT, inputs: [video], config: {effect: hue, degrees: bass * 90}}\n",
        E.RecipeValidationError,
        6,
        75,
        "no analysis input",
    ),
    (
        "  - {id: x, type: EFFECT, inputs: [video], config: {effect: posterize, levels: 2 + t}}\n",
        E.ParamRangeError,
        6,
        80,
        "cannot vary",
    ),
    (
        "  - {id: x, type: EFFECT, inputs: [video], config: {effect: posterize, levels: 2.5}}\n",
        E.ParamRangeError,
        6,
        80,
        "whole number",
    ),
    (
        "  - {id: x, type: EFFECT, inputs: [video], config: {effect: blend, mode: ad}}\n",
        E.ParamRangeError,
        6,
        74,
        "'ad'",
    ),
    (
        "  - {id: x, type: SEGMENT, inputs: [video], config: {start: 1, end: 2, duration: 1}}\n",
        E.RecipeValidationError,
        6,
        82,
        "not both",
    ),
    (
        "  - {id: x, type: ANALYZE, inputs: [audio], config: {features: [beats, tempoo]}}\n",
        E.ParamRangeError,
        6,
        64,
        "'tempoo'",
    ),
    ("  - {id: x, type: SEQUENCE, inputs: [video, audio]}\n", E.TypeMismatchError, 6, 45, "mixes"),
    (
        "  - {id: x, type: EFFECT, inputs: [video], config: {effect: invert}}\n  - {id: x, type: EFFECT, inputs: [video], config: {effect: invert}}\n",
        E.RecipeValidationError,
        7,
        10,
        "used twice",
    ),
    (
        "  - {id: y, type: EFFECT, inputs: [video], config: {effect: invert}}\n  - {id: x, type: MUX, inputs: [video, audio]}\n",
        E.UnusedInputError,
        6,
        10,
        "does not reach the output",
    ),
    (
        "  - {id: x, type: EFFECT, inputs: [video], config: {effect: invert}}\n",
        E.UnusedInputError,
        4,
        3,
        "'audio' is never used",
    ),
]


@pytest.mark.parametrize(("steps", "cls", "line", "column", "fragment"), CASES)
def test_validation_errors(
    load: Load, registry: Registry, steps: str, cls: type, line: int, column: int, fragment: str
) -> None:
    with pytest.raises(E.InterpreterError) as ei:
        _check(load, registry, steps)
    assert type(ei.value) is cls, str(ei.value)
    assert fragment in ei.value.message, str(ei.value)
    assert (ei.value.line, ei.value.column) == (line, column), str(ei.value)


def test_output_must_exist(load: Load, registry: Registry) -> None:
    with pytest.raises(E.DanglingInputError) as ei:
        validate(
            load(
                "name: v\nsteps:\n  - {id: x, type: SOURCE, config: {generator: noise}}\noutput: xx\n"
            ),
            registry,
        )
    assert (ei.value.line, ei.value.column) == (4, 9) and "'x'" in ei.value.hint


def test_param_default_out_of_its_range(load: Load, registry: Registry) -> None:
    with pytest.raises(E.ParamRangeError) as ei:
        validate(
            load(
                "name: v\nparams:\n  k: {default: 5, max: 1}\nsteps:\n  - {id: x, type: SOURCE, config: {generator: noise}}\noutput: x\n"
            ),
            registry,
        )
    assert (ei.value.line, ei.value.column) == (3, 3)


def test_valid_recipe_returns_kinds(load: Load, registry: Registry) -> None:
    kinds = _check(
        load,
        registry,
        "  - {id: beats, type: ANALYZE, inputs: [audio], config: {features: [beats]}}\n"
        "  - {id: fx, type: EFFECT, inputs: [video, beats], config: {effect: hue, degrees: 30 * decay(4)}}\n"
        "  - {id: t, type: TRANSFORM, inputs: [fx, beats], config: {brightness: 0.2 * bass}}\n"
        "  - {id: x, type: MUX, inputs: [t, audio]}\n",
    )
    assert kinds == {
        "audio": "audio",
        "video": "video",
        "beats": "analysis",
        "fx": "video",
        "t": "video",
        "x": "av",
    }


def test_require_inputs_names_the_missing_one(load: Load) -> None:
    from interpreter.loader import require_inputs

    recipe = load(HEAD + "  - {id: x, type: MUX, inputs: [video, audio]}\noutput: x\n")
    require_inputs(recipe, ["video", "audio", "extra"])
    with pytest.raises(E.MissingInputError) as ei:
        require_inputs(recipe, {"video": "Qm"})
    assert (ei.value.line, ei.value.column) == (4, 3) and "'audio'" in ei.value.message
