"""The HTML pages of the web UI.

Pages at paths the JSON API also answers (``/``, ``/runs``, ``/recipes``, and
``/media``/``/storage`` when an API claims them) are plain functions of the
request (:data:`NEGOTIATED_PAGES`), called through :mod:`web.negotiation`;
the others are Litestar handlers (:data:`PAGE_HANDLERS`).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from typing import Any
from urllib.parse import quote

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import File, Template

from interpreter.canonical import canonical
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from streamer.content.stores import hls_dir
from streamer.db import content as content_db
from streamer.db import recipes as recipes_db
from streamer.db import runs as runs_db
from streamer.present.deps import Res
from streamer.present.server import SERVER_NAME
from streamer.resources import Resources
from streamer.runs.status import RUN_STATUSES
from web import queries
from web.analysis_view import analysis_context
from web.client import build_client
from web.dag import DagLayout, layout, plan_nodes, recipe_nodes
from web.negotiation import PageFunction
from web.plan_view import step_states
from web.templating import WEB_DIR, page

__all__ = [
    "NEGOTIATED_PAGES",
    "PAGE_HANDLERS",
    "home",
    "media",
    "not_found",
    "recipes",
    "runs",
    "storage",
]

PAGE_SIZE = 50
ACTIVE = ("pending", "running")
_CHECK_TIMEOUT = 2.0


def not_found(what: str, detail: str, back: tuple[str, str] = ("/", "Home")) -> Template:
    """The 404 page."""
    return page(
        "error.html",
        {"status": 404, "title": f"{what} not found", "detail": detail, "back": back},
        status_code=404,
    )


async def _probe(coro: Any) -> str:
    try:
        await asyncio.wait_for(coro, _CHECK_TIMEOUT)
    except Exception as exc:  # any failure is a status to show, not an error of the page
        return f"error: {type(exc).__name__}"
    return "ok"


async def _services(res: Resources) -> dict[str, str]:
    db, redis, ipfs = res.db, res.redis, res.stores.ipfs
    names = ("database", "redis", "ipfs")
    probes = [
        _probe(db.fetchval("SELECT 1")) if db else None,
        _probe(redis.ping()) if redis else None,
        _probe(ipfs.ping()) if ipfs else None,
    ]
    results = await asyncio.gather(*(p for p in probes if p is not None))
    it = iter(results)
    return {
        n: (next(it) if p is not None else "not configured")
        for n, p in zip(names, probes, strict=True)
    }


def _version() -> str:
    try:
        return importlib.metadata.version("artdag-l1")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0+unknown"


def _server_info(res: Resources) -> dict[str, Any]:
    settings = res.settings
    return {
        "name": SERVER_NAME,
        "version": _version(),
        "public_url": settings.server.public_url,
        "ipfs_primary": settings.ipfs.primary,
        "ipfs_gateway_url": settings.ipfs.gateway_url,
        "l2_server": settings.federation.l2_server,
        "segment_seconds": settings.hls.segment_seconds,
        "container": settings.hls.container,
        "cache_dir": str(settings.storage.cache_dir),
        "embedded_services": bool(res.embedded_services),
    }


# --- negotiated pages (plain functions of the request) ------------------------------------


async def home(res: Resources, request: Request[Any, Any, Any]) -> Template:
    """``/``: server information, service status, run counts and recent runs."""
    services, recent, counts = await asyncio.gather(
        _services(res),
        queries.runs_page(res.db, limit=8),
        queries.status_counts(res.db),
    )
    return page(
        "home.html",
        {
            "nav": "home",
            "info": _server_info(res),
            "services": services,
            "runs": recent,
            "counts": counts,
            "any_active": any(r["status"] in ACTIVE for r in recent),
        },
    )


def _int_param(
    request: Request[Any, Any, Any], name: str, default: int, low: int, high: int
) -> int:
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


async def _runs_context(res: Resources, request: Request[Any, Any, Any]) -> dict[str, Any]:
    status = request.query_params.get("status") or None
    if status not in RUN_STATUSES:
        status = None
    recipe_id = request.query_params.get("recipe") or None
    offset = _int_param(request, "offset", 0, 0, 10**9)
    rows, total, counts = await asyncio.gather(
        queries.runs_page(
            res.db, status=status, recipe_id=recipe_id, limit=PAGE_SIZE, offset=offset
        ),
        queries.count_runs(res.db, status, recipe_id),
        queries.status_counts(res.db),
    )
    return {
        "nav": "runs",
        "runs": rows,
        "total": total,
        "counts": counts,
        "status": status,
        "recipe_id": recipe_id,
        "recipe_qs": f"&recipe={quote(recipe_id)}" if recipe_id else "",
        "statuses": RUN_STATUSES,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "any_active": any(r["status"] in ACTIVE for r in rows),
    }


async def runs(res: Resources, request: Request[Any, Any, Any]) -> Template:
    """``/runs``: every run with status, progress and links (polls while any is active)."""
    context = await _runs_context(res, request)
    if request.query_params.get("partial") == "table":
        return page("partials/runs_table.html", context)
    return page("runs.html", context)


async def recipes(res: Resources, request: Request[Any, Any, Any]) -> Template:
    """``/recipes``: stored recipes with their inputs and run counts."""
    rows = await queries.recipes_with_counts(res.db)
    for row in rows:
        doc = row.get("canonical") or {}
        row["input_names"] = sorted((doc.get("inputs") or {}).keys())
        row["step_count"] = len(doc.get("steps") or [])
    return page("recipes.html", {"nav": "recipes", "recipes": rows})


async def media(res: Resources, request: Request[Any, Any, Any]) -> Template:
    """``/media``: cached media files with posters."""
    kind = request.query_params.get("kind") or None
    rows = await queries.cache_items(res.db, kind=kind)
    return page(
        "media.html",
        {"nav": "media", "media_items": rows, "kind": kind, "kinds": ("video", "audio", "image")},
    )


async def storage(res: Resources, request: Request[Any, Any, Any]) -> Template:
    """``/storage``: built-in stores and configured providers, with an add form."""
    settings = res.settings
    providers, services = await asyncio.gather(queries.storage_providers(res.db), _services(res))
    builtin = [
        {
            "type": "local",
            "name": "local cache",
            "target": str(settings.storage.cache_dir),
            "status": "ok",
        },
        {
            "type": "ipfs",
            "name": "IPFS node",
            "target": str(settings.ipfs.api),
            "status": services["ipfs"],
        },
        {
            "type": "s3",
            "name": "S3",
            "target": settings.s3.bucket or "not configured",
            "status": "ok" if res.stores.s3 else "not configured",
        },
    ]
    return page(
        "storage.html",
        {
            "nav": "storage",
            "providers": providers,
            "builtin": builtin,
            "types": ("local", "ipfs", "s3"),
        },
    )


#: Path -> page for the paths shared with the JSON API.
NEGOTIATED_PAGES: dict[str, PageFunction] = {
    "/": home,
    "/runs": runs,
    "/recipes": recipes,
    "/media": media,
    "/storage": storage,
}


# --- run pages ----------------------------------------------------------------------------


async def _run_context(res: Resources, run_id: str, tab: str) -> dict[str, Any] | None:
    run = await runs_db.get_run(res.db, run_id)
    if run is None:
        return None
    recipe = await recipes_db.get_recipe(res.db, run["recipe_id"]) if run.get("recipe_id") else None
    return {
        "nav": "runs",
        "run": run,
        "recipe": recipe,
        "tab": tab,
        "active": run["status"] in ACTIVE,
    }


def _missing_run(run_id: str) -> Template:
    return not_found("Run", f"There is no run {run_id!r}.", ("/runs", "All runs"))


def _plan_layout(plan: dict[str, Any] | None) -> DagLayout | None:
    if not plan:
        return None
    nodes, levels = plan_nodes(plan)
    return layout(nodes, levels)


async def _tab(res: Resources, request: Request[Any, Any, Any], run_id: str, tab: str) -> Template:
    context = await _run_context(res, run_id, tab)
    if context is None:
        return _missing_run(run_id)
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
    context = await _run_context(res, run_id, "plan")
    if context is None:
        return _missing_run(run_id)
    context["dag"] = _plan_layout(context["run"].get("plan"))
    steps = (context["run"].get("plan") or {}).get("steps", [])
    context["cached_count"] = sum(1 for s in steps if s.get("cached"))
    context["step_count"] = len(steps)
    context["step_states"] = await step_states(res.db, context["run"])
    return page("run.html", context)


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
    context = await _run_context(res, run_id, "plan")
    if context is None:
        return _missing_run(run_id)
    return page("partials/run_status.html", context)


# --- recipe pages -------------------------------------------------------------------------


async def _recipe_context(res: Resources, recipe_id: str) -> dict[str, Any] | None:
    row = await recipes_db.get_recipe(res.db, recipe_id)
    if row is None:
        return None
    try:
        recipe = await asyncio.to_thread(load_recipe, row["source"], f"recipe {recipe_id[:12]}")
        error = None
    except InterpreterError as exc:  # stored recipes parsed once; the parser may have moved on
        recipe, error = None, str(exc)
    dag = None
    if recipe is not None:
        dag = layout(recipe_nodes(recipe, await asyncio.to_thread(canonical, recipe)))
    return {"nav": "recipes", "row": row, "recipe": recipe, "error": error, "dag": dag}


def _missing_recipe(recipe_id: str) -> Template:
    return not_found("Recipe", f"There is no recipe {recipe_id!r}.", ("/recipes", "All recipes"))


@get("/recipe/{recipe_id:str}", include_in_schema=False, name="web:recipe")
async def recipe_page(res: Res, recipe_id: FromPath[str]) -> Template:
    """Recipe detail: metadata, inputs, parameters, source and recent runs."""
    context = await _recipe_context(res, recipe_id)
    if context is None:
        return _missing_recipe(recipe_id)
    context["runs"] = await queries.recipe_runs(res.db, recipe_id)
    return page("recipe.html", context)


@get("/recipe/{recipe_id:str}/dag", include_in_schema=False, name="web:recipe-dag")
async def recipe_dag(res: Res, recipe_id: FromPath[str]) -> Template:
    """The recipe's DAG, laid out by level."""
    context = await _recipe_context(res, recipe_id)
    if context is None:
        return _missing_recipe(recipe_id)
    return page("recipe_dag.html", context)


# --- client download ---------------------------------------------------------


@get("/download/client", include_in_schema=False, name="web:client")
async def client_page(res: Res) -> Template:
    """Usage of the CLI client and its download link."""
    return page("client.html", {"nav": "client", "public_url": res.settings.server.public_url})


@get("/download/client/artdag-client.pyz", include_in_schema=False, name="web:client-file")
async def client_file(res: Res) -> File:
    """The CLI client zipapp, built on first request (and when the sources change)."""
    out_dir = res.settings.storage.cache_dir / "client"
    path = await asyncio.to_thread(build_client, WEB_DIR.parent, out_dir)
    return File(
        path,
        filename="artdag-client.pyz",
        media_type="application/zip",
        headers={"Cache-Control": "no-cache"},
    )


PAGE_HANDLERS = [
    run_page,
    run_plan,
    run_analysis,
    run_artifacts,
    run_status_partial,
    recipe_page,
    recipe_dag,
    client_page,
    client_file,
]
