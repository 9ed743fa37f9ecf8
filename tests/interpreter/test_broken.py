"""The broken-recipe corpus: each file gets exactly one clear error at the right place."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from effects.registry import Registry
from interpreter import errors as E
from interpreter.loader import load_file
from interpreter.validate import validate
from streamer.entry.commands.recipe import run_check

BROKEN = Path(__file__).parent / "broken"

# file -> (error class, line, column, text the message must contain)
EXPECTED: dict[str, tuple[type[E.InterpreterError], int, int, str]] = {
    "yaml_syntax.yaml": (E.RecipeSyntaxError, 5, 4, "YAML"),
    "unclosed.sexp": (E.RecipeSyntaxError, 3, 3, "unclosed"),
    "unknown_effect.yaml": (E.UnknownEffectError, 8, 22, "'blurr'"),
    "unknown_effect.sexp": (E.UnknownEffectError, 3, 11, "'invertt'"),
    "unknown_param.yaml": (E.UnknownParamError, 11, 7, "'radios'"),
    "unknown_param.sexp": (E.UnknownParamError, 4, 21, "'radios'"),
    "unknown_type.yaml": (E.UnknownParamError, 6, 11, "'RESISE'"),
    "cycle.yaml": (E.CycleError, 3, 9, "a -> b -> a"),
    "cycle.sexp": (E.CycleError, 2, 8, "a -> b -> a"),
    "audio_to_video.sexp": (E.TypeMismatchError, 4, 32, "audio fed to the video-only effect"),
    "out_of_range.yaml": (E.ParamRangeError, 8, 36, "out of range"),
    "bad_enum.yaml": (E.ParamRangeError, 8, 45, "'stretched'"),
    "dangling.yaml": (E.DanglingInputError, 7, 14, "'vidoe'"),
    "unused_input.yaml": (E.UnusedInputError, 4, 3, "'audio' is never used"),
    "bad_expr.yaml": (E.ExpressionError, 8, 42, "unexpected '*'"),
    "unknown_var.sexp": (E.ExpressionError, 3, 46, "'tt'"),
    "bad_color.sexp": (E.ParamRangeError, 3, 43, "unknown colour 'crimsn'"),
    "color_comment.yaml": (E.ParamRangeError, 7, 14, "no colour given"),
    "color_alpha.yaml": (E.ParamRangeError, 5, 47, "alpha 128/255"),
    "undeclared_input.sexp": (E.DanglingInputError, 4, 36, "no recipe input named 'video'"),
}
HINTS = {
    "unknown_effect.yaml": "did you mean 'blur'?",
    "unknown_effect.sexp": "did you mean 'invert'?",
    "unknown_param.yaml": "did you mean 'radius'?",
    "unknown_type.yaml": "did you mean 'RESIZE'?",
    "bad_enum.yaml": "did you mean 'stretch'?",
    "unknown_var.sexp": "did you mean 't'?",
    "out_of_range.yaml": "0..50",
    "bad_color.sexp": "did you mean 'crimson'?",
    "color_comment.yaml": 'quote the colour, e.g. "#00ff80"',
    "color_alpha.yaml": "drop the alpha (#00ff80)",
    "undeclared_input.sexp": "declare it with (input video :type video)",
}


def test_the_table_covers_the_corpus() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_recipe_has_one_positioned_error(name: str, registry: Registry) -> None:
    cls, line, column, fragment = EXPECTED[name]
    with pytest.raises(E.InterpreterError) as ei:
        validate(load_file(BROKEN / name, registry), registry)
    err = ei.value
    assert type(err) is cls, str(err)
    assert (err.line, err.column) == (line, column), str(err)
    assert fragment in err.message
    assert err.file.endswith(name)
    text = str(err)
    first, source, caret, *_rest = text.splitlines()
    assert first.startswith(f"{err.file}:{line}:{column}: ")
    assert source.strip() and source.strip() in (BROKEN / name).read_text()
    assert caret.index("^") == 4 + column - 1
    if name in HINTS:
        assert HINTS[name] in err.hint


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_check_exits_1_and_prints_the_error(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the CLI uses the real effects catalog; 'radios'/'blurr'/... are unknown there too
    _, line, column, _ = EXPECTED[name]
    code = run_check(argparse.Namespace(files=[BROKEN / name]))
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{name}:{line}:{column}:" in err
    assert "ok" not in out
