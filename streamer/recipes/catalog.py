"""The stored recipes: add, page through, describe and delete.

Raises domain errors (:mod:`streamer.errors`) and positioned
``InterpreterError``; ``api/`` maps them to HTTP.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from interpreter.canonical import recipe_id as compute_recipe_id
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.planner import ExecutionPlan, plan_recipe
from streamer.db import recipes as recipes_db
from streamer.errors import Conflict, Missing
from streamer.recipes.store import parse_recipe, store_recipe
from streamer.runs.status import RunStatus

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "RecipeDescription",
    "RecipePage",
    "add_recipe",
    "delete_recipe",
    "describe_recipe",
    "get_recipe",
    "list_recipes",
]

#: Runs in these statuses keep their recipe from being deleted.
ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


@dataclass(frozen=True)
class RecipePage:
    """One page of stored recipes, newest first.

    Attributes:
        rows: the recipe rows of this page.
        total: how many recipes match the filter (all pages).
    """

    rows: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class RecipeDescription:
    """A stored recipe loaded again, with a plan made for placeholder inputs.

    Attributes:
        row: the stored row.
        recipe: the loaded recipe (steps with their source positions).
        plan: its plan with ``input:<name>`` as input ids; None when planning failed.
        plan_error: the first line of why planning failed, else None.
    """

    row: dict[str, Any]
    recipe: Recipe
    plan: ExecutionPlan | None
    plan_error: str | None


async def add_recipe(
    db: Any, text: str, filename: str, *, owner: str | None
) -> tuple[dict[str, Any], bool]:
    """Validate ``text`` (YAML or S-expression) and store it under its content id.

    Returns:
        (the stored row, True when it was not stored before).

    Raises:
        InterpreterError: the recipe is invalid (position in the error).
    """
    recipe = await asyncio.to_thread(parse_recipe, text, filename)
    rid = compute_recipe_id(recipe)
    created = await store_recipe(db, recipe, text, recipe_id=rid, owner=owner)
    return await get_recipe(db, rid), created


async def list_recipes(
    db: Any, *, name: str | None = None, limit: int = 50, offset: int = 0
) -> RecipePage:
    """Recipes newest first; ``name`` keeps those whose name contains it (any case)."""
    pattern = None
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
    total = await recipes_db.count_recipes(db, name_like=pattern)
    rows = await recipes_db.list_recipes(db, name_like=pattern, limit=limit, offset=offset)
    return RecipePage(rows=rows, total=int(total))


async def get_recipe(db: Any, recipe_id: str) -> dict[str, Any]:
    """The stored recipe row.

    Raises:
        Missing: no such recipe.
    """
    row = await recipes_db.get_recipe(db, recipe_id)
    if row is None:
        raise Missing(f"recipe {recipe_id!r} not found", field="recipe_id")
    return row


async def delete_recipe(db: Any, recipe_id: str) -> None:
    """Delete a stored recipe.

    Raises:
        Missing: no such recipe.
        Conflict: pending or running runs use it.
    """
    blockers = await recipes_db.delete_recipe(db, recipe_id, blocking_statuses=ACTIVE_RUN_STATUSES)
    if blockers is None:
        raise Missing(f"recipe {recipe_id!r} not found", field="recipe_id")
    if blockers:
        raise Conflict(
            f"recipe {recipe_id!r} is used by pending/running run(s) {', '.join(blockers)}; "
            "cancel them first",
            field="recipe_id",
        )


def _describe(row: dict[str, Any]) -> RecipeDescription:
    recipe = load_recipe(row["source"], filename=f"recipe {row['id'][:12]}")
    placeholders = {i.name: f"input:{i.name}" for i in recipe.inputs}
    try:
        plan: ExecutionPlan | None = plan_recipe(recipe, placeholders)
        error = None
    except InterpreterError as exc:
        plan, error = None, str(exc).splitlines()[0]
    return RecipeDescription(row=row, recipe=recipe, plan=plan, plan_error=error)


async def describe_recipe(db: Any, recipe_id: str) -> RecipeDescription:
    """Load the stored recipe and plan it for placeholder inputs (in a thread).

    Raises:
        Missing: no such recipe.
    """
    row = await get_recipe(db, recipe_id)
    return await asyncio.to_thread(_describe, row)
