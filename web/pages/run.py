"""The run page: the live player, the status card and the plan, analysis and artifacts tabs."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from streamer.content.stores import hls_dir
from streamer.db import content as content_db
from streamer.db import federation as federation_db
from streamer.db import recipes as recipes_db
from streamer.db import replicas as replicas_db
from streamer.db import runs as runs_db
from streamer.present.deps import Res
from streamer.resources import Resources
from web import queries
from web.analysis_view import analysis_context
from web.dag import DagLayout, layout, plan_nodes
from web.pages.common import ACTIVE, not_found
from web.plan_view import step_states
from web.templating import page

__all__ = [
    "RUN_HANDLERS",
    "missing_run",
    "run_analysis",
    "run_artifacts",
    "run_context",
    "run_page",
    "run_plan",
    "run_replicas_partial",
    "run_status_partial",
]


async def run_context(res: Resources, run_id: str, tab: str) -> dict[str, Any] | None:
    run = await runs_db.get_run(res.db, run_id)
    if run is None:
        return None
    recipe = await recipes_db.get_recipe(res.db, run["recipe_id"]) if run.get("recipe_id") else None
    output = run.get("output_cid")
    publication = await federation_db.latest_activity(res.db, output) if output else None
    return {
        "nav": "runs",
        "run": run,
        "publication": publication,
        "l2_server": res.settings.federation.l2_server,
        "recipe": recipe,
        "tab": tab,
        "active": run["status"] in ACTIVE,
    }


#: copy states that may still change (:mod:`streamer.db.replicas`)
UNSETTLED = frozenset({"pending", "copying"})
#: seconds after a run completed during which a card without copies looks again
#: (the copies are added just after the final status is written)
_COPIES_GRACE = 10.0


def _replicas_trigger(run: dict[str, Any], replicas: list[dict[str, Any]]) -> str | None:
    """When the copies card refreshes itself: while a copy may change, once the run
    ends (the status event), or not at all."""
    if any(r["state"] in UNSETTLED for r in replicas):
        return "every 2s"
    if run["status"] in ACTIVE:
        return "poll-status from:body delay:1s"
    finished = run.get("finished_at")
    just_completed = (
        run["status"] == "completed"
        and isinstance(finished, dt.datetime)
        and (dt.datetime.now(dt.UTC) - finished).total_seconds() < _COPIES_GRACE
    )
    return "every 2s" if just_completed and not replicas else None


async def _with_replicas(res: Resources, context: dict[str, Any]) -> dict[str, Any]:
    """``context`` plus the run's copies on storage providers and the card's refresh."""
    replicas = await replicas_db.list_replicas(res.db, context["run"]["id"])
    context["replicas"] = replicas
    context["replicas_trigger"] = _replicas_trigger(context["run"], replicas)
    return context


def missing_run(run_id: str) -> Template:
    return not_found("Run", f"There is no run {run_id!r}.", ("/runs", "All runs"))


def _plan_layout(plan: dict[str, Any] | None) -> DagLayout | None:
    if not plan:
        return None
    nodes, levels = plan_nodes(plan)
    return layout(nodes, levels)


async def _tab(res: Resources, request: Request[Any, Any, Any], run_id: str, tab: str) -> Template:
    context = await run_context(res, run_id, tab)
    if context is None:
        return missing_run(run_id)
    run = context["run"]
    if tab == "plan":
        context["dag"] = _plan_layout(run.get("plan"))
        steps = (run.get("plan") or {}).get("steps", [])
        context["cached_count"] = sum(1 for s in steps if s.get("cached"))
        context["step_count"] = len(steps)
        context["step_states"] = await step_states(res.db, run)
    elif tab == "analysis":
        context.update(analysis_context(run))
    else:
        context.update(await _artifacts(res, run))
    # a tab click from the run page swaps only the tabs (the player keeps playing)
    if request.headers.get("hx-target") == "run-tabs":
        return page("partials/run_tabs.html", context)
    return page("run.html", context)


async def _artifacts(res: Resources, run: dict[str, Any]) -> dict[str, Any]:
    steps = (run.get("plan") or {}).get("steps", [])
    cached = await queries.step_cache_cids(
        res.db, [s["cache_id"] for s in steps if s.get("cache_id")]
    )
    artifacts = [
        {
            "step_id": s.get("step_id"),
            "name": s.get("name"),
            "type": s.get("node_type"),
            "cache_id": s.get("cache_id"),
            "cid": (cached.get(s.get("cache_id")) or {}).get("cid"),
            "planned_cached": bool(s.get("cached")),
        }
        for s in steps
    ]
    directory = hls_dir(res.settings, run["id"])

    def list_segments() -> list[tuple[str, int]]:
        if not directory.is_dir():
            return []
        return sorted((p.name, p.stat().st_size) for p in directory.iterdir() if p.is_file())

    files = await asyncio.to_thread(list_segments)
    provenance = await content_db.list_provenance(res.db, run["id"])
    return {"artifacts": artifacts, "hls_files": files, "provenance": provenance}


@get("/run/{run_id:str}", include_in_schema=False, name="web:run")
async def run_page(res: Res, run_id: FromPath[str]) -> Template:
    """The run with the live player and its tabs."""
    context = await run_context(res, run_id, "plan")
    if context is None:
        return missing_run(run_id)
    context["dag"] = _plan_layout(context["run"].get("plan"))
    steps = (context["run"].get("plan") or {}).get("steps", [])
    context["cached_count"] = sum(1 for s in steps if s.get("cached"))
    context["step_count"] = len(steps)
    context["step_states"] = await step_states(res.db, context["run"])
    return page("run.html", await _with_replicas(res, context))


@get("/run/{run_id:str}/plan", include_in_schema=False, name="web:run-plan")
async def run_plan(res: Res, request: Request[Any, Any, Any], run_id: FromPath[str]) -> Template:
    """Plan tab: the execution plan's DAG, cached steps marked."""
    return await _tab(res, request, run_id, "plan")


@get("/run/{run_id:str}/analysis", include_in_schema=False, name="web:run-analysis")
async def run_analysis(
    res: Res, request: Request[Any, Any, Any], run_id: FromPath[str]
) -> Template:
    """Analysis tab."""
    return await _tab(res, request, run_id, "analysis")


@get("/run/{run_id:str}/artifacts", include_in_schema=False, name="web:run-artifacts")
async def run_artifacts(
    res: Res, request: Request[Any, Any, Any], run_id: FromPath[str]
) -> Template:
    """Artifacts tab: cached step outputs, HLS files, provenance."""
    return await _tab(res, request, run_id, "artifacts")


@get("/web/run/{run_id:str}/status", include_in_schema=False, name="web:run-status")
async def run_status_partial(res: Res, run_id: FromPath[str]) -> Template:
    """The status card of a run (htmx polling fallback when SSE is unavailable)."""
    context = await run_context(res, run_id, "plan")
    if context is None:
        return missing_run(run_id)
    return page("partials/run_status.html", context)


@get("/web/run/{run_id:str}/replicas", include_in_schema=False, name="web:run-replicas")
async def run_replicas_partial(res: Res, run_id: FromPath[str]) -> Template:
    """The card of the run's copies on storage providers (polled until they settle)."""
    context = await run_context(res, run_id, "plan")
    if context is None:
        return missing_run(run_id)
    return page("partials/run_replicas.html", await _with_replicas(res, context))


RUN_HANDLERS = [
    run_page,
    run_plan,
    run_analysis,
    run_artifacts,
    run_status_partial,
    run_replicas_partial,
]
