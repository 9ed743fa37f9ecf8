"""Rows of ``run_replicas``: the copy of one completed run on one storage provider.

A row goes ``pending`` -> ``copying`` (an attempt runs) -> ``done``; a failed
attempt puts it back to ``pending`` (another is due) or ends it ``failed``.
Like the other :mod:`streamer.db` modules, every function takes ``db`` (an
asyncpg pool or connection); rows come back as plain dicts, missing ones as None.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

__all__ = [
    "REPLICA_STATES",
    "ReplicaState",
    "add_replicas",
    "begin_attempt",
    "get_replica",
    "list_replicas",
    "mark_done",
    "mark_failed",
    "mark_retry",
    "set_progress",
    "unsettled_replicas",
]

ReplicaState = Literal["pending", "copying", "done", "failed"]
#: Every state, in life order (the column's CHECK constraint holds the same).
REPLICA_STATES: tuple[ReplicaState, ...] = ("pending", "copying", "done", "failed")
_ERROR_MAX = 2000


def _row(record: Any) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


async def add_replicas(db: Any, run_id: str, provider_ids: Iterable[int]) -> list[int]:
    """A ``pending`` row per provider that has none for the run; returns the providers added."""
    rows = await db.fetch(
        """
        INSERT INTO run_replicas (run_id, provider_id)
        SELECT $1, p FROM unnest($2::int[]) AS p
        ON CONFLICT (run_id, provider_id) DO NOTHING
        RETURNING provider_id
        """,
        run_id,
        list(provider_ids),
    )
    return [int(r["provider_id"]) for r in rows]


async def get_replica(db: Any, run_id: str, provider_id: int) -> dict[str, Any] | None:
    """One row."""
    return _row(
        await db.fetchrow(
            "SELECT * FROM run_replicas WHERE run_id = $1 AND provider_id = $2",
            run_id,
            provider_id,
        )
    )


async def begin_attempt(db: Any, run_id: str, provider_id: int) -> dict[str, Any] | None:
    """Count an attempt and mark the row ``copying``; None once it is settled (or gone).

    A ``copying`` row is taken too: its worker died and arq runs the job again.
    """
    return _row(
        await db.fetchrow(
            """
            UPDATE run_replicas SET state = 'copying', attempts = attempts + 1, updated_at = now()
            WHERE run_id = $1 AND provider_id = $2 AND state IN ('pending', 'copying')
            RETURNING *
            """,
            run_id,
            provider_id,
        )
    )


async def set_progress(db: Any, run_id: str, provider_id: int, done: int, total: int) -> None:
    """How many of the run's objects the provider holds so far."""
    await db.execute(
        "UPDATE run_replicas SET objects_done = $3, objects_total = $4, updated_at = now() "
        "WHERE run_id = $1 AND provider_id = $2",
        run_id,
        provider_id,
        done,
        total,
    )


async def _settle(
    db: Any, run_id: str, provider_id: int, state: ReplicaState, error: str | None
) -> None:
    await db.execute(
        "UPDATE run_replicas SET state = $3, last_error = $4, updated_at = now() "
        "WHERE run_id = $1 AND provider_id = $2",
        run_id,
        provider_id,
        state,
        None if error is None else error[:_ERROR_MAX],
    )


async def mark_done(db: Any, run_id: str, provider_id: int) -> None:
    """Every object is on the provider (the last error, if any, is cleared)."""
    await _settle(db, run_id, provider_id, "done", None)


async def mark_retry(db: Any, run_id: str, provider_id: int, error: str) -> None:
    """The attempt failed and another is due: ``pending`` with why."""
    await _settle(db, run_id, provider_id, "pending", error)


async def mark_failed(db: Any, run_id: str, provider_id: int, error: str) -> None:
    """No attempt is left (or none can help): ``failed`` with why."""
    await _settle(db, run_id, provider_id, "failed", error)


async def list_replicas(db: Any, run_id: str) -> list[dict[str, Any]]:
    """The run's rows with each provider's ``provider_name`` and ``kind``, by provider id."""
    rows = await db.fetch(
        """
        SELECT r.*, p.name AS provider_name, p.type AS kind
        FROM run_replicas r JOIN storage_providers p ON p.id = r.provider_id
        WHERE r.run_id = $1 ORDER BY r.provider_id
        """,
        run_id,
    )
    return [dict(r) for r in rows]


async def unsettled_replicas(db: Any, queue: str) -> list[dict[str, Any]]:
    """Rows still ``pending`` or ``copying`` of runs queued on ``queue`` (their job may be
    lost with Redis), oldest first."""
    rows = await db.fetch(
        """
        SELECT c.run_id, c.provider_id FROM run_replicas c JOIN runs r ON r.id = c.run_id
        WHERE c.state IN ('pending', 'copying') AND r.job ->> 'queue' = $1
        ORDER BY c.updated_at
        """,
        queue,
    )
    return [dict(r) for r in rows]
