"""Data access for stored content: storage providers, pins and the cache gallery.

Like the other :mod:`streamer.db` modules, every function takes
``db``, an asyncpg pool or connection with the json/jsonb codecs of
:func:`streamer.db.pool.create_pool`; rows come back as plain dicts, missing rows
as ``None``. Database errors (e.g. ``asyncpg.UniqueViolationError`` on a
duplicate provider name) propagate for the caller to translate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CacheUsage",
    "cache_usage",
    "count_cache_items",
    "count_pins_on_provider",
    "create_storage_provider",
    "delete_cache_item",
    "delete_storage_provider",
    "get_storage_provider",
    "list_cache_items",
    "list_storage_providers",
    "put_cache_meta",
    "update_storage_provider",
]


def _row(record: Any) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


# --- storage providers -----------------------------------------------------------------------


async def create_storage_provider(
    db: Any, *, kind: str, name: str, config: Mapping[str, Any]
) -> dict[str, Any]:
    """Insert a provider (``kind``: local, ipfs or s3) and return its row.

    Raises:
        asyncpg.UniqueViolationError: a provider with this name exists.
    """
    record = await db.fetchrow(
        "INSERT INTO storage_providers (type, name, config) VALUES ($1, $2, $3) RETURNING *",
        kind,
        name,
        dict(config),
    )
    return dict(record)


async def get_storage_provider(db: Any, provider_id: int) -> dict[str, Any] | None:
    """One provider by id."""
    return _row(await db.fetchrow("SELECT * FROM storage_providers WHERE id = $1", provider_id))


async def list_storage_providers(db: Any) -> list[dict[str, Any]]:
    """All providers, oldest first."""
    return [dict(r) for r in await db.fetch("SELECT * FROM storage_providers ORDER BY id")]


async def update_storage_provider(
    db: Any, provider_id: int, *, name: str, enabled: bool, config: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Replace a provider's name, enabled flag and config; its row afterwards (None when
    it does not exist).

    Raises:
        asyncpg.UniqueViolationError: another provider has this name.
    """
    return _row(
        await db.fetchrow(
            "UPDATE storage_providers SET name = $2, enabled = $3, config = $4 WHERE id = $1 "
            "RETURNING *",
            provider_id,
            name,
            enabled,
            dict(config),
        )
    )


async def count_pins_on_provider(db: Any, provider_id: int) -> int:
    """How many cids are pinned on a provider."""
    return int(await db.fetchval("SELECT count(*) FROM pins WHERE provider_id = $1", provider_id))


async def delete_storage_provider(db: Any, provider_id: int) -> bool:
    """Delete a provider (its pins go with it); False when there was none."""
    status = await db.execute("DELETE FROM storage_providers WHERE id = $1", provider_id)
    return bool(status.endswith(" 1"))


# --- cache items ---------------------------------------------------------------------------


async def put_cache_meta(db: Any, cid: str, fields: Mapping[str, Any]) -> None:
    """Set the title, description and/or tags of ``cid`` (only the keys present in
    ``fields`` change; a None title/description clears it).

    The cache item must exist (``cache_meta.cid`` references it).
    """
    await db.execute(
        """
        INSERT INTO cache_meta (cid, title, description, tags) VALUES ($1, $2, $3, $4)
        ON CONFLICT (cid) DO UPDATE SET
            title = CASE WHEN $5 THEN EXCLUDED.title ELSE cache_meta.title END,
            description = CASE WHEN $6 THEN EXCLUDED.description ELSE cache_meta.description END,
            tags = CASE WHEN $7 THEN EXCLUDED.tags ELSE cache_meta.tags END,
            updated_at = now()
        """,
        cid,
        fields.get("title"),
        fields.get("description"),
        list(fields.get("tags", [])),
        "title" in fields,
        "description" in fields,
        "tags" in fields,
    )


@dataclass(frozen=True)
class CacheUsage:
    """What uses a cid.

    Attributes:
        pins: how many providers pin it.
        runs: ids of runs using it (at most 5, newest first).
        recipes: names of recipes whose source mentions it (at most 5).
    """

    pins: int
    runs: list[str]
    recipes: list[str]


async def cache_usage(db: Any, cid: str) -> CacheUsage:
    """The pins, runs (input, output or playlist) and recipes (source text) using ``cid``."""
    pins = await db.fetchval("SELECT count(*) FROM pins WHERE cid = $1", cid)
    runs = await db.fetch(
        """
        SELECT id FROM runs
        WHERE output_cid = $1 OR playlist_cid = $1
           OR EXISTS (SELECT 1 FROM jsonb_each_text(inputs) AS i WHERE i.value = $1)
        ORDER BY created_at DESC LIMIT 5
        """,
        cid,
    )
    recipes = await db.fetch(
        "SELECT id, name FROM recipes WHERE strpos(source, $1) > 0 LIMIT 5", cid
    )
    return CacheUsage(
        pins=int(pins),
        runs=[str(r["id"]) for r in runs],
        recipes=[str(r["name"]) for r in recipes],
    )


async def delete_cache_item(db: Any, cid: str) -> bool:
    """Delete a cache item record (its metadata goes with it); False when there was none."""
    status = await db.execute("DELETE FROM cache_items WHERE cid = $1", cid)
    return bool(status.endswith(" 1"))


# $1 kind; NULL matches all
_ITEMS_WHERE = "($1::text IS NULL OR c.kind = $1)"


async def list_cache_items(
    db: Any, *, kind: str | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Cache items with their metadata (title, description, tags), newest first,
    optionally of one kind."""
    rows = await db.fetch(
        f"""
        SELECT c.*, m.title, m.description, coalesce(m.tags, '{{}}') AS tags
        FROM cache_items c LEFT JOIN cache_meta m USING (cid)
        WHERE {_ITEMS_WHERE} ORDER BY c.created_at DESC, c.cid LIMIT $2 OFFSET $3
        """,
        kind,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def count_cache_items(db: Any, *, kind: str | None = None) -> int:
    """How many items :func:`list_cache_items` pages through with the same filter."""
    return int(await db.fetchval(f"SELECT count(*) FROM cache_items c WHERE {_ITEMS_WHERE}", kind))
