"""The recipe a request names or carries: load it, check its inputs, store it.

Shared by the runs service (:mod:`streamer.runs.service`), the phase endpoints
and the recipe upload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interpreter.canonical import canonical
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.validate import validate
from streamer.db import recipes as recipes_db
from streamer.errors import Missing, Unprocessable

__all__ = ["MAX_RECIPE_BYTES", "RecipeRef", "parse_recipe", "request_recipe", "store_recipe"]

#: The largest recipe text the server takes (``POST /recipes/upload`` answers 413 beyond).
MAX_RECIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class RecipeRef:
    """A recipe named by its stored id or given as text: exactly one is set."""

    recipe_id: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if (self.recipe_id is None) == (self.text is None):
            raise ValueError("RecipeRef takes exactly one of recipe_id and text")


def parse_recipe(text: str, filename: str, *, check: bool = True) -> Recipe:
    """Load ``text`` and, with ``check``, validate the whole recipe (blocking).

    Raises:
        InterpreterError: positioned (the API maps it to 422).
    """
    recipe = load_recipe(text, filename=filename)
    if check:
        validate(recipe)
    return recipe


async def request_recipe(
    db: Any, ref: RecipeRef, inputs: Mapping[str, str], *, check: bool = True
) -> tuple[str, Recipe]:
    """(text, recipe) of ``ref``; parsed in a thread.

    Raises:
        Missing: unknown ``recipe_id``.
        InterpreterError: the recipe is invalid (position in the error).
        Unprocessable: ``inputs`` names an input the recipe does not declare.
    """
    if ref.recipe_id is not None:
        row = await recipes_db.get_recipe(db, ref.recipe_id)
        if row is None:
            raise Missing(f"recipe {ref.recipe_id!r} not found", field="recipe_id")
        text, filename = str(row["source"]), f"recipe {ref.recipe_id[:12]}"
    else:
        assert ref.text is not None
        text, filename = ref.text, "recipe"
    recipe = await asyncio.to_thread(parse_recipe, text, filename, check=check)
    declared = {d.name for d in recipe.inputs}
    for name in sorted(set(inputs) - declared):
        raise Unprocessable(
            f"inputs.{name}: the recipe declares no input {name!r}"
            + (f" (declared: {', '.join(sorted(declared))})" if declared else ""),
            field=f"inputs.{name}",
        )
    return text, recipe


async def store_recipe(
    db: Any, recipe: Recipe, text: str, *, recipe_id: str, owner: str | None
) -> bool:
    """Store ``recipe`` (source ``text``) under ``recipe_id``; False if it was stored."""
    return await recipes_db.put_recipe(
        db,
        recipe_id=recipe_id,
        name=recipe.name,
        source=text,
        syntax=recipe.syntax,
        canonical=canonical(recipe),
        version=recipe.version,
        description=recipe.description,
        owner=owner,
    )
