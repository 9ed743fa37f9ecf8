"""In-process arq workers and stored recipes for the streamer tests that run real jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from interpreter.canonical import canonical, recipe_id
from interpreter.loader import load_recipe
from streamer.db import recipes as recipes_db
from streamer.entry.worker import MonitoredWorker, create_worker
from streamer.settings import Settings

__all__ = ["in_process_worker", "store_recipe"]


@contextlib.asynccontextmanager
async def in_process_worker(
    settings: Settings, queue: str, max_jobs: int
) -> AsyncIterator[MonitoredWorker]:
    """A real worker on ``queue`` in this event loop; closed (jobs cancelled) on exit."""
    worker = create_worker(settings, handle_signals=False, queue_name=queue, max_jobs=max_jobs)
    task = asyncio.create_task(worker.main())
    try:
        yield worker
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(worker.close(), 30)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def store_recipe(db: Any, text: str) -> str:
    """Store the YAML recipe ``text`` as the API would; returns its id."""
    recipe = load_recipe(text)
    rid = recipe_id(recipe)
    await recipes_db.put_recipe(
        db, recipe_id=rid, name=recipe.name, source=text, syntax="yaml", canonical=canonical(recipe)
    )
    return rid
