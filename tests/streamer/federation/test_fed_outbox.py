"""The outbox reads the publishing side's table, and is empty until it exists."""

from __future__ import annotations

import json

from streamer.db.pool import create_pool
from streamer.federation.outbox import outbox_activities


async def test_empty_without_the_table_then_published_newest_first(fresh_dsn: str) -> None:
    # a fresh database without migrations: the table of 0002_federation.sql is not there
    pool = await create_pool(fresh_dsn, max_size=1)
    try:
        assert await outbox_activities(pool) == []
        await pool.execute(
            "CREATE TABLE federation_activities ("
            " seq bigserial, state text NOT NULL, activity jsonb NOT NULL)"
        )
        for n, state in enumerate(["published", "publishing", "published", "failed"]):
            doc = {"id": f"https://l1.example/a/{n}", "type": "Create"}
            await pool.execute(
                "INSERT INTO federation_activities (state, activity) VALUES ($1, $2::jsonb)",
                state,
                json.dumps(doc),
            )
        items = await outbox_activities(pool)
        assert [a["id"] for a in items] == ["https://l1.example/a/2", "https://l1.example/a/0"]
        assert len(await outbox_activities(pool, limit=1)) == 1
    finally:
        await pool.close()
