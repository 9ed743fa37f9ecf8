"""Rows of the ``runs`` table.

Every function takes ``db``: an asyncpg pool or connection whose json/jsonb
codecs map to Python objects (as made by :func:`streamer.db.pool.create_pool`).
Rows come back as plain dicts; missing rows give ``None``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from streamer.runs.status import RUN_STATUSES, TERMINAL_STATUSES, RunStatus

__all__ = [
    "cancel_pending_run",
    "claim_run",
    "count_runs",
    "create_run",
    "delete_run",
    "get_run",
    "list_runs",
    "queued_runs",
    "running_run_ids",
    "update_run",
]


def _row(record: Any) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


_RUN_UPDATABLE = frozenset(
    {
        "status",
        "progress",
        "segment_count",
        "playlist_cid",
        "master_cid",
        "variant_cids",
        "output_cid",
        "error",
        "plan",
        "plan_id",
        "analysis",
        "task_id",
        "job",
    }
)


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
    if status == RunStatus.RUNNING:
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


async def claim_run(
    db: Any, run_id: str, task_id: str, *, take_over: bool = False
) -> dict[str, Any] | None:
    """Mark ``run_id`` running for the job ``task_id`` if no other job has it.

    A pending run is taken; a running one only with ``take_over`` (arq retrying
    the job of a worker that died). Two jobs for one run (one queued again after
    a Redis restart, :mod:`streamer.jobs.requeue`) cannot both render it.

    Returns:
        The run afterwards, or None when it was not taken.
    """
    return _row(
        await db.fetchrow(
            "UPDATE runs SET status = 'running', task_id = $2, updated_at = now(), "
            "started_at = coalesce(started_at, now()) "
            "WHERE id = $1 AND (status = 'pending' OR ($3 AND status = 'running')) RETURNING *",
            run_id,
            task_id,
            take_over,
        )
    )


async def queued_runs(db: Any, queue: str) -> list[dict[str, Any]]:
    """Pending runs whose job was queued on ``queue`` (oldest first)."""
    rows = await db.fetch(
        "SELECT * FROM runs WHERE status = 'pending' AND job ->> 'queue' = $1 "
        "ORDER BY created_at, id",
        queue,
    )
    return [dict(r) for r in rows]


async def running_run_ids(db: Any, queue: str) -> list[str]:
    """Ids of the running runs whose job was queued on ``queue`` (oldest first)."""
    rows = await db.fetch(
        "SELECT id FROM runs WHERE status = 'running' AND job ->> 'queue' = $1 "
        "ORDER BY created_at, id",
        queue,
    )
    return [str(r["id"]) for r in rows]
