"""What ``GET /outbox`` lists: the activities this L1 delivered to its L2.

The publishing side keeps them in the ``federation_activities`` table (its
migration ``0002_federation.sql``); the outbox lists the delivered ones
(``state = 'published'``), newest first. Until that table exists the outbox
is empty.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

__all__ = ["MAX_OUTBOX_ITEMS", "outbox_activities"]

#: The most activities one outbox answer lists.
MAX_OUTBOX_ITEMS = 200


async def outbox_activities(
    db: asyncpg.Pool, *, limit: int = MAX_OUTBOX_ITEMS
) -> list[dict[str, Any]]:
    """The delivered activities (their JSON), newest first; empty without the table."""
    async with db.acquire() as conn:
        table = await conn.fetchval("SELECT to_regclass('federation_activities')")
        if table is None:
            return []
        rows = await conn.fetch(
            "SELECT activity FROM federation_activities WHERE state = 'published' "
            "ORDER BY seq DESC LIMIT $1",
            max(1, min(limit, MAX_OUTBOX_ITEMS)),
        )
    activities = []
    for row in rows:
        value = row["activity"]
        doc = json.loads(value) if isinstance(value, str | bytes) else value
        if isinstance(doc, dict):
            activities.append(doc)
    return activities
