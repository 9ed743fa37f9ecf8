"""streamer.recipes.catalog on a real PostgreSQL: add, page, describe, delete, with domain errors."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from interpreter.errors import InterpreterError
from streamer.db import runs as runs_db
from streamer.errors import Conflict, Missing
from streamer.recipes import catalog

RECIPE = (Path(__file__).resolve().parents[2] / "recipes" / "effects-chain.yaml").read_text()


async def test_add_page_describe_delete(db: asyncpg.Pool) -> None:
    row, created = await catalog.add_recipe(db, RECIPE, "chain.yaml", owner="alice")
    assert created and row["owner"] == "alice" and len(row["id"]) == 64
    again, created = await catalog.add_recipe(db, RECIPE, "chain.yaml", owner="bob")
    assert not created and again["id"] == row["id"] and again["owner"] == "alice"
    other = RECIPE.replace("name: effects-chain", "name: effects_other")
    await catalog.add_recipe(db, other, "other.yaml", owner=None)

    page = await catalog.list_recipes(db, name="EFFECTS-", limit=1)
    assert page.total == 1 and [r["id"] for r in page.rows] == [row["id"]]
    assert (await catalog.list_recipes(db, name="s_o")).total == 1  # "_" is no wildcard
    assert (await catalog.list_recipes(db, limit=1, offset=1)).total == 2

    described = await catalog.describe_recipe(db, row["id"])
    assert described.recipe.output == "transform_1" and described.plan_error is None
    assert described.plan is not None and len(described.plan.steps) >= 5

    run = await runs_db.create_run(db, recipe_id=row["id"], inputs={})
    with pytest.raises(Conflict) as blocked:
        await catalog.delete_recipe(db, row["id"])
    assert run["id"] in blocked.value.detail and blocked.value.field == "recipe_id"
    await runs_db.update_run(db, run["id"], status="cancelled")
    await catalog.delete_recipe(db, row["id"])
    for missing in (catalog.get_recipe, catalog.describe_recipe, catalog.delete_recipe):
        with pytest.raises(Missing):
            await missing(db, row["id"])


async def test_an_invalid_recipe_is_not_stored(db: asyncpg.Pool) -> None:
    with pytest.raises(InterpreterError):
        await catalog.add_recipe(
            db, RECIPE.replace("effect: invert", "effect: nope"), "x", owner=None
        )
    assert (await catalog.list_recipes(db)).total == 0
