"""Recipes API: upload, list, inspect, delete and run stored recipes.

- ``POST /recipes/upload``: the recipe as a multipart file (any field name), a
  JSON body ``{"recipe": TEXT}`` or the raw body; YAML or S-expression. It is
  parsed and validated (422 with line and column otherwise) and stored under
  its content id: 201 when new, 200 when it was already there.
- ``GET /recipes?limit&offset&name``: newest first; ``name`` filters by a
  case-insensitive substring; ``total`` counts every match.
- ``GET /recipes/{id}``: source, canonical form, inputs, params, the DAG
  (nodes with positions, edges) and a plan summary.
- ``DELETE /recipes/{id}``: 409 while a pending or running run uses it.
- ``POST /recipes/{id}/run``: the body of ``POST /runs`` without
  ``recipe``/``recipe_id``; starts the run through :func:`api.runs.start_run`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State, UploadFile
from litestar.params import FromPath, FromQuery

from api.auth import current_user
from api.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from api.models import MAX_LIMIT, check_paging, iso, parse_run_request, run_json
from interpreter.canonical import recipe_id
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.planner import plan_recipe
from streamer.db import recipes as recipes_db
from streamer.recipes.store import parse_recipe, store_recipe
from streamer.resources import Resources
from streamer.runs.service import start_run

__all__ = [
    "MAX_LIMIT",
    "MAX_RECIPE_BYTES",
    "dag_of",
    "delete_recipe",
    "get_recipe",
    "list_recipes",
    "recipe_summary",
    "recipes_router",
    "run_recipe",
    "upload_recipe",
]

MAX_RECIPE_BYTES = 1 << 20
ACTIVE_RUN_STATUSES = ("pending", "running")


def recipe_summary(row: dict[str, Any]) -> dict[str, Any]:
    """The list form of a recipe row."""
    doc = row.get("canonical") or {}
    return {
        "recipe_id": row["id"],
        "name": row["name"],
        "version": row.get("version", ""),
        "description": row.get("description", ""),
        "syntax": row.get("syntax"),
        "owner": row.get("owner"),
        "inputs": doc.get("inputs", {}),
        "step_count": len(doc.get("steps", [])),
        "created_at": iso(row.get("created_at")),
        "links": {
            "self": f"/recipes/{row['id']}",
            "page": f"/recipe/{row['id']}",
            "run": f"/recipes/{row['id']}/run",
        },
    }


def dag_of(recipe: Recipe) -> dict[str, Any]:
    """Nodes (with source positions) and edges of the recipe graph."""
    nodes = [
        {
            "id": s.id,
            "type": s.type.value,
            "line": s.pos.line,
            "column": s.pos.column,
            "output": s.id == recipe.output,
        }
        for s in recipe.steps
    ]
    edges = [
        {"from": src, "to": s.id, "port": port}
        for s in recipe.steps
        for port, src in enumerate(s.inputs)
    ]
    return {"nodes": nodes, "edges": edges, "output": recipe.output}


def _plan_summary(recipe: Recipe) -> dict[str, Any]:
    """Plan with placeholder input ids: step and level counts, node types, analysis."""
    placeholders = {i.name: f"input:{i.name}" for i in recipe.inputs}
    try:
        plan = plan_recipe(recipe, placeholders)
    except InterpreterError as exc:
        return {"error": str(exc).splitlines()[0]}
    types: dict[str, int] = {}
    for step in plan.steps:
        types[step.node_type] = types.get(step.node_type, 0) + 1
    return {
        "steps": len(plan.steps),
        "levels": len(plan.levels),
        "node_types": dict(sorted(types.items())),
        "analysis": [
            {"step_id": a.step_id, "input": a.input_step, "features": list(a.features)}
            for a in plan.analysis
        ],
        "params": dict(plan.params),
    }


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    """Full recipe detail (blocking: parses and plans; run in a thread)."""
    recipe = load_recipe(row["source"], filename=f"recipe {row['id'][:12]}")
    out = recipe_summary(row)
    out.update(
        {
            "source": row["source"],
            "canonical": row["canonical"],
            "inputs": [
                {"name": i.name, "type": i.type, "description": i.description}
                for i in recipe.inputs
            ],
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "min": p.min,
                    "max": p.max,
                    "description": p.description,
                }
                for p in recipe.params
            ],
            "dag": dag_of(recipe),
            "plan": _plan_summary(recipe),
        }
    )
    return out


async def _upload_text(request: Request[Any, Any, Any]) -> tuple[str, str]:
    """(recipe text, file name) from a multipart file, a JSON object or the raw body."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_RECIPE_BYTES + 64 * 1024:
        raise PayloadTooLarge(f"recipe larger than {MAX_RECIPE_BYTES} bytes")
    content_type = request.headers.get("content-type", "")
    filename = "recipe"
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        texts = [
            v for k, v in form.multi_items() if isinstance(v, str) and k in ("recipe", "source")
        ]
        if uploads:
            data = await uploads[0].read(MAX_RECIPE_BYTES + 1)
            filename = uploads[0].filename or filename
        elif texts:
            data = texts[0].encode()
        else:
            raise BadRequest("multipart upload has no file (or 'recipe' field)", field="file")
    else:
        data = await request.body()
        if content_type.startswith("application/json"):
            try:
                doc = json.loads(data)
            except ValueError:
                raise BadRequest("body: invalid JSON") from None
            text = doc.get("recipe") if isinstance(doc, dict) else None
            if not isinstance(text, str):
                raise BadRequest('recipe: expected {"recipe": TEXT}', field="recipe")
            data = text.encode()
    if len(data) > MAX_RECIPE_BYTES:
        raise PayloadTooLarge(f"recipe larger than {MAX_RECIPE_BYTES} bytes")
    if not data.strip():
        raise BadRequest("empty recipe", field="file")
    try:
        return data.decode("utf-8"), filename
    except UnicodeDecodeError as exc:
        raise BadRequest(f"recipe is not UTF-8 text (byte {exc.start})", field="file") from None


