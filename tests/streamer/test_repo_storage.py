"""streamer.db.storage (providers, pins, cache metadata, usage, gallery) against a
real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.db import storage as repo_storage


async def test_storage_provider_crud(db: asyncpg.Pool) -> None:
    a = await repo_storage.create_storage_provider(
        db, kind="local", name="disk", config={"path": "/data/a"}
    )
    assert a["type"] == "local" and a["config"] == {"path": "/data/a"} and a["enabled"] is True
    b = await repo_storage.create_storage_provider(db, kind="s3", name="bucket", config={})
    with pytest.raises(asyncpg.UniqueViolationError):
        await repo_storage.create_storage_provider(db, kind="ipfs", name="disk", config={})
    with pytest.raises(asyncpg.CheckViolationError):
        await repo_storage.create_storage_provider(db, kind="ftp", name="x", config={})

    got = await repo_storage.get_storage_provider(db, a["id"])
    assert got is not None and got["name"] == "disk"
    assert await repo_storage.get_storage_provider(db, 999_999) is None
    listed = await repo_storage.list_storage_providers(db)
    assert [p["id"] for p in listed] == [a["id"], b["id"]]

    new = await repo_storage.update_storage_provider(
        db, a["id"], name="disk2", enabled=False, config={"path": "/data/b"}
    )
    assert new is not None
    assert (new["name"], new["enabled"], new["config"]) == ("disk2", False, {"path": "/data/b"})
    with pytest.raises(asyncpg.UniqueViolationError):
        await repo_storage.update_storage_provider(
            db, a["id"], name="bucket", enabled=True, config={}
        )
    assert (
        await repo_storage.update_storage_provider(db, 999_999, name="z", enabled=True, config={})
        is None
    )


async def test_pins_count_and_provider_delete(db: asyncpg.Pool) -> None:
    p = await repo_storage.create_storage_provider(db, kind="local", name="disk", config={})
    assert await repo_storage.count_pins_on_provider(db, p["id"]) == 0
    await db.execute("INSERT INTO pins (cid, provider_id) VALUES ('QmA', $1), ('QmB', $1)", p["id"])
    assert await repo_storage.count_pins_on_provider(db, p["id"]) == 2
    assert await repo_storage.delete_storage_provider(db, p["id"]) is True
    assert await repo_storage.get_storage_provider(db, p["id"]) is None
    assert await repo_storage.count_pins_on_provider(db, p["id"]) == 0  # cascaded
    assert await repo_storage.delete_storage_provider(db, p["id"]) is False


async def test_put_cache_meta_changes_only_given_fields(db: asyncpg.Pool) -> None:
    await content_db.put_cache_item(db, cid="QmA", size=1, kind="video")
    await repo_storage.put_cache_meta(db, "QmA", {"title": "T", "tags": ["a", "b"]})
    row = await content_db.get_cache_item(db, "QmA")
    assert row is not None
    assert (row["title"], row["description"], row["tags"]) == ("T", None, ["a", "b"])

    await repo_storage.put_cache_meta(db, "QmA", {"description": "D"})
    row = await content_db.get_cache_item(db, "QmA")
    assert row is not None
    assert (row["title"], row["description"], row["tags"]) == ("T", "D", ["a", "b"])

    await repo_storage.put_cache_meta(db, "QmA", {"title": None, "tags": []})
    row = await content_db.get_cache_item(db, "QmA")
    assert row is not None
    assert (row["title"], row["description"], row["tags"]) == (None, "D", [])

    with pytest.raises(asyncpg.ForeignKeyViolationError):  # no such cache item
        await repo_storage.put_cache_meta(db, "QmNone", {"title": "x"})


async def test_cache_usage_pins_runs_recipes(db: asyncpg.Pool) -> None:
    await content_db.put_cache_item(db, cid="QmA", size=1)
    empty = await repo_storage.cache_usage(db, "QmA")
    assert (empty.pins, empty.runs, empty.recipes) == (0, [], [])

    p = await repo_storage.create_storage_provider(db, kind="local", name="disk", config={})
    await db.execute("INSERT INTO pins (cid, provider_id) VALUES ('QmA', $1)", p["id"])
    by_input = await runs_db.create_run(db, recipe_id=None, inputs={"video": "QmA"})
    by_output = await runs_db.create_run(db, recipe_id=None, inputs={})
    await runs_db.update_run(db, by_output["id"], output_cid="QmA")
    await runs_db.create_run(db, recipe_id=None, inputs={"video": "QmOther"})
    await recipes_db.put_recipe(
        db, recipe_id="r1", name="uses-a", source="video: QmA\n", syntax="yaml", canonical={}
    )
    await recipes_db.put_recipe(
        db, recipe_id="r2", name="other", source="video: QmB\n", syntax="yaml", canonical={}
    )

    usage = await repo_storage.cache_usage(db, "QmA")
    assert usage.pins == 1
    assert sorted(usage.runs) == sorted([by_input["id"], by_output["id"]])
    assert usage.recipes == ["uses-a"]


async def test_delete_cache_item_takes_its_meta(db: asyncpg.Pool) -> None:
    await content_db.put_cache_item(db, cid="QmA", size=1)
    await repo_storage.put_cache_meta(db, "QmA", {"title": "T"})
    assert await repo_storage.delete_cache_item(db, "QmA") is True
    assert await content_db.get_cache_item(db, "QmA") is None
    assert await db.fetchval("SELECT count(*) FROM cache_meta WHERE cid = 'QmA'") == 0
    assert await repo_storage.delete_cache_item(db, "QmA") is False


async def test_list_and_count_cache_items(db: asyncpg.Pool) -> None:
    for cid, kind in [("Qm1", "video"), ("Qm2", "audio"), ("Qm3", "video")]:
        await content_db.put_cache_item(db, cid=cid, size=1, kind=kind)
    await repo_storage.put_cache_meta(db, "Qm3", {"title": "third", "tags": ["x"]})

    assert await repo_storage.count_cache_items(db) == 3
    assert await repo_storage.count_cache_items(db, kind="video") == 2
    assert await repo_storage.count_cache_items(db, kind="image") == 0
    videos = await repo_storage.list_cache_items(db, kind="video")
    assert {r["cid"] for r in videos} == {"Qm1", "Qm3"}
    meta = {r["cid"]: (r["title"], r["tags"]) for r in videos}
    assert meta == {"Qm1": (None, []), "Qm3": ("third", ["x"])}
    everything = await repo_storage.list_cache_items(db)
    assert len(everything) == 3
    page = await repo_storage.list_cache_items(db, limit=2, offset=2)
    assert [r["cid"] for r in page] == [everything[2]["cid"]]
