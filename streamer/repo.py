"""Small data-access helpers over the core tables (see ``migrations/0001_init.sql``).

Every function takes ``db``: an asyncpg pool or connection whose json/jsonb
codecs map to Python objects (as made by :func:`streamer.db.create_pool`).
Rows come back as plain dicts. Missing rows give ``None``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection, Mapping
from typing import Any

__all__ = [
    "RUN_STATUSES",
    "TERMINAL_STATUSES",
    "cancel_pending_run",
    "count_recipes",
    "count_runs",
    "create_run",
    "delete_recipe",
    "delete_run",
    "get_cache_item",
    "get_recipe",
    "get_run",
    "get_step_cache",
    "list_provenance",
    "list_recipes",
    "list_runs",
    "put_cache_item",
    "put_recipe",
    "put_step_cache",
    "record_provenance",
    "update_run",
]

RUN_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})

_RUN_UPDATABLE = frozenset(
    {
        "status",
        "progress",
        "segment_count",
        "playlist_cid",
        "output_cid",
        "error",
        "plan",
        "plan_id",
        "analysis",
        "task_id",
    }
)


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


# $1 an ILIKE pattern on the name; NULL matches all
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


async def create_run(
    db: Any,
    *,
    recipe_id: str | None,
    inputs: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    owner: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Insert a pending run (id: a new uuid4 unless given) and return it."""
    record = await db.fetchrow(
        """
        INSERT INTO runs (id, recipe_id, inputs, params, owner)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING *
        """,
        run_id or str(uuid.uuid4()),
        recipe_id,
        dict(inputs),
        dict(params or {}),
        owner,
    )
    return dict(record)


# $1 status, $2 recipe id; NULL matches all
_RUNS_WHERE = "($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR recipe_id = $2)"


async def get_run(db: Any, run_id: str) -> dict[str, Any] | None:
    """One run by id."""
    return _row(await db.fetchrow("SELECT * FROM runs WHERE id = $1", run_id))


async def list_runs(
    db: Any,
    *,
    status: str | None = None,
    recipe_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Runs, newest first, optionally of one status and/or one recipe."""
    if status is not None and status not in RUN_STATUSES:
        raise ValueError(f"status={status!r}: expected one of {', '.join(RUN_STATUSES)}")
    rows = await db.fetch(
        f"SELECT * FROM runs WHERE {_RUNS_WHERE} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
        status,
        recipe_id,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def count_runs(db: Any, *, status: str | None = None, recipe_id: str | None = None) -> int:
    """How many runs :func:`list_runs` pages through with the same filters."""
    return int(
        await db.fetchval(f"SELECT count(*) FROM runs WHERE {_RUNS_WHERE}", status, recipe_id)
    )


async def update_run(db: Any, run_id: str, **fields: Any) -> dict[str, Any] | None:
    """Update some fields of a run and return it (None when it does not exist).

    ``status="running"`` stamps ``started_at`` (once); a terminal status stamps
    ``finished_at``; ``updated_at`` is always refreshed.

    Raises:
        ValueError: an unknown field or status.
    """
    unknown = set(fields) - _RUN_UPDATABLE
    if unknown:
        raise ValueError(
            f"cannot update run field(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_RUN_UPDATABLE))}"
        )
    status = fields.get("status")
    if status is not None and status not in RUN_STATUSES:
        raise ValueError(f"status={status!r}: expected one of {', '.join(RUN_STATUSES)}")
    names = sorted(fields)
    # names come from the whitelist above, never from input
    sets = [f"{name} = ${i}" for i, name in enumerate(names, start=2)]
    sets.append("updated_at = now()")
    if status == "running":
        sets.append("started_at = coalesce(started_at, now())")
    if status in TERMINAL_STATUSES:
        sets.append("finished_at = now()")
    record = await db.fetchrow(
        f"UPDATE runs SET {', '.join(sets)} WHERE id = $1 RETURNING *",
        run_id,
        *(fields[n] for n in names),
    )
    return _row(record)


async def cancel_pending_run(db: Any, run_id: str) -> dict[str, Any] | None:
    """Mark ``run_id`` cancelled if it is still pending; the run afterwards, or None
    when it is not (or no longer) pending."""
    return _row(
        await db.fetchrow(
            "UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now() "
            "WHERE id = $1 AND status = 'pending' RETURNING *",
            run_id,
        )
    )


async def delete_run(db: Any, run_id: str) -> bool:
    """Delete a run row (its provenance goes with it); False when there was none."""
    status = await db.execute("DELETE FROM runs WHERE id = $1", run_id)
    return bool(status.endswith(" 1"))


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