@post("/recipes/upload", summary="Upload a recipe (YAML or S-expression)")
async def upload_recipe(
    res: Resources, request: Request[Any, Any, State]
) -> Response[dict[str, Any]]:
    """Validate and store a recipe; 201 when new, 200 when already stored."""
    text, filename = await _upload_text(request)
    recipe = await asyncio.to_thread(parse_recipe, text, filename)
    rid = recipe_id(recipe)
    created = await store_recipe(res.db, recipe, text, recipe_id=rid, owner=current_user(request))
    row = await recipes_db.get_recipe(res.db, rid)
    assert row is not None
    body = recipe_summary(row)
    body["created"] = created
    return Response(body, status_code=201 if created else 200)


@get("/recipes", summary="List recipes (paginated)")
async def list_recipes(
    res: Resources,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
    name: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """Newest first; ``name`` filters by case-insensitive substring."""
    check_paging(limit, offset)
    pattern = None
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
    total = await recipes_db.count_recipes(res.db, name_like=pattern)
    rows = await recipes_db.list_recipes(res.db, name_like=pattern, limit=limit, offset=offset)
    return {
        "recipes": [recipe_summary(r) for r in rows],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }


async def _recipe_or_404(res: Resources, rid: str) -> dict[str, Any]:
    row = await recipes_db.get_recipe(res.db, rid)
    if row is None:
        raise NotFound(f"recipe {rid!r} not found", field="recipe_id")
    return row


@get("/recipes/{recipe_id:str}", summary="Recipe detail")
async def get_recipe(res: Resources, recipe_id: FromPath[str]) -> dict[str, Any]:
    """Source, canonical form, inputs, params, DAG and plan summary."""
    row = await _recipe_or_404(res, recipe_id)
    return await asyncio.to_thread(_detail, row)


@delete("/recipes/{recipe_id:str}", status_code=200, summary="Delete a recipe")
async def delete_recipe(res: Resources, recipe_id: FromPath[str]) -> dict[str, Any]:
    """Remove a recipe; 409 while a pending or running run uses it."""
    blockers = await recipes_db.delete_recipe(
        res.db, recipe_id, blocking_statuses=ACTIVE_RUN_STATUSES
    )
    if blockers is None:
        raise NotFound(f"recipe {recipe_id!r} not found", field="recipe_id")
    if blockers:
        raise Conflict(
            f"recipe {recipe_id!r} is used by pending/running run(s) {', '.join(blockers)}; "
            "cancel them first",
            field="recipe_id",
        )
    return {"deleted": recipe_id}


@post("/recipes/{recipe_id:str}/run", status_code=201, summary="Run a stored recipe")
async def run_recipe(
    res: Resources, request: Request[Any, Any, State], recipe_id: FromPath[str]
) -> dict[str, Any]:
    """Body as ``POST /runs`` (``inputs``, ``params``, ``analysis``, ``pace``, ``duration``)."""
    await _recipe_or_404(res, recipe_id)
    raw = await request.body()
    try:
        doc = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise BadRequest("body: invalid JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest(f"expected a JSON object, got {type(doc).__name__}")
    for key in ("recipe", "recipe_id"):
        if key in doc:
            raise BadRequest(f"{key}: not allowed here, the recipe is in the path", field=key)
    req = parse_run_request({**doc, "recipe_id": recipe_id})
    run = await start_run(res, req.to_spec(), owner=current_user(request))
    return {
        "run_id": run["id"],
        "recipe_id": recipe_id,
        "status": run["status"],
        "links": run_json(run)["links"],
    }


recipes_router = Router(
    path="/",
    route_handlers=[upload_recipe, list_recipes, get_recipe, delete_recipe, run_recipe],
    tags=["recipes"],
)
