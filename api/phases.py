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
``progress``, ``output_cid`` (an MP4 in the cache). The models are in
:mod:`api.schemas.phases`; the work in :mod:`streamer.runs.phases`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, post
from litestar.params import JSONBody

from api.auth import current_user
from api.openapi_errors import error_answers
from api.schemas.phases import (
    ExecuteCreated,
    ExecuteRequest,
    PipelineCreated,
    PlanRequest,
    PlanView,
    plan_view,
)
from api.schemas.runs import run_links
from streamer.present.deps import Res
from streamer.runs import phases
from streamer.runs.status import RunStatus

__all__ = ["execute_plan", "phases_router", "plan_recipe_api", "run_recipe_api"]


@post(
    "/api/plan",
    status_code=200,
    summary="Generate an execution plan",
    responses=error_answers((404, "no stored recipe with this id"), 422),
)
async def plan_recipe_api(
    res: Res, request: Request[Any, Any, Any], data: JSONBody[PlanRequest]
) -> PlanView:
    """Plan a recipe for its inputs; the plan is stored for ``POST /api/execute``."""
    planned = await phases.plan_recipe_for(
        res, data.ref(), data.input_cids(), data.param_values(), owner=current_user(request)
    )
    return plan_view(planned)


@post(
    "/api/execute",
    status_code=201,
    summary="Execute a plan",
    responses=error_answers((404, "no stored plan with this id"), 422),
)
async def execute_plan(
    res: Res, request: Request[Any, Any, Any], data: JSONBody[ExecuteRequest]
) -> ExecuteCreated:
    """Queue a run executing a plan from ``/api/plan`` (``plan_id``) or given (``plan``)."""
    run, plan = await phases.execute_plan(
        res, plan=data.plan, plan_id=data.plan_id, owner=current_user(request)
    )
    return ExecuteCreated(
        run_id=run["id"],
        plan_id=plan.plan_id,
        status=RunStatus.PENDING,
        links=run_links(run["id"]),
    )


@post(
    "/api/run-recipe",
    status_code=201,
    summary="Analyze, plan and execute a recipe",
    responses=error_answers((404, "no stored recipe with this id"), 422),
)
async def run_recipe_api(
    res: Res, request: Request[Any, Any, Any], data: JSONBody[PlanRequest]
) -> PipelineCreated:
    """Queue analyze + plan + execute of a recipe on the workers (planned here first: 422)."""
    run, recipe_id = await phases.run_pipeline(
        res, data.ref(), data.input_cids(), data.param_values(), owner=current_user(request)
    )
    return PipelineCreated(
        run_id=run["id"],
        recipe_id=recipe_id,
        status=RunStatus.PENDING,
        links=run_links(run["id"]),
    )


phases_router = Router(
    path="/", route_handlers=[plan_recipe_api, execute_plan, run_recipe_api], tags=["phases"]
)
