"""A worker's sweep that queues a new run's job first does not fail the run.

``enqueue_run`` records the job on the run row, then queues it; a worker's
``requeue_lost_runs`` (at its start-up) between the two queues the job itself,
and arq refuses the second enqueue of the same id. ``artdag serve --demo`` met
this: its demo run was recorded just as its worker started, and the demo failed
to start with "a job with this run's id is already queued".
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import pytest
from arq.jobs import Job, JobStatus

from streamer.db import runs as runs_db
from streamer.jobs.requeue import requeue_lost_runs
from streamer.recipes.store import RecipeRef
from streamer.resources import open_resources
from streamer.runs.service import RunSpec, start_run
from streamer.settings import Settings
from tests.api.live_media import live_recipe

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]


async def test_a_run_the_sweep_queued_first_still_starts(
    service_settings: Settings,
    redis_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = f"{redis_prefix}race:{uuid.uuid4().hex[:8]}"
    settings = dataclasses.replace(
        service_settings,
        services=dataclasses.replace(service_settings.services, queue_name=queue),
        storage=dataclasses.replace(service_settings.storage, cache_dir=tmp_path / "cache"),
    )
    async with open_resources(settings) as res:
        assert res.keys.queue == queue
        swept: list[str] = []
        update_run = runs_db.update_run

        async def update_then_sweep(db: Any, run_id: str, **fields: Any) -> Any:
            row = await update_run(db, run_id, **fields)
            if "job" in fields:  # the job is on the row, not yet queued: a worker sweeps now
                swept.extend(await requeue_lost_runs(res))
            return row

        monkeypatch.setattr(runs_db, "update_run", update_then_sweep)
        run = await start_run(res, RunSpec(RecipeRef(text=live_recipe(1.0))), owner="race")
        monkeypatch.undo()

        assert swept == [run["id"]], "the sweep queued the run's job before start_run did"
        row = await runs_db.get_run(res.db, run["id"])
        assert row is not None and row["status"] == "pending", row
        job = Job(res.keys.render_job_id(run["id"]), res.arq, _queue_name=queue)
        assert await job.status() == JobStatus.queued
        assert await res.arq.zcard(queue) == 1  # queued once
        await res.arq.delete(queue)
