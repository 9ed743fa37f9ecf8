"""streamer.repo against a real, freshly migrated PostgreSQL database."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db


async def test_recipes(db: asyncpg.Pool) -> None:
    kwargs: dict[str, Any] = dict(
        recipe_id="r1",
        name="beat-sync",
        source="name: beat-sync\n",
        syntax="yaml",
        canonical={"name": "beat-sync"},
        version="1.0",
    )
    assert await recipes_db.put_recipe(db, **kwargs) is True
    assert await recipes_db.put_recipe(db, **kwargs) is False  # same id: kept
    row = await recipes_db.get_recipe(db, "r1")
    assert row is not None
    assert row["canonical"] == {"name": "beat-sync"} and row["version"] == "1.0"
    assert [r["id"] for r in await recipes_db.list_recipes(db)] == ["r1"]
    assert await recipes_db.get_recipe(db, "nope") is None


async def test_run_lifecycle(db: asyncpg.Pool) -> None:
    await recipes_db.put_recipe(
        db, recipe_id="r2", name="n", source="s", syntax="sexp", canonical={"a": 1}
    )
    run = await runs_db.create_run(db, recipe_id="r2", inputs={"video": "Qm1"}, params={"x": 2})
    assert run["status"] == "pending" and run["started_at"] is None
    assert run["inputs"] == {"video": "Qm1"} and run["params"] == {"x": 2}

    running = await runs_db.update_run(db, run["id"], status="running", task_id="t1")
    assert running is not None
    assert running["status"] == "running" and running["started_at"] is not None
    started = running["started_at"]

    progressed = await runs_db.update_run(db, run["id"], progress=0.5, segment_count=3)
    assert progressed is not None
    assert progressed["progress"] == 0.5 and progressed["segment_count"] == 3
    assert progressed["started_at"] == started

    done = await runs_db.update_run(
        db, run["id"], status="completed", progress=1.0, output_cid="Qm2", plan={"steps": []}
    )
    assert done is not None
    assert done["finished_at"] is not None and done["plan"] == {"steps": []}
    assert [r["id"] for r in await runs_db.list_runs(db, status="completed")] == [run["id"]]
    assert await runs_db.list_runs(db, status="failed") == []
    assert [r["id"] for r in await runs_db.list_runs(db, recipe_id="r2")] == [run["id"]]
    assert await runs_db.list_runs(db, status="completed", recipe_id="r1") == []
    assert await runs_db.count_runs(db, status="completed", recipe_id="r2") == 1
    assert await runs_db.count_runs(db, status="failed") == 0
    assert await runs_db.update_run(db, "missing", status="failed") is None

    with pytest.raises(ValueError, match="cannot update run field"):
        await runs_db.update_run(db, run["id"], id="hijack")
    with pytest.raises(ValueError, match="status='bogus'"):
        await runs_db.update_run(db, run["id"], status="bogus")
    with pytest.raises(ValueError, match="status='bogus'"):
        await runs_db.list_runs(db, status="bogus")

    pid = await content_db.record_provenance(
        db, run_id=run["id"], cid="Qm2", record={"task_id": "t1"}
    )
    records = await content_db.list_provenance(db, run["id"])
    assert [(r["id"], r["record"]) for r in records] == [(pid, {"task_id": "t1"})]


async def test_cache_items_and_step_cache(db: asyncpg.Pool) -> None:
    item = await content_db.put_cache_item(
        db, cid="QmA", size=10, kind="video", media_type="video/mp4"
    )
    assert item["kind"] == "video"
    again = await content_db.put_cache_item(db, cid="QmA", size=10, kind="video", path="/c/QmA")
    assert again["path"] == "/c/QmA"
    got = await content_db.get_cache_item(db, "QmA")
    assert got is not None and got["tags"] == [] and got["title"] is None
    assert await content_db.get_cache_item(db, "QmZ") is None

    assert await content_db.get_step_cache(db, "step-1") is None
    await content_db.put_step_cache(db, cache_id="step-1", cid="QmB", step_type="effect")
    await content_db.put_step_cache(db, cache_id="step-1", cid="QmC", step_type="effect")
    assert await content_db.get_step_cache(db, "step-1") == "QmB"
