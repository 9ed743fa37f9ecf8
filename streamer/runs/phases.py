"""The 3-phase pipeline as a service: plan a recipe, execute a plan, or both on the workers.

- :func:`plan_recipe_for`: load (positioned ``InterpreterError`` when invalid),
  store the recipe, plan it for the inputs; the plan is stored for
  :func:`execute_plan`.
- :func:`execute_plan`: a run executing a plan (given or stored), on the
  ``run_recipe`` job.
- :func:`run_pipeline`: analyze + plan + execute on the workers.

Raises domain errors (:mod:`streamer.errors`); ``api/`` maps them to HTTP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interpreter.canonical import recipe_id as compute_recipe_id
from interpreter.nodes import Recipe
from interpreter.planner import ExecutionPlan, plan_recipe
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.errors import Missing, Unavailable, Unprocessable
from streamer.jobs.job_env import ExecError
from streamer.jobs.phases import plan as plan_job
from streamer.jobs.requeue import enqueue_run
from streamer.recipes.store import RecipeRef, request_recipe, store_recipe
from streamer.resources import RESOURCES_KEY, Resources
from streamer.runs.status import RunStatus

__all__ = ["PlannedRecipe", "execute_plan", "plan_recipe_for", "run_pipeline"]


@dataclass(frozen=True)
class PlannedRecipe:
    """A plan made by :func:`plan_recipe_for`.

    Attributes:
        plan: the plan.
        document: its JSON data, as stored (``plans/<plan_id>.json``).
        plan_cid: its CID on IPFS in IPFS-primary mode, else None.
    """

    plan: ExecutionPlan
    document: dict[str, Any]
    plan_cid: str | None


async def _recipe(
    res: Resources, ref: RecipeRef, inputs: Mapping[str, str], owner: str | None
) -> tuple[str, Recipe, str]:
    """Load (positioned error), check inputs, store; returns (text, recipe, recipe id)."""
    text, recipe = await request_recipe(res.db, ref, inputs, check=False)
    rid = ref.recipe_id or compute_recipe_id(recipe)
    if ref.recipe_id is None:
        await store_recipe(res.db, recipe, text, recipe_id=rid, owner=owner)
    return text, recipe, rid


async def _enqueue(res: Resources, run_id: str, **kwargs: Any) -> None:
    try:
        await enqueue_run(res, run_id, "run_recipe", res.keys.run_recipe_job_id(run_id), **kwargs)
    except Exception as exc:  # Redis down: the row must not wait forever as "pending"
        why = f"{type(exc).__name__}: {exc}"
        await runs_db.update_run(
            res.db, run_id, status=RunStatus.FAILED, error=f"could not queue: {why}"
        )
        raise Unavailable(f"the run could not be queued ({why})") from exc


async def plan_recipe_for(
    res: Resources,
    ref: RecipeRef,
    inputs: Mapping[str, str],
    params: Mapping[str, float],
    *,
    owner: str | None = None,
) -> PlannedRecipe:
    """Plan the recipe ``ref`` names or carries (stored when given as text).

    Raises:
        Missing: unknown recipe id.
        InterpreterError: the recipe is invalid (position in the error).
        Unprocessable: an input the recipe does not declare, or planning failed.
    """
    text, _, _ = await _recipe(res, ref, inputs, owner)
    try:
        result = await plan_job(
            {RESOURCES_KEY: res}, recipe_text=text, inputs=inputs, params=params
        )
    except ExecError as exc:
        raise Unprocessable(str(exc)) from exc
    document: dict[str, Any] = result["plan"]
    plan = ExecutionPlan.from_json(json.dumps(document))
    return PlannedRecipe(plan=plan, document=document, plan_cid=result["plan_cid"])


async def _plan_to_execute(
    res: Resources, plan: Mapping[str, Any] | None, plan_id: str | None
) -> ExecutionPlan:
    local = res.stores.local
    if plan is not None:
        p = ExecutionPlan.from_json(json.dumps(plan))  # PlanError: positioned, 422
        await local.aput_json("plans", p.plan_id, p.to_dict())
        return p
    assert plan_id is not None
    if not await asyncio.to_thread(local.has_json, "plans", plan_id):
        raise Missing(f"plan {plan_id!r} not found (make it with POST /api/plan)", field="plan_id")
    return ExecutionPlan.from_json(json.dumps(await local.aget_json("plans", plan_id)))


async def execute_plan(
    res: Resources,
    *,
    plan: Mapping[str, Any] | None = None,
    plan_id: str | None = None,
    owner: str | None = None,
) -> tuple[dict[str, Any], ExecutionPlan]:
    """Create and queue a run executing ``plan`` (stored first) or the stored ``plan_id``.

    Returns:
        (the new run row, the plan).

    Raises:
        PlanError: ``plan`` is not a plan this version reads.
        Missing: no stored plan ``plan_id``.
        Unavailable: the job could not be queued.
    """
    if (plan is None) == (plan_id is None):
        raise ValueError("execute_plan takes exactly one of plan and plan_id")
    p = await _plan_to_execute(res, plan, plan_id)
    recipe_row = await recipes_db.get_recipe(res.db, p.recipe_id)
    run = await runs_db.create_run(
        res.db,
        recipe_id=p.recipe_id if recipe_row is not None else None,
        inputs=dict(p.inputs),
        params=dict(p.params),
        owner=owner,
    )
    await runs_db.update_run(res.db, run["id"], plan=p.to_dict(), plan_id=p.plan_id)
    await _enqueue(res, run["id"], plan_id=p.plan_id)
    return run, p


async def run_pipeline(
    res: Resources,
    ref: RecipeRef,
    inputs: Mapping[str, str],
    params: Mapping[str, float],
    *,
    owner: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Queue analyze + plan + execute of a recipe on the workers.

    Returns:
        (the new run row, the recipe id).

    Raises:
        Missing: unknown recipe id.
        InterpreterError: the recipe is invalid, an input is missing or a param
            out of range (planned here first, so the error has its position).
        Unprocessable: an input the recipe does not declare.
        Unavailable: the job could not be queued.
    """
    _, recipe, rid = await _recipe(res, ref, inputs, owner)
    await asyncio.to_thread(plan_recipe, recipe, dict(inputs), params=dict(params))
    run = await runs_db.create_run(
        res.db, recipe_id=rid, inputs=dict(inputs), params=dict(params), owner=owner
    )
    await _enqueue(res, run["id"])
    return run, rid
