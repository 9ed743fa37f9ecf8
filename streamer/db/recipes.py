"""Rows of the ``recipes`` table.

Every function takes ``db``: an asyncpg pool or connection whose json/jsonb
codecs map to Python objects (as made by :func:`streamer.db.pool.create_pool`).
Rows come back as plain dicts; missing rows give ``None``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["count_recipes", "delete_recipe", "get_recipe", "list_recipes", "put_recipe"]


def _row(record: Any) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


async def put_recipe(
    db: Any,
    *,
    recipe_id: str,
    name: str,
    source: str,
    syntax: str,
    canonical: Mapping[str, Any],
    version: str = "",
    description: str = "",
    owner: str | None = None,
) -> bool:
    """Store a recipe under its content id; returns False when it already existed."""
    status = await db.execute(
        """
        INSERT INTO recipes (id, name, version, description, source, syntax, canonical, owner)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO NOTHING
        """,
        recipe_id,
        name,
        version,
        description,
        source,
        syntax,
        dict(canonical),
        owner,
    )
    return bool(status.endswith(" 1"))


async def get_recipe(db: Any, recipe_id: str) -> dict[str, Any] | None:
    """One recipe by id."""
    return _row(await db.fetchrow("SELECT * FROM recipes WHERE id = $1", recipe_id))


_RECIPES_WHERE = "($1::text IS NULL OR name ILIKE $1)"


async def list_recipes(
    db: Any, *, name_like: str | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Recipes, newest first; ``name_like`` (an ILIKE pattern, escaped by the caller)
    keeps those whose name matches."""
    rows = await db.fetch(
        f"SELECT * FROM recipes WHERE {_RECIPES_WHERE} "
        "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
        name_like,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def count_recipes(db: Any, *, name_like: str | None = None) -> int:
    """How many recipes :func:`list_recipes` pages through with the same filter."""
    return int(await db.fetchval(f"SELECT count(*) FROM recipes WHERE {_RECIPES_WHERE}", name_like))


async def delete_recipe(
    db: Any, recipe_id: str, *, blocking_statuses: Collection[str]
) -> list[str] | None:
    """Delete a recipe unless runs in ``blocking_statuses`` use it, in one transaction.

    The recipe row is locked first, so a run cannot be created for it between
    the check and the delete.

    Returns:
        None when the recipe does not exist; else the ids (at most 5) of the
        runs that block the delete, an empty list meaning it was deleted.
    """
    acquire = db.acquire() if hasattr(db, "acquire") else contextlib.nullcontext(db)
    async with acquire as conn, conn.transaction():
        row = await conn.fetchrow("SELECT id FROM recipes WHERE id = $1 FOR UPDATE", recipe_id)
        if row is None:
            return None
        active = await conn.fetch(
            "SELECT id FROM runs WHERE recipe_id = $1 AND status = ANY($2::text[]) LIMIT 5",
            recipe_id,
            list(blocking_statuses),
        )
        if active:
            return [str(r["id"]) for r in active]
        await conn.execute("DELETE FROM recipes WHERE id = $1", recipe_id)
    return []
