"""The recipe a request names or carries: load it, check its inputs, store it.

Shared by ``POST /runs`` (:mod:`api.runs`), the phase endpoints
(:mod:`api.phases`) and ``POST /recipes/upload`` (:mod:`api.recipes`), which
used to carry their own copies of these steps.
"""

from __future__ import annotations

import asyncio
from typing import Any

from api.errors import NotFound, Unprocessable
from api.models import RunRequest
from interpreter.canonical import canonical
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.validate import validate
from streamer.db import recipes as recipes_db

__all__ = ["parse_recipe", "request_recipe", "store_recipe"]


def parse_recipe(text: str, filename: str, *, check: bool = True) -> Recipe:
    """Load ``text`` and, with ``check``, validate the whole recipe (blocking).

    Raises:
        InterpreterError: positioned (the API maps it to 422).
    """
    recipe = load_recipe(text, filename=filename)
    if check:
        validate(recipe)
    return recipe


async def request_recipe(db: Any, req: RunRequest, *, check: bool = True) -> tuple[str, Recipe]:
    """(text, recipe) of ``req.recipe_id`` or ``req.recipe``; parsed in a thread.

    Raises:
        NotFound: unknown ``recipe_id``.
        InterpreterError: the recipe is invalid (position in the error).
        Unprocessable: ``req.inputs`` names an input the recipe does not declare.
    """
    if req.recipe_id is not None:
        row = await recipes_db.get_recipe(db, req.recipe_id)
        if row is None:
            raise NotFound(f"recipe {req.recipe_id!r} not found", field="recipe_id")
        text, filename = str(row["source"]), f"recipe {req.recipe_id[:12]}"
    else:
        assert req.recipe is not None
        text, filename = req.recipe, "recipe"
    recipe = await asyncio.to_thread(parse_recipe, text, filename, check=check)
    declared = {d.name for d in recipe.inputs}
    for name in sorted(set(req.inputs) - declared):
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
