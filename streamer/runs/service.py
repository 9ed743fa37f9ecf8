"""Runs as a service: start (validate, store, enqueue), cancel, delete, and the live HLS folder.

Used by the runs and recipes API, the web forms and the demo. Raises domain
errors (:mod:`streamer.errors`) and positioned ``InterpreterError``; ``api/``
maps them to HTTP.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from typing import Any

from interpreter.canonical import recipe_id as compute_recipe_id
from interpreter.planner import plan_recipe
from streamer.content.stores import hls_dir
from streamer.db import runs as runs_db
from streamer.errors import InvalidValue, Missing, Unavailable, Unprocessable
from streamer.jobs.replicate import drop_copies_of
from streamer.jobs.requeue import enqueue_run
from streamer.recipes.store import RecipeRef, request_recipe, store_recipe
from streamer.resources import Resources
from streamer.runs.events import StatusEvent, publish_event, request_cancel
from streamer.runs.status import TERMINAL_STATUSES, RunStatus

__all__ = [
    "CANCEL_WAIT_SECONDS",
    "MAX_DURATION",
    "MAX_PACE",
    "RunSpec",
    "cancel_run",
    "delete_run",
    "get_run",
    "start_run",
]

CANCEL_WAIT_SECONDS = 15.0
#: The longest render a run may ask for (``duration``, seconds).
MAX_DURATION = 24 * 3600.0
#: The fastest pace a run may ask for (multiple of real time).
MAX_PACE = 100.0


@dataclass(frozen=True)
class RunSpec:
    """What a new run renders (already checked for shape by the caller).

    Attributes:
        recipe: the stored recipe's id or the recipe text.
        inputs: recipe input name -> CID.
        params: recipe parameter overrides.
        analysis: analysis JSON for beat/energy variables, if given.
        pace: render at most this multiple of real time (None: as fast as possible).
        duration: seconds to render (needed for outputs that never end).
    """

    recipe: RecipeRef
    inputs: dict[str, str] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    analysis: dict[str, Any] | None = None
    pace: float | None = None
    duration: float | None = None

    def __post_init__(self) -> None:
        """Check ``pace`` and ``duration``.

        Raises:
            InvalidValue: ``pace`` not in (0, :data:`MAX_PACE`] or ``duration`` not
                in (0, :data:`MAX_DURATION`].
        """
        for name, value, most in (
            ("pace", self.pace, MAX_PACE),
            ("duration", self.duration, MAX_DURATION),
        ):
            if value is not None and not 0 < value <= most:
                raise InvalidValue(f"{name}: must be > 0 and <= {most:g}", field=name)


async def get_run(res: Resources, run_id: str) -> dict[str, Any]:
    """The run row.

    Raises:
        Missing: no such run.
    """
    run = await runs_db.get_run(res.db, run_id)
    if run is None:
        raise Missing(f"run {run_id!r} not found", field="run_id")
    return run


async def start_run(res: Resources, spec: RunSpec, *, owner: str | None = None) -> dict[str, Any]:
    """Validate ``spec``, store its recipe, create the run row and enqueue the render.

    Returns:
        The new run row.

    Raises:
        Missing: unknown recipe id.
        InterpreterError: the recipe is invalid (position in the error).
        Unprocessable: inputs do not match the recipe's declared inputs.
        Unavailable: the render job could not be queued (the row is marked failed).
    """
    text, recipe = await request_recipe(res.db, spec.recipe, spec.inputs)
    declared = {d.name for d in recipe.inputs}
    for name in sorted(declared - set(spec.inputs)):
        raise Unprocessable(
            f"inputs.{name}: recipe input {name!r} needs a CID", field=f"inputs.{name}"
        )
    plan = await asyncio.to_thread(plan_recipe, recipe, spec.inputs, params=spec.params)
    rid = plan.recipe_id or compute_recipe_id(recipe)
    if spec.recipe.recipe_id is None:
        await store_recipe(res.db, recipe, text, recipe_id=rid, owner=owner)
    else:
        rid = spec.recipe.recipe_id
    run = await runs_db.create_run(
        res.db, recipe_id=rid, inputs=spec.inputs, params=spec.params, owner=owner
    )
    fields: dict[str, Any] = {"plan": plan.to_dict(), "plan_id": plan.plan_id}
    if spec.analysis is not None:
        fields["analysis"] = spec.analysis
    run = await runs_db.update_run(res.db, run["id"], **fields) or run
    try:
        await enqueue_run(
            res,
            run["id"],
            "render_run",
            res.keys.render_job_id(run["id"]),
            pace=spec.pace,
            duration=spec.duration,
        )
    except Exception as exc:  # Redis down: the row must not wait forever as "pending"
        why = f"{type(exc).__name__}: {exc}"
        await runs_db.update_run(
            res.db, run["id"], status=RunStatus.FAILED, error=f"could not queue: {why}"
        )
        raise Unavailable(f"the render job could not be queued ({why})") from exc
    return run


async def cancel_run(
    res: Resources, run_id: str, *, wait: float = CANCEL_WAIT_SECONDS
) -> dict[str, Any]:
    """Ask the jobs of ``run_id`` to stop and wait (up to ``wait`` s) for a final status.

    A pending run is cancelled directly (the job skips it when it comes).
    Returns the run row as it is afterwards.

    Raises:
        Missing: no such run.
    """
    run = await get_run(res, run_id)
    if run["status"] in TERMINAL_STATUSES:
        return run
    await request_cancel(res.redis, res.keys, run_id)
    pending = await runs_db.cancel_pending_run(res.db, run_id)
    if pending is not None:
        await publish_event(res.redis, res.keys, run_id, StatusEvent(RunStatus.CANCELLED))
        return pending
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        run = await get_run(res, run_id)
        if run["status"] in TERMINAL_STATUSES:
            return run
        await asyncio.sleep(0.1)
    return run


async def delete_run(res: Resources, run_id: str) -> dict[str, Any]:
    """Cancel the run if active, then delete its row and local HLS files, and queue the
    removal of its copies' run folders on storage providers.

    Returns:
        The run row as it was when deleted.

    Raises:
        Missing: no such run.
        Unavailable: it did not stop within :data:`CANCEL_WAIT_SECONDS`.
    """
    run = await cancel_run(res, run_id)
    if run["status"] not in TERMINAL_STATUSES:
        raise Unavailable(
            f"run {run_id!r} did not stop within {CANCEL_WAIT_SECONDS:g} s; try again"
        )
    await drop_copies_of(res, run_id)  # its folders on storage providers (S3)
    await runs_db.delete_run(res.db, run_id)
    await asyncio.to_thread(shutil.rmtree, hls_dir(res.settings, run_id), True)
    res.live_hls.forget(run_id)  # the files are gone: players get 404 now, not the cache
    return run
