"""Load a recipe from text or a file, whichever syntax it is written in.

``load_recipe`` detects the syntax (an S-expression starts with ``(`` after
comments and blank lines), parses with positions and normalises values.
Whatever the text, it either returns a :class:`~interpreter.nodes.Recipe` or
raises an :class:`~interpreter.errors.InterpreterError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from effects.registry import Registry
from interpreter.canonical import canonical, recipe_id
from interpreter.errors import InterpreterError, MissingInputError, RecipeSyntaxError
from interpreter.nodes import Recipe, Syntax
from interpreter.normalise import normalise
from interpreter.parser_sexp import parse_sexp
from interpreter.parser_yaml import parse_yaml
from interpreter.validate import default_registry, validate

# validate, canonical and recipe_id are re-exported: the architecture contract names them here
__all__ = [
    "canonical",
    "detect_syntax",
    "load_file",
    "load_recipe",
    "recipe_id",
    "require_inputs",
    "validate",
]


def detect_syntax(text: str) -> Syntax:
    """``"sexp"`` if the first meaningful character is ``(``, else ``"yaml"``."""
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(";"):
            continue
        return "sexp" if s.startswith("(") else "yaml"
    return "yaml"


def load_recipe(text: str, filename: str = "<recipe>", registry: Registry | None = None) -> Recipe:
    """Parse and normalise a recipe (not yet validated: see :func:`interpreter.validate.validate`).

    Args:
        text: Recipe text, YAML or S-expression.
        filename: Used in error messages.
        registry: Effect registry used to type effect parameters (default: the catalog).

    Raises:
        InterpreterError: A subclass for any malformed input; nothing else escapes.
    """
    try:
        syntax = detect_syntax(text)
        raw = parse_sexp(text, filename) if syntax == "sexp" else parse_yaml(text, filename)
        return normalise(raw, registry if registry is not None else default_registry())
    except InterpreterError:
        raise
    except RecursionError:
        raise RecipeSyntaxError(
            "recipe nested too deeply", file=filename, line=1, column=1
        ) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # a parser bug must still surface as a recipe error, never a crash
        raise RecipeSyntaxError(
            f"cannot read recipe: {exc}", file=filename, line=1, column=1
        ) from exc


def load_file(path: str | Path, registry: Registry | None = None) -> Recipe:
    """Read and load a recipe file (UTF-8).

    Raises:
        RecipeSyntaxError: The file cannot be read or decoded, or is malformed.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeSyntaxError(f"cannot read {p}: {exc}", file=str(p)) from None
    return load_recipe(text, str(p), registry)


def require_inputs(recipe: Recipe, bound: Iterable[str]) -> None:
    """Raise MissingInputError (at the declaration) for the first declared input not in ``bound``.

    The planner and the StreamInterpreter call this before doing any work.
    """
    names = set(bound)
    for decl in recipe.inputs:
        if decl.name not in names:
            raise MissingInputError(
                f"recipe input {decl.name!r} is not bound",
                file=recipe.filename,
                line=decl.pos.line,
                column=decl.pos.column,
                text=recipe.line_text(decl.pos.line),
                hint=f"pass -i {decl.name}=FILE_OR_CID",
            )
