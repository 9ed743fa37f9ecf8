"""``artdag recipe check|fmt|id FILE``: validate, format and identify recipes.

- ``check FILE...``: ``ok`` with a summary per file, or the positioned error
  (``file:line:col: message``, the source line, a caret, a hint); exit 1 if any
  file has an error.
- ``fmt FILE [--syntax yaml|sexp]``: the canonical form (YAML by default).
- ``id FILE``: the recipe id (SHA3-256 of the canonical form).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from interpreter.errors import InterpreterError

if TYPE_CHECKING:
    from interpreter.nodes import Recipe

__all__ = ["register", "run_check", "run_fmt", "run_id"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``recipe`` with its ``check``, ``fmt`` and ``id`` subcommands."""
    p = subparsers.add_parser("recipe", help="check, format or identify recipe files")
    sub = p.add_subparsers(dest="recipe_command", metavar="ACTION", required=True)
    c = sub.add_parser("check", help="validate recipes; exit 1 on any error")
    c.add_argument("files", nargs="+", type=Path, metavar="FILE")
    c.set_defaults(func=run_check)
    f = sub.add_parser("fmt", help="print the canonical form")
    f.add_argument("file", type=Path, metavar="FILE")
    f.add_argument("--syntax", choices=("yaml", "sexp"), default="yaml", help="output syntax")
    f.set_defaults(func=run_fmt)
    i = sub.add_parser("id", help="print the recipe id")
    i.add_argument("file", type=Path, metavar="FILE")
    i.set_defaults(func=run_id)


def _load_valid(path: Path) -> Recipe:
    from interpreter.loader import load_file
    from interpreter.validate import validate

    recipe = load_file(path)
    validate(recipe)
    return recipe


def run_check(args: argparse.Namespace) -> int:
    """Validate each file; print ``ok`` and a summary, or the error."""
    from interpreter.loader import load_file
    from interpreter.validate import validate

    status = 0
    for path in args.files:
        try:
            recipe = load_file(path)
            kinds = validate(recipe)
        except InterpreterError as exc:
            print(str(exc), file=sys.stderr)
            status = 1
            continue
        types: dict[str, int] = {}
        for s in recipe.steps:
            types[s.type.value] = types.get(s.type.value, 0) + 1
        ins = ", ".join(f"{i.name}:{i.type}" for i in recipe.inputs) or "none"
        print(
            f"{path}: ok: {recipe.name!r} v{recipe.version} ({recipe.syntax}), {len(recipe.steps)} steps "
            f"({', '.join(f'{n} {t}' for t, n in sorted(types.items()))}), inputs {ins}, "
            f"output {recipe.output!r} ({kinds[recipe.output]})"
        )
    return status


def run_fmt(args: argparse.Namespace) -> int:
    """Print the canonical form."""
    from interpreter.canonical import format_sexp, format_yaml

    try:
        recipe = _load_valid(args.file)
    except InterpreterError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    sys.stdout.write(format_sexp(recipe) if args.syntax == "sexp" else format_yaml(recipe))
    return 0


def run_id(args: argparse.Namespace) -> int:
    """Print the recipe id."""
    from interpreter.canonical import recipe_id

    try:
        recipe = _load_valid(args.file)
    except InterpreterError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(recipe_id(recipe))
    return 0
