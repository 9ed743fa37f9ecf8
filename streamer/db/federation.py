"""Rows of ``federation_activities`` (what this L1 sends its L2) and what a publication reads.

The columns are documented in ``migrations/0002_federation.sql``. Every
function takes ``db``: an asyncpg pool or connection whose json/jsonb codecs
map to Python objects (:func:`streamer.db.pool.create_pool`). Rows come back
as plain dicts; missing rows give ``None``.

The activities of one CID are delivered one after the other in ``seq``
order; :func:`lock_cid` (a transaction-scoped advisory lock) keeps the
publisher and the delivery job from deciding that order concurrently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ACTIVITY_STATES",
    "as_create",
    "begin_attempt",
    "delivered_before",
    "earliest_pending",
    "get_activity",
    "latest_activity",
    "latest_by_cid",
    "latest_delivered",
    "latest_live",
    "lock_cid",
    "mark_failed",
    "mark_published",
    "mark_retry",
    "new_activity",
    "run_of_output",
]

#: The states of an activity (``federation_activities.state``).
ACTIVITY_STATES = ("publishing", "published", "failed")


def _row(record: Any) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


async def lock_cid(conn: Any, cid: str) -> None:
    """Hold the CID's federation lock until the current transaction ends."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('federation:' || $1, 0))", cid
    )


async def new_activity(
    conn: Any,
    *,
    activity_id: str,
    cid: str,
    activity_type: str,
    object_type: str,
    object_id: str,
    actor: str,
    published_by: str | None,
    activity: Mapping[str, Any],
) -> dict[str, Any]:
    """Insert an activity in state ``publishing``; returns its row."""
    record = await conn.fetchrow(
        """
        INSERT INTO federation_activities
            (id, cid, activity_type, object_type, object_id, actor, published_by, activity)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING *
        """,
        activity_id,
        cid,
        activity_type,
        object_type,
        object_id,
        actor,
        published_by,
        dict(activity),
    )
    return dict(record)


async def get_activity(db: Any, activity_id: str) -> dict[str, Any] | None:
    """One activity by id."""
    return _row(await db.fetchrow("SELECT * FROM federation_activities WHERE id = $1", activity_id))


async def latest_activity(db: Any, cid: str) -> dict[str, Any] | None:
    """The CID's most recent activity, whatever its state."""
    return _row(
        await db.fetchrow(
            "SELECT * FROM federation_activities WHERE cid = $1 ORDER BY seq DESC LIMIT 1", cid
        )
    )


async def latest_by_cid(db: Any, cids: list[str]) -> dict[str, dict[str, Any]]:
    """The most recent activity of each of ``cids`` that has one."""
    rows = await db.fetch(
        """
        SELECT DISTINCT ON (cid) * FROM federation_activities
        WHERE cid = ANY($1::text[]) ORDER BY cid, seq DESC
        """,
        list(cids),
    )
    return {str(r["cid"]): dict(r) for r in rows}


async def latest_live(db: Any, cid: str) -> dict[str, Any] | None:
    """The CID's most recent activity that reached L2 or may still reach it (not failed)."""
    return _row(
        await db.fetchrow(
            """
            SELECT * FROM federation_activities
            WHERE cid = $1 AND state <> 'failed' ORDER BY seq DESC LIMIT 1
            """,
            cid,
        )
    )


async def latest_delivered(db: Any, cid: str) -> dict[str, Any] | None:
    """The CID's most recent activity that L2 accepted."""
    return _row(
        await db.fetchrow(
            """
            SELECT * FROM federation_activities
            WHERE cid = $1 AND state = 'published' ORDER BY seq DESC LIMIT 1
            """,
            cid,
        )
    )


async def delivered_before(db: Any, cid: str, seq: int) -> dict[str, Any] | None:
    """The CID's most recent activity before ``seq`` that L2 accepted (what L2 holds)."""
    return _row(
        await db.fetchrow(
            """
            SELECT * FROM federation_activities
            WHERE cid = $1 AND seq < $2 AND state = 'published' ORDER BY seq DESC LIMIT 1
            """,
            cid,
            seq,
        )
    )


async def as_create(db: Any, activity_id: str, activity: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a pending Update into a Create (L2 never got the object); returns the row."""
    record = await db.fetchrow(
        """
        UPDATE federation_activities SET activity_type = 'Create', activity = $2, updated_at = now()
        WHERE id = $1 RETURNING *
        """,
        activity_id,
        dict(activity),
    )
    return dict(record)


async def earliest_pending(db: Any, cid: str) -> dict[str, Any] | None:
    """The CID's oldest activity still ``publishing``: the one to deliver next."""
    return _row(
        await db.fetchrow(
            """
            SELECT * FROM federation_activities
            WHERE cid = $1 AND state = 'publishing' ORDER BY seq LIMIT 1
            """,
            cid,
        )
    )


async def begin_attempt(db: Any, activity_id: str) -> dict[str, Any] | None:
    """Count one more delivery attempt of a ``publishing`` activity; None when it is not one."""
    return _row(
        await db.fetchrow(
            """
            UPDATE federation_activities
            SET attempts = attempts + 1, updated_at = now(), next_attempt_at = NULL
            WHERE id = $1 AND state = 'publishing'
            RETURNING *
            """,
            activity_id,
        )
    )


async def mark_retry(db: Any, activity_id: str, error: str, next_attempt_at: dt.datetime) -> None:
    """Record a failed attempt that will be retried at ``next_attempt_at``."""
    await db.execute(
        """
        UPDATE federation_activities
        SET error = $2, next_attempt_at = $3, updated_at = now()
        WHERE id = $1 AND state = 'publishing'
        """,
        activity_id,
        error,
        next_attempt_at,
    )


async def mark_published(
    db: Any,
    activity_id: str,
    *,
    remote_id: str,
    target_inbox: str,
    user_actor: str | None,
    activity: Mapping[str, Any],
) -> None:
    """L2 accepted the activity (``activity``: as it was sent)."""
    await db.execute(
        """
        UPDATE federation_activities
        SET state = 'published', remote_id = $2, target_inbox = $3, user_actor = $4,
            activity = $5, error = NULL, delivered_at = now(), updated_at = now(), next_attempt_at = NULL
        WHERE id = $1
        """,
        activity_id,
        remote_id,
        target_inbox,
        user_actor,
        dict(activity),
    )


async def mark_failed(db: Any, activity_id: str, error: str) -> None:
    """Delivery gave up: ``error`` says why."""
    await db.execute(
        """
        UPDATE federation_activities
        SET state = 'failed', error = $2, updated_at = now(), next_attempt_at = NULL
        WHERE id = $1
        """,
        activity_id,
        error,
    )


async def run_of_output(db: Any, cid: str) -> dict[str, Any] | None:
    """The latest run that produced ``cid`` (its output or its playlist), with its
    latest provenance record (``provenance``: the record, or None)."""
    return _row(
        await db.fetchrow(
            """
            SELECT r.id, r.recipe_id, r.playlist_cid, r.output_cid, r.owner,
                   (SELECT p.record FROM provenance p
                    WHERE p.cid = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS provenance
            FROM runs r
            WHERE r.output_cid = $1 OR r.playlist_cid = $1
            ORDER BY r.created_at DESC LIMIT 1
            """,
            cid,
        )
    )
