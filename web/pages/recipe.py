"""The recipe pages: detail with the run form, the DAG, and the editor for a new recipe."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from litestar import get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from interpreter.canonical import canonical
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from streamer.db import recipes as recipes_db
from streamer.present.deps import Res
from streamer.recipes.check import RecipeCheck
from streamer.recipes.store import MAX_RECIPE_BYTES
from streamer.resources import Resources
from streamer.runs.service import MAX_DURATION, MAX_PACE
from web import queries
from web.dag import layout, recipe_nodes
from web.forms import RunForm, media_choices
from web.pages.common import not_found
from web.templating import page

__all__ = [
    "RECIPE_HANDLERS",
    "editor_context",
    "missing_recipe",
    "recipe_context",
    "recipe_dag",
    "recipe_editor",
    "recipe_page",
    "recipe_page_context",
]

#: How many library items the run form offers per kind.
CHOICES_LIMIT = 200


async def recipe_context(res: Resources, recipe_id: str) -> dict[str, Any] | None:
    """The stored recipe, loaded again, with its DAG; None when there is no such recipe."""
    row = await recipes_db.get_recipe(res.db, recipe_id)
    if row is None:
        return None
    try:
        recipe = await asyncio.to_thread(load_recipe, row["source"], f"recipe {recipe_id[:12]}")
        error = None
    except InterpreterError as exc:  # stored recipes parsed once; the parser may have moved on
        recipe, error = None, str(exc)
    dag = None
    if recipe is not None:
        dag = layout(recipe_nodes(recipe, await asyncio.to_thread(canonical, recipe)))
    return {"nav": "recipes", "row": row, "recipe": recipe, "error": error, "dag": dag}


async def recipe_page_context(
    res: Resources, recipe_id: str, form: RunForm | None = None
) -> dict[str, Any] | None:
    """:func:`recipe_context` plus its runs and the run form (inputs from the media library)."""
    context = await recipe_context(res, recipe_id)
    if context is None:
        return None
    runs, items = await asyncio.gather(
        queries.recipe_runs(res.db, recipe_id),
        queries.cache_items(res.db, limit=CHOICES_LIMIT),
    )
    context.update(
        runs=runs,
        form=form or RunForm.blank(context["recipe"]),
        choices=media_choices(items),
        max_pace=MAX_PACE,
        max_duration=MAX_DURATION,
    )
    return context


def missing_recipe(recipe_id: str) -> Template:
    """The 404 page of a recipe."""
    return not_found("Recipe", f"There is no recipe {recipe_id!r}.", ("/recipes", "All recipes"))


@get("/recipe/{recipe_id:str}", include_in_schema=False, name="web:recipe")
async def recipe_page(res: Res, recipe_id: FromPath[str]) -> Template:
    """Recipe detail: metadata, inputs, parameters, source, the run form and recent runs."""
    context = await recipe_page_context(res, recipe_id)
    if context is None:
        return missing_recipe(recipe_id)
    return page("recipe.html", context)


@get("/recipe/{recipe_id:str}/dag", include_in_schema=False, name="web:recipe-dag")
async def recipe_dag(res: Res, recipe_id: FromPath[str]) -> Template:
    """The recipe's DAG, laid out by level."""
    context = await recipe_context(res, recipe_id)
    if context is None:
        return missing_recipe(recipe_id)
    return page("recipe_dag.html", context)


def editor_context(
    text: str = "",
    filename: str = "",
    check: RecipeCheck | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The editor page's context: the text, and what checking it found (if it was checked)."""
    return {
        "nav": "recipes",
        "text": text,
        "filename": filename,
        "check": check,
        "error": error,
        "max_bytes": MAX_RECIPE_BYTES,
    }


FromRecipe = Annotated[
    str | None, QueryParameter(name="from", description="start from this stored recipe's source")
]


@get("/recipe/new", include_in_schema=False, name="web:recipe-new")
async def recipe_editor(res: Res, from_recipe: FromRecipe = None) -> Template:
    """The recipe editor: upload or paste a recipe, checked as you type, then saved."""
    text = ""
    if from_recipe:
        row = await recipes_db.get_recipe(res.db, from_recipe)
        if row is None:
            return missing_recipe(from_recipe)
        text = str(row["source"])
    return page("recipe_new.html", editor_context(text))


RECIPE_HANDLERS = [recipe_editor, recipe_page, recipe_dag]
