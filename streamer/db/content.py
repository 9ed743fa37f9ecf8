"""Rows of the content tables: ``cache_items``, ``provenance`` and ``step_cache``.

Every function takes ``db``: an asyncpg pool or connection whose json/jsonb
codecs map to Python objects (as made by :func:`streamer.db.pool.create_pool`).
Rows come back as plain dicts; missing rows give ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "get_cache_item",
    "get_step_cache",
    "list_provenance",
    "put_cache_item",
    "put_step_cache",
    "record_provenance",
]


def _row(record: Any) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


async def put_cache_item(
    db: Any,
    *,
    cid: str,
    size: int,
    media_type: str = "application/octet-stream",
    kind: str = "other",
    path: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Insert or refresh a cache item (same cid = same bytes: only path/source change)."""
    record = await db.fetchrow(
        """
        INSERT INTO cache_items (cid, size, media_type, kind, path, source)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (cid) DO UPDATE
            SET path = coalesce(EXCLUDED.path, cache_items.path),
                source = coalesce(cache_items.source, EXCLUDED.source)
        RETURNING *
        """,
        cid,
        size,
        media_type,
        kind,
        path,
        source,
    )
    return dict(record)


async def get_cache_item(db: Any, cid: str) -> dict[str, Any] | None:
    """One cache item with its metadata (title, description, tags) if any."""
    return _row(
        await db.fetchrow(
            """
            SELECT c.*, m.title, m.description, coalesce(m.tags, '{}') AS tags
            FROM cache_items c LEFT JOIN cache_meta m USING (cid)
            WHERE c.cid = $1
            """,
            cid,
        )
    )


async def record_provenance(db: Any, *, run_id: str, cid: str, record: Mapping[str, Any]) -> int:
    """Store one provenance record; returns its id."""
    return int(
        await db.fetchval(
            "INSERT INTO provenance (run_id, cid, record) VALUES ($1, $2, $3) RETURNING id",
            run_id,
            cid,
            dict(record),
        )
    )


async def list_provenance(db: Any, run_id: str) -> list[dict[str, Any]]:
    """The provenance records of a run, oldest first."""
    rows = await db.fetch(
        "SELECT * FROM provenance WHERE run_id = $1 ORDER BY created_at, id", run_id
    )
    return [dict(r) for r in rows]


async def put_step_cache(db: Any, *, cache_id: str, cid: str, step_type: str) -> None:
    """Remember the output cid of a plan step's cache id (first writer wins)."""
    await db.execute(
        """
        INSERT INTO step_cache (cache_id, cid, step_type) VALUES ($1, $2, $3)
        ON CONFLICT (cache_id) DO NOTHING
        """,
        cache_id,
        cid,
        step_type,
    )


async def get_step_cache(db: Any, cache_id: str) -> str | None:
    """The output cid cached for ``cache_id``, if any."""
    value = await db.fetchval("SELECT cid FROM step_cache WHERE cache_id = $1", cache_id)
    return str(value) if value is not None else None
