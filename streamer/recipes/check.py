"""Checking a recipe text as ``artdag recipe check`` does, for editors: problems with positions.

:func:`check_recipe` loads the text (:func:`interpreter.loader.load_recipe`)
and validates the whole recipe (:func:`interpreter.validate.validate`), the
same two calls as the CLI, and reports instead of raising. The validator
stops at the first problem, so there is at most one; the declared inputs and
params are known whenever the text could be loaded (a recipe that loads but
does not validate still has them).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from interpreter.canonical import recipe_id as compute_recipe_id
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from interpreter.nodes import InputDecl, ParamDecl, Recipe
from interpreter.validate import validate

__all__ = ["RecipeCheck", "RecipeProblem", "check_recipe", "check_recipe_text"]


@dataclass(frozen=True)
class RecipeProblem:
    """One problem of a recipe text, where it is and what to do.

    Attributes:
        message: what is wrong (without the position).
        line: 1-based line (0: the position is not known).
        column: 1-based column (0: not known).
        text: the source line it points at ("" when not known).
        hint: how to fix it ("" when there is nothing to say).
        kind: the error class (``UnknownEffectError``, ``RecipeSyntaxError``...).
    """

    message: str
    line: int = 0
    column: int = 0
    text: str = ""
    hint: str = ""
    kind: str = "InterpreterError"

    @classmethod
    def of(cls, exc: InterpreterError) -> RecipeProblem:
        """The problem an interpreter error reports."""
        return cls(
            message=exc.message,
            line=max(exc.line, 0),
            column=max(exc.column, 1) if exc.line > 0 else 0,
            text=exc.text.rstrip("\n"),
            hint=exc.hint,
            kind=type(exc).__name__,
        )


@dataclass(frozen=True)
class RecipeCheck:
    """What checking a recipe text found.

    Attributes:
        problems: empty when the recipe is valid.
        recipe: the loaded recipe; None when the text could not be loaded.
        recipe_id: the content id it is stored under (valid recipes only).
        kinds: the output kind of every step (``video``, ``audio``, ``av``,
            ``analysis``; valid recipes only).
    """

    problems: tuple[RecipeProblem, ...] = ()
    recipe: Recipe | None = None
    recipe_id: str | None = None
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    @property
    def inputs(self) -> tuple[InputDecl, ...]:
        """The declared inputs (none when the text could not be loaded)."""
        return self.recipe.inputs if self.recipe is not None else ()

    @property
    def params(self) -> tuple[ParamDecl, ...]:
        """The declared parameters (none when the text could not be loaded)."""
        return self.recipe.params if self.recipe is not None else ()


def check_recipe(text: str, filename: str = "<recipe>") -> RecipeCheck:
    """Load and validate ``text`` (YAML or S-expression); blocking (parsing, effect catalog).

    Args:
        text: the recipe text.
        filename: the name problems are reported against.

    Returns:
        The check; never raises for a bad recipe.
    """
    try:
        recipe = load_recipe(text, filename=filename)
    except InterpreterError as exc:
        return RecipeCheck(problems=(RecipeProblem.of(exc),))
    try:
        kinds = validate(recipe)
    except InterpreterError as exc:
        return RecipeCheck(problems=(RecipeProblem.of(exc),), recipe=recipe)
    return RecipeCheck(
        recipe=recipe,
        recipe_id=compute_recipe_id(recipe),
        kinds={k: str(v) for k, v in kinds.items()},
    )


async def check_recipe_text(text: str, filename: str = "<recipe>") -> RecipeCheck:
    """:func:`check_recipe` in a thread."""
    return await asyncio.to_thread(check_recipe, text, filename)
