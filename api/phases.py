"""The 3-phase API: plan a recipe, execute a plan, or run the whole pipeline on workers.

- ``POST /api/plan`` ``{"recipe" | "recipe_id", "inputs", "params"?}`` -> 200 the
  execution plan (levels of steps with cache ids and cached flags); the plan
  is stored (``plans/<plan_id>.json``) so ``/api/execute`` can run it. A bad
  recipe answers 422 with its position.
- ``POST /api/execute`` ``{"plan_id"} | {"plan": PLAN JSON}`` -> 201
  ``{"run_id", "plan_id"}``: a run executing that plan (``run_recipe`` job).
- ``POST /api/run-recipe`` ``{"recipe" | "recipe_id", "inputs", "params"?}`` -> 201
  ``{"run_id"}``: analyze + plan + execute on the workers.

Results land in the run row (``GET /api/run/{id}``): ``plan``, ``analysis``,
``progress``, ``output_cid`` (an MP4 in the cache).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar import Request, Router, post
from litestar.params import JSONBody

from api.auth import current_user
from api.errors import BadRequest, NotFound, ServiceUnavailable, Unprocessable
from api.models import RunRequest, parse_run_request, run_links
from interpreter.canonical import recipe_id as compute_recipe_id
from interpreter.nodes import Recipe
from interpreter.planner import ExecutionPlan, plan_recipe
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.jobs import phases
from streamer.jobs.job_env import ExecError
from streamer.recipes.store import request_recipe, store_recipe
from streamer.resources import RESOURCES_KEY, Resources

__all__ = ["execute_plan", "phases_router", "plan_recipe_api", "run_recipe_api"]

_PLAN_FIELDS = {"recipe", "recipe_id", "inputs", "params"}
_EXECUTE_FIELDS = {"plan", "plan_id"}


def _ctx(res: Resources) -> dict[str, Any]:
    """The job context the phase functions expect: the app's resources."""
    return {RESOURCES_KEY: res}


def _queue(res: Resources) -> str:
    return res.keys.queue


def _only(doc: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise BadRequest(f"expected a JSON object, got {type(doc).__name__}")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(sorted(allowed))}",
            field=unknown[0],
        )
    return doc


async def _recipe(res: Resources, req: RunRequest, owner: str | None) -> tuple[str, Recipe, str]:
    """Load (422 with position), check inputs, store; returns (text, recipe, recipe id)."""
    text, recipe = await request_recipe(res.db, req.ref(), req.inputs, check=False)
    rid = req.recipe_id or compute_recipe_id(recipe)
    if req.recipe_id is None:
        await store_recipe(res.db, recipe, text, recipe_id=rid, owner=owner)
    return text, recipe, rid


def _plan_json(doc: dict[str, Any], plan_cid: str | None) -> dict[str, Any]:
    p = ExecutionPlan.from_json(json.dumps(doc))
    return {
        "plan_id": p.plan_id,
        "plan_cid": plan_cid,
        "recipe_id": p.recipe_id,
        "output": p.output,
        "levels": [
            [
                {
                    "step_id": s.step_id,
                    "node_type": s.node_type,
                    "cache_id": s.cache_id,
                    "cached": s.cached,
                }
                for s in level
            ]
            for level in p.levels
        ],
        "cached_steps": sum(1 for s in p.steps if s.cached),
        "total_steps": len(p.steps),
        "plan": doc,
    }


async def _enqueue(res: Resources, run_id: str, **kwargs: Any) -> None:
    queue = _queue(res)
    job = await res.arq.enqueue_job(
        "run_recipe",
        run_id,
        _job_id=res.keys.run_recipe_job_id(run_id),
        _queue_name=queue,
        **kwargs,
    )
    if job is None:
        raise ServiceUnavailable("the run could not be queued")


@post("/api/plan", status_code=200, summary="Generate an execution plan")
async def plan_recipe_api(
    res: Resources, request: Request[Any, Any, Any], data: JSONBody[Any]
) -> dict[str, Any]:
    """Body ``{"recipe": TEXT | "recipe_id": ID, "inputs": {NAME: CID}, "params"?}``."""
    req = parse_run_request(_only(data, _PLAN_FIELDS))
    text, _, _ = await _recipe(res, req, current_user(request))
    try:
        result = await phases.plan(
            _ctx(res), recipe_text=text, inputs=req.inputs, params=req.params
        )
    except ExecError as exc:
        raise Unprocessable(str(exc)) from exc
    return _plan_json(result["plan"], result["plan_cid"])


@post("/api/execute", status_code=201, summary="Execute a plan")
async def execute_plan(
    res: Resources, request: Request[Any, Any, Any], data: JSONBody[Any]
) -> dict[str, Any]:
    """Body ``{"plan_id": ID}`` (a plan from ``/api/plan``) or ``{"plan": PLAN JSON}``."""
    doc = _only(data, _EXECUTE_FIELDS)
    if ("plan" in doc) == ("plan_id" in doc):
        raise BadRequest("give exactly one of 'plan' and 'plan_id'", field="plan")
    local = res.stores.local
    if "plan" in doc:
        if not isinstance(doc["plan"], dict):
            raise BadRequest("plan: expected the plan JSON object", field="plan")
        p = ExecutionPlan.from_json(json.dumps(doc["plan"]))  # PlanError -> 422
        await local.aput_json("plans", p.plan_id, p.to_dict())
    else:
        plan_id = doc["plan_id"]
        if not isinstance(plan_id, str) or not plan_id.isalnum():
            raise BadRequest("plan_id: expected a plan id (hex)", field="plan_id")
        if not await asyncio.to_thread(local.has_json, "plans", plan_id):
            raise NotFound(
                f"plan {plan_id!r} not found (make it with POST /api/plan)", field="plan_id"
            )
        p = ExecutionPlan.from_json(json.dumps(await local.aget_json("plans", plan_id)))
    recipe_row = await recipes_db.get_recipe(res.db, p.recipe_id)
    run = await runs_db.create_run(
        res.db,
        recipe_id=p.recipe_id if recipe_row is not None else None,
        inputs=dict(p.inputs),
        params=dict(p.params),
        owner=current_user(request),
    )
    await runs_db.update_run(res.db, run["id"], plan=p.to_dict(), plan_id=p.plan_id)
    await _enqueue(res, run["id"], plan_id=p.plan_id)
    return {
        "run_id": run["id"],
        "plan_id": p.plan_id,
        "status": "pending",
        "links": run_links(run["id"]),
    }


@post("/api/run-recipe", status_code=201, summary="Analyze, plan and execute a recipe")
async def run_recipe_api(
    res: Resources, request: Request[Any, Any, Any], data: JSONBody[Any]
) -> dict[str, Any]:
    """Body ``{"recipe": TEXT | "recipe_id": ID, "inputs": {NAME: CID}, "params"?}``."""
    req = parse_run_request(_only(data, _PLAN_FIELDS))
    owner = current_user(request)
    _, recipe, rid = await _recipe(res, req, owner)
    # plan now for a 422 with the position (missing inputs, bad params) before queueing
    await asyncio.to_thread(plan_recipe, recipe, req.inputs, params=req.params)
    run = await runs_db.create_run(
        res.db, recipe_id=rid, inputs=req.inputs, params=req.params, owner=owner
    )
    await _enqueue(res, run["id"])
    return {
        "run_id": run["id"],
        "recipe_id": rid,
        "status": "pending",
        "links": run_links(run["id"]),
    }


phases_router = Router(path="/", route_handlers=[plan_recipe_api, execute_plan, run_recipe_api])
