"""What the recipe checkers share: positioned errors and "did you mean" hints."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

from interpreter.errors import InterpreterError
from interpreter.nodes import Pos, Recipe

__all__ = ["ErrorFactory", "Reporter", "hint_close"]

#: An InterpreterError subclass, called as ``cls(message, file=..., line=..., ...)``.
ErrorFactory = Callable[..., InterpreterError]


def hint_close(name: str, names: Sequence[str], what: str) -> str:
    """``did you mean 'x'?`` for the closest of ``names``, else ``what: a, b, c``."""
    close = difflib.get_close_matches(name, list(names), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"{what}: " + (", ".join(sorted(names)) or "none")


class Reporter:
    """Builds errors positioned in one recipe's text.

    Args:
        recipe: The recipe being checked (file name and source lines).
    """

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe

    def err(self, cls: ErrorFactory, message: str, pos: Pos, hint: str = "") -> InterpreterError:
        """An error of type ``cls`` at ``pos``, quoting the recipe line there."""
        return cls(
            message,
            file=self.recipe.filename,
            line=pos.line,
            column=pos.column,
            text=self.recipe.line_text(pos.line),
            hint=hint,
        )
