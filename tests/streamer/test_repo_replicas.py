"""streamer.db.replicas (a run's copies on storage providers) against a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from streamer.db import replicas as replicas_db
from streamer.db import runs as runs_db
from streamer.db import storage as storage_db


async def _run(db: Any, queue: str | None = "q1") -> str:
    run = await runs_db.create_run(db, recipe_id=None, inputs={})
    if queue is not None:
        await runs_db.update_run(db, run["id"], job={"function": "render_run", "queue": queue})
    return str(run["id"])


async def test_a_copy_goes_pending_copying_done(db: asyncpg.Pool) -> None:
    run_id = await _run(db)
    a = await storage_db.create_storage_provider(db, kind="local", name="a", config={})
    b = await storage_db.create_storage_provider(db, kind="s3", name="b", config={})
    assert await replicas_db.add_replicas(db, run_id, [a["id"], b["id"]]) == [a["id"], b["id"]]
    assert await replicas_db.add_replicas(db, run_id, [a["id"], b["id"]]) == []  # once per pair

    row = await replicas_db.begin_attempt(db, run_id, a["id"])
    assert row is not None and (row["state"], row["attempts"]) == ("copying", 1)
    await replicas_db.set_progress(db, run_id, a["id"], 2, 5)
    await replicas_db.mark_retry(db, run_id, a["id"], "attempt 1/3: down")
    row = await replicas_db.begin_attempt(db, run_id, a["id"])
    assert row is not None and row["attempts"] == 2 and row["last_error"] == "attempt 1/3: down"
    await replicas_db.set_progress(db, run_id, a["id"], 5, 5)
    await replicas_db.mark_done(db, run_id, a["id"])
    assert await replicas_db.begin_attempt(db, run_id, a["id"]) is None  # settled

    await replicas_db.mark_failed(db, run_id, b["id"], "x" * 5000)
    listed = await replicas_db.list_replicas(db, run_id)
    assert [(r["provider_name"], r["kind"], r["state"]) for r in listed] == [
        ("a", "local", "done"),
        ("b", "s3", "failed"),
    ]
    assert (listed[0]["objects_done"], listed[0]["objects_total"]) == (5, 5)
    assert listed[0]["last_error"] is None and len(listed[1]["last_error"]) == 2000
    assert await replicas_db.begin_attempt(db, run_id, b["id"]) is None


async def test_unsettled_copies_of_one_queue(db: asyncpg.Pool) -> None:
    p = await storage_db.create_storage_provider(db, kind="local", name="p", config={})
    mine, other, unqueued = await _run(db, "q1"), await _run(db, "q2"), await _run(db, None)
    for run_id in (mine, other, unqueued):
        await replicas_db.add_replicas(db, run_id, [p["id"]])
    assert [r["run_id"] for r in await replicas_db.unsettled_replicas(db, "q1")] == [mine]
    await replicas_db.mark_done(db, mine, p["id"])
    assert await replicas_db.unsettled_replicas(db, "q1") == []


async def test_rows_go_with_their_run_or_provider(db: asyncpg.Pool) -> None:
    run_id = await _run(db)
    p = await storage_db.create_storage_provider(db, kind="local", name="gone", config={})
    q = await storage_db.create_storage_provider(db, kind="local", name="kept", config={})
    await replicas_db.add_replicas(db, run_id, [p["id"], q["id"]])
    await storage_db.delete_storage_provider(db, p["id"])
    assert [r["provider_id"] for r in await replicas_db.list_replicas(db, run_id)] == [q["id"]]
    await runs_db.delete_run(db, run_id)
    assert await replicas_db.list_replicas(db, run_id) == []
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await replicas_db.add_replicas(db, run_id, [q["id"]])
