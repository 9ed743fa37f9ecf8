"""Migrations against a real PostgreSQL: fresh database per test."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from streamer.db.pool import (
    MIGRATIONS_DIR,
    MigrationError,
    apply_migrations,
    create_pool,
    load_migrations,
)

CORE_TABLES = {
    "recipes",
    "runs",
    "cache_items",
    "cache_meta",
    "storage_providers",
    "pins",
    "provenance",
    "step_cache",
    "schema_version",
}


async def _tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    return {r["table_name"] for r in rows}


def test_shipped_migrations_are_ordered_from_one() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    assert versions[0] == 1
    assert versions == sorted(versions)
    assert migrations[0].path == MIGRATIONS_DIR / "0001_init.sql"


async def test_apply_creates_core_tables_and_twice_is_noop(fresh_dsn: str) -> None:
    conn = await asyncpg.connect(fresh_dsn)
    try:
        first = await apply_migrations(conn)
        assert first == [m.version for m in load_migrations()]
        assert await _tables(conn) >= CORE_TABLES
        second = await apply_migrations(conn)
        assert second == []
        rows = await conn.fetch("SELECT version, name FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == first
        assert rows[0]["name"] == "0001_init.sql"
    finally:
        await conn.close()


async def test_pool_applies_and_maps_jsonb(fresh_dsn: str) -> None:
    pool = await create_pool(fresh_dsn)
    try:
        assert await apply_migrations(pool) == [m.version for m in load_migrations()]
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO recipes (id, name, source, syntax, canonical) "
                "VALUES ($1, $2, $3, $4, $5)",
                "abc",
                "beat-sync",
                "name: beat-sync",
                "yaml",
                {"name": "beat-sync", "steps": [1, 2]},
            )
            await conn.execute(
                "INSERT INTO runs (id, recipe_id, inputs) VALUES ($1, $2, $3)",
                "run-1",
                "abc",
                {"video": "Qm1"},
            )
            row = await conn.fetchrow("SELECT status, progress, inputs FROM runs")
            assert row["status"] == "pending"
            assert row["progress"] == 0
            assert row["inputs"] == {"video": "Qm1"}
            canonical = await conn.fetchval("SELECT canonical FROM recipes WHERE id = 'abc'")
            assert canonical == {"name": "beat-sync", "steps": [1, 2]}
    finally:
        await pool.close()


async def test_constraints_reject_bad_values(fresh_dsn: str) -> None:
    conn = await asyncpg.connect(fresh_dsn)
    try:
        await apply_migrations(conn)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO runs (id, status) VALUES ('r', 'exploded')")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO cache_items (cid, size, kind) VALUES ('c', 1, 'x')")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO storage_providers (type, name) VALUES ('ftp', 'n')")
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("INSERT INTO cache_meta (cid, title) VALUES ('missing', 't')")
        await conn.execute("INSERT INTO cache_items (cid, size, kind) VALUES ('c1', 10, 'video')")
        await conn.execute(
            "INSERT INTO cache_meta (cid, title, tags) VALUES ('c1', 't', ARRAY['a','b'])"
        )
        await conn.execute("DELETE FROM cache_items WHERE cid = 'c1'")
        assert await conn.fetchval("SELECT count(*) FROM cache_meta") == 0
    finally:
        await conn.close()


async def test_failing_migration_rolls_back_and_names_file(fresh_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (id int);")
    broken = tmp_path / "0002_broken.sql"
    broken.write_text("CREATE TABLE half (id int);\nSELECT no_such_column FROM good;")
    (tmp_path / "0003_later.sql").write_text("CREATE TABLE later (id int);")
    conn = await asyncpg.connect(fresh_dsn)
    try:
        with pytest.raises(MigrationError) as info:
            await apply_migrations(conn, tmp_path)
        assert info.value.path == broken
        assert "0002_broken.sql" in str(info.value)
        assert "no_such_column" in str(info.value)
        tables = await _tables(conn)
        assert "good" in tables
        assert "half" not in tables  # rolled back with its migration
        assert "later" not in tables  # nothing after the failure
        recorded = await conn.fetch("SELECT version FROM schema_version")
        assert [r["version"] for r in recorded] == [1]
        # fixing the file lets the next run continue where it stopped
        broken.write_text("CREATE TABLE half (id int);")
        assert await apply_migrations(conn, tmp_path) == [2, 3]
        assert {"good", "half", "later"} <= await _tables(conn)
    finally:
        await conn.close()


def test_misnamed_and_duplicate_migrations_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "1_short.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"1_short\.sql: expected a name like"):
        load_migrations(tmp_path)
    (tmp_path / "1_short.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"version 1 also used by 0001_a\.sql"):
        load_migrations(tmp_path)
