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
  ``recipe``/``recipe_id``; starts the run through the runs service.
- ``POST /recipes/validate`` ``{"recipe": TEXT}``: check a text as ``artdag
  recipe check`` does and store nothing: ``ok``, the problems at line and
  column with a hint, the declared inputs and params (the web editor calls it
  as the user types).

The models are in :mod:`api.schemas.recipes` and :mod:`api.schemas.recipe_check`;
the work in :mod:`streamer.recipes.catalog` and :mod:`streamer.recipes.check`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from api.auth import current_user
from api.errors import BadRequest, PayloadTooLarge
from api.models import MAX_LIMIT, Limit, Offset
from api.openapi_errors import error_answers
from api.schemas.fields import RecipeIdPath
from api.schemas.recipe_check import RecipeValidate, RecipeValidation, recipe_validation
from api.schemas.recipes import (
    MAX_RECIPE_BYTES,
    OptionalBodyOperation,
    RecipeDeleted,
    RecipeDetail,
    RecipeList,
    RecipeRunCreated,
    RecipeUploaded,
    UploadOperation,
    dag_of,
    recipe_detail,
    recipe_summary,
    recipe_uploaded,
)
from api.schemas.runs import RenderRequest, run_links
from streamer.present.deps import Res
from streamer.recipes import catalog
from streamer.recipes.check import check_recipe_text
from streamer.recipes.store import RecipeRef
from streamer.runs.service import start_run
from streamer.runs.status import RunStatus

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
    "validate_recipe",
]

NameFilter = Annotated[
    str | None,
    QueryParameter(description="Only recipes whose name contains this text (any case)."),
]


async def _multipart_text(request: Request[Any, Any, Any]) -> tuple[bytes, str]:
    """(data, file name) of the first file part, else of a ``recipe``/``source`` field."""
    form = await request.form()
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if uploads:
        return await uploads[0].read(MAX_RECIPE_BYTES + 1), uploads[0].filename or "recipe"
    texts = [v for k, v in form.multi_items() if isinstance(v, str) and k in ("recipe", "source")]
    if texts:
        return texts[0].encode(), "recipe"
    raise BadRequest("multipart upload has no file (or 'recipe' field)", field="file")


def _json_text(data: bytes) -> bytes:
    """The ``recipe`` text of a JSON body ``{"recipe": TEXT}``."""
    try:
        doc = json.loads(data)
    except ValueError:
        raise BadRequest("body: invalid JSON") from None
    text = doc.get("recipe") if isinstance(doc, dict) else None
    if not isinstance(text, str):
        raise BadRequest('recipe: expected {"recipe": TEXT}', field="recipe")
    return text.encode()


async def _upload_text(request: Request[Any, Any, Any]) -> tuple[str, str]:
    """(recipe text, file name) from a multipart file, a JSON object or the raw body."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_RECIPE_BYTES + 64 * 1024:
        raise PayloadTooLarge(f"recipe larger than {MAX_RECIPE_BYTES} bytes")
    content_type = request.headers.get("content-type", "")
    filename = "recipe"
    if content_type.startswith("multipart/form-data"):
        data, filename = await _multipart_text(request)
    elif content_type.startswith("application/json"):
        data = _json_text(await request.body())
    else:
        data = await request.body()
    if len(data) > MAX_RECIPE_BYTES:
        raise PayloadTooLarge(f"recipe larger than {MAX_RECIPE_BYTES} bytes")
    if not data.strip():
        raise BadRequest("empty recipe", field="file")
    try:
        return data.decode("utf-8"), filename
    except UnicodeDecodeError as exc:
        raise BadRequest(f"recipe is not UTF-8 text (byte {exc.start})", field="file") from None


@post(
    "/recipes/upload",
    summary="Upload a recipe (YAML or S-expression)",
    operation_class=UploadOperation,
    responses={
        200: ResponseSpec(RecipeUploaded, description="The recipe was already stored."),
        **error_answers(413, 422),
    },
)
async def upload_recipe(res: Res, request: Request[Any, Any, Any]) -> Response[RecipeUploaded]:
    """Validate and store a recipe; 201 when new, 200 when already stored."""
    text, filename = await _upload_text(request)
    row, created = await catalog.add_recipe(res.db, text, filename, owner=current_user(request))
    return Response(recipe_uploaded(row, created), status_code=201 if created else 200)


@post("/recipes/validate", status_code=200, summary="Check a recipe text (stores nothing)")
async def validate_recipe(data: JSONBody[RecipeValidate]) -> RecipeValidation:
    """Load and validate the text as ``artdag recipe check`` does; 200 whether valid or not.

    ``errors`` carry the line and column (1-based), the message and a hint;
    ``inputs`` and ``params`` are the declared ones when the text could be read.
    """
    check = await check_recipe_text(data.recipe, data.filename or "<recipe>")
    return recipe_validation(check)


@get("/recipes", summary="List recipes (paginated)")
async def list_recipes(
    res: Res, limit: Limit = 50, offset: Offset = 0, name: NameFilter = None
) -> RecipeList:
    """Newest first; ``name`` filters by case-insensitive substring."""
    page = await catalog.list_recipes(res.db, name=name, limit=limit, offset=offset)
    return RecipeList(
        recipes=[recipe_summary(r) for r in page.rows],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@get("/recipes/{recipe_id:str}", summary="Recipe detail")
async def get_recipe(res: Res, recipe_id: RecipeIdPath) -> RecipeDetail:
    """Source, canonical form, inputs, params, DAG and plan summary."""
    return recipe_detail(await catalog.describe_recipe(res.db, recipe_id))


@delete(
    "/recipes/{recipe_id:str}",
    status_code=200,
    summary="Delete a recipe",
    responses=error_answers((409, "a pending or running run uses the recipe")),
)
async def delete_recipe(res: Res, recipe_id: RecipeIdPath) -> RecipeDeleted:
    """Remove a recipe; 409 while a pending or running run uses it."""
    await catalog.delete_recipe(res.db, recipe_id)
    return RecipeDeleted(deleted=recipe_id)


@post(
    "/recipes/{recipe_id:str}/run",
    status_code=201,
    summary="Run a stored recipe",
    operation_class=OptionalBodyOperation,
    responses=error_answers(422),
)
async def run_recipe(
    res: Res,
    request: Request[Any, Any, Any],
    recipe_id: RecipeIdPath,
    data: JSONBody[RenderRequest | None] = None,
) -> RecipeRunCreated:
    """Body as ``POST /runs`` without the recipe (``inputs``, ``params``, ``analysis``,
    ``pace``, ``duration``); none: the recipe's defaults."""
    await catalog.get_recipe(res.db, recipe_id)
    spec = (data or RenderRequest()).to_spec(RecipeRef(recipe_id=recipe_id))
    run = await start_run(res, spec, owner=current_user(request))
    return RecipeRunCreated(
        run_id=run["id"],
        recipe_id=recipe_id,
        status=RunStatus(run["status"]),
        links=run_links(run["id"], run.get("playlist_cid")),
    )


recipes_router = Router(
    path="/",
    route_handlers=[
        upload_recipe,
        validate_recipe,
        list_recipes,
        get_recipe,
        delete_recipe,
        run_recipe,
    ],
    tags=["recipes"],
)
