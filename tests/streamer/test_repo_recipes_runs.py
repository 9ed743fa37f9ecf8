"""streamer.repo's recipe search/delete and run cancel/delete against a real PostgreSQL."""

from __future__ import annotations

import asyncpg

from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db


async def _recipe(db: asyncpg.Pool, rid: str, name: str) -> None:
    await recipes_db.put_recipe(
        db, recipe_id=rid, name=name, source=f"name: {name}\n", syntax="yaml", canonical={}
    )


async def test_list_and_count_recipes_by_name(db: asyncpg.Pool) -> None:
    await _recipe(db, "r1", "Beat-Sync")
    await _recipe(db, "r2", "glitch_wave")
    await _recipe(db, "r3", "glitchXwave")
    assert await recipes_db.count_recipes(db) == 3
    assert await recipes_db.count_recipes(db, name_like="%beat%") == 1  # case-insensitive
    assert [r["id"] for r in await recipes_db.list_recipes(db, name_like="%BEAT%")] == ["r1"]
    # an escaped underscore matches only itself
    assert [r["id"] for r in await recipes_db.list_recipes(db, name_like="%h\\_w%")] == ["r2"]
    assert await recipes_db.count_recipes(db, name_like="%h\\_w%") == 1
    assert len(await recipes_db.list_recipes(db, limit=2)) == 2
    assert len(await recipes_db.list_recipes(db, limit=2, offset=2)) == 1
    assert await recipes_db.list_recipes(db, name_like="%nothing%") == []


async def test_delete_recipe_blocked_by_active_runs(db: asyncpg.Pool) -> None:
    await _recipe(db, "r1", "one")
    assert await recipes_db.delete_recipe(db, "nope", blocking_statuses=("pending",)) is None
    run = await runs_db.create_run(db, recipe_id="r1", inputs={})
    blockers = await recipes_db.delete_recipe(db, "r1", blocking_statuses=("pending", "running"))
    assert blockers == [run["id"]]
    assert await recipes_db.get_recipe(db, "r1") is not None
    await runs_db.update_run(db, run["id"], status="completed")
    assert await recipes_db.delete_recipe(db, "r1", blocking_statuses=("pending", "running")) == []
    assert await recipes_db.get_recipe(db, "r1") is None
    kept = await runs_db.get_run(db, run["id"])
    assert kept is not None and kept["recipe_id"] is None  # ON DELETE SET NULL


async def test_delete_recipe_on_a_connection(db: asyncpg.Pool) -> None:
    await _recipe(db, "r1", "one")
    async with db.acquire() as conn:
        assert await recipes_db.delete_recipe(conn, "r1", blocking_statuses=("pending",)) == []
    assert await recipes_db.get_recipe(db, "r1") is None


async def test_cancel_pending_run_only_when_pending(db: asyncpg.Pool) -> None:
    pending = await runs_db.create_run(db, recipe_id=None, inputs={})
    cancelled = await runs_db.cancel_pending_run(db, pending["id"])
    assert cancelled is not None
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"] is not None
    assert await runs_db.cancel_pending_run(db, pending["id"]) is None  # no longer pending

    running = await runs_db.create_run(db, recipe_id=None, inputs={})
    await runs_db.update_run(db, running["id"], status="running")
    assert await runs_db.cancel_pending_run(db, running["id"]) is None
    row = await runs_db.get_run(db, running["id"])
    assert row is not None and row["status"] == "running"
    assert await runs_db.cancel_pending_run(db, "missing") is None


async def test_delete_run_takes_its_provenance(db: asyncpg.Pool) -> None:
    run = await runs_db.create_run(db, recipe_id=None, inputs={})
    await content_db.record_provenance(db, run_id=run["id"], cid="QmX", record={"a": 1})
    assert await runs_db.delete_run(db, run["id"]) is True
    assert await runs_db.get_run(db, run["id"]) is None
    assert await content_db.list_provenance(db, run["id"]) == []
    assert await runs_db.delete_run(db, run["id"]) is False
