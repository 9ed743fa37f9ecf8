"""Read-only database queries of the web pages (rows as dicts).

Kept apart from ``streamer.repo`` (the shared data access of the writers)
because these are page-shaped: joins with recipe names, counts per status.
"""

from __future__ import annotations

from typing import Any

from streamer.db import runs as runs_db

__all__ = [
    "cache_items",
    "count_runs",
    "recipe_runs",
    "recipes_with_counts",
    "runs_page",
    "status_counts",
    "step_cache_cids",
    "storage_providers",
]


async def runs_page(
    db: Any,
    *,
    status: str | None = None,
    recipe_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Runs newest first with their recipe's name (of one status / recipe)."""
    rows = await db.fetch(
        """
        SELECT r.*, rc.name AS recipe_name FROM runs r
        LEFT JOIN recipes rc ON rc.id = r.recipe_id
        WHERE ($1::text IS NULL OR r.status = $1) AND ($4::text IS NULL OR r.recipe_id = $4)
        ORDER BY r.created_at DESC, r.id LIMIT $2 OFFSET $3
        """,
        status,
        limit,
        offset,
        recipe_id,
    )
    return [dict(r) for r in rows]


async def count_runs(db: Any, status: str | None = None, recipe_id: str | None = None) -> int:
    """How many runs (of ``status`` / ``recipe_id``)."""
    return await runs_db.count_runs(db, status=status, recipe_id=recipe_id)


async def status_counts(db: Any) -> dict[str, int]:
    """Runs per status."""
    rows = await db.fetch("SELECT status, count(*) AS n FROM runs GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


async def recipes_with_counts(
    db: Any, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Recipes newest first, each with its number of runs."""
    rows = await db.fetch(
        """
        SELECT rc.*, (SELECT count(*) FROM runs r WHERE r.recipe_id = rc.id) AS run_count
        FROM recipes rc ORDER BY rc.created_at DESC, rc.id LIMIT $1 OFFSET $2
        """,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def recipe_runs(db: Any, recipe_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs of one recipe."""
    rows = await db.fetch(
        "SELECT * FROM runs WHERE recipe_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        recipe_id,
        limit,
    )
    return [dict(r) for r in rows]


async def cache_items(
    db: Any, *, kind: str | None = None, limit: int = 120
) -> list[dict[str, Any]]:
    """Cache items newest first with their metadata title."""
    rows = await db.fetch(
        """
        SELECT c.*, m.title, m.description FROM cache_items c
        LEFT JOIN cache_meta m USING (cid)
        WHERE ($1::text IS NULL OR c.kind = $1)
        ORDER BY c.created_at DESC, c.cid LIMIT $2
        """,
        kind,
        limit,
    )
    return [dict(r) for r in rows]


async def storage_providers(db: Any) -> list[dict[str, Any]]:
    """Configured storage providers with their pin counts."""
    rows = await db.fetch(
        """
        SELECT p.*, (SELECT count(*) FROM pins WHERE pins.provider_id = p.id) AS pin_count
        FROM storage_providers p ORDER BY p.id
        """
    )
    return [dict(r) for r in rows]


async def step_cache_cids(db: Any, cache_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Step cache rows (cid, step_type, created_at) for the given cache ids."""
    if not cache_ids:
        return {}
    rows = await db.fetch("SELECT * FROM step_cache WHERE cache_id = ANY($1::text[])", cache_ids)
    return {r["cache_id"]: dict(r) for r in rows}
