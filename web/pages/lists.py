"""The pages at paths the JSON API also answers: ``/``, ``/runs``, ``/recipes``, ``/media``, ``/storage``.

They are plain functions of the request (:data:`NEGOTIATED_PAGES`), called
through :mod:`web.negotiation` when a browser asks for the path.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.response import Template

from streamer.db import federation as federation_db
from streamer.present.deps import Res
from streamer.resources import Resources
from streamer.runs.status import RUN_STATUSES
from web import queries
from web.negotiation import PageFunction
from web.pages.common import ACTIVE, PAGE_SIZE, int_param, server_info, services
from web.templating import page

__all__ = [
    "MEDIA_KINDS",
    "NEGOTIATED_PAGES",
    "home",
    "media",
    "media_context",
    "recipes",
    "runs",
    "storage",
]

#: The kinds the media page filters by (and the upload form takes).
MEDIA_KINDS = ("video", "audio", "image")


async def home(res: Res, request: Request[Any, Any, Any]) -> Template:
    """``/``: server information, service status, run counts and recent runs."""
    status, recent, counts = await asyncio.gather(
        services(res),
        queries.runs_page(res.db, limit=8),
        queries.status_counts(res.db),
    )
    return page(
        "home.html",
        {
            "nav": "home",
            "info": server_info(res),
            "services": status,
            "runs": recent,
            "counts": counts,
            "any_active": any(r["status"] in ACTIVE for r in recent),
        },
    )


async def _runs_context(res: Resources, request: Request[Any, Any, Any]) -> dict[str, Any]:
    status = request.query_params.get("status") or None
    if status not in RUN_STATUSES:
        status = None
    recipe_id = request.query_params.get("recipe") or None
    offset = int_param(request, "offset", 0, 0, 10**9)
    rows, total, counts = await asyncio.gather(
        queries.runs_page(
            res.db, status=status, recipe_id=recipe_id, limit=PAGE_SIZE, offset=offset
        ),
        queries.count_runs(res.db, status, recipe_id),
        queries.status_counts(res.db),
    )
    recipe_qs = f"&recipe={quote(recipe_id)}" if recipe_id else ""
    return {
        "nav": "runs",
        "runs": rows,
        "total": total,
        "counts": counts,
        "status": status,
        "recipe_id": recipe_id,
        "recipe_qs": recipe_qs,
        "statuses": RUN_STATUSES,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "any_active": any(r["status"] in ACTIVE for r in rows),
        # where a row's cancel/delete form comes back to
        "here": f"/runs?offset={offset}" + (f"&status={status}" if status else "") + recipe_qs,
    }


async def runs(res: Res, request: Request[Any, Any, Any]) -> Template:
    """``/runs``: every run with status, progress and links (polls while any is active)."""
    context = await _runs_context(res, request)
    if request.query_params.get("partial") == "table":
        return page("partials/runs_table.html", context)
    return page("runs.html", context)


async def recipes(res: Res, request: Request[Any, Any, Any]) -> Template:
    """``/recipes``: stored recipes with their inputs and run counts."""
    rows = await queries.recipes_with_counts(res.db)
    for row in rows:
        doc = row.get("canonical") or {}
        row["input_names"] = sorted((doc.get("inputs") or {}).keys())
        row["step_count"] = len(doc.get("steps") or [])
    return page("recipes.html", {"nav": "recipes", "recipes": rows})


async def media_context(
    res: Resources, request: Request[Any, Any, Any], **extra: Any
) -> dict[str, Any]:
    """The media page's context: the gallery (``?kind=`` filters), each item's publication
    on L2 (``publications``, by CID), and the upload form's."""
    kind = request.query_params.get("kind") or None
    rows = await queries.cache_items(res.db, kind=kind)
    publications = await federation_db.latest_by_cid(res.db, [str(r["cid"]) for r in rows])
    return {
        "nav": "media",
        "media_items": rows,
        "publications": publications,
        "l2_server": res.settings.federation.l2_server,
        "kind": kind,
        "kinds": MEDIA_KINDS,
        "max_bytes": int(res.settings.storage.upload_max_bytes),
        "uploaded": request.query_params.get("uploaded") or None,
        "upload_error": None,
        **extra,
    }


async def media(res: Res, request: Request[Any, Any, Any]) -> Template:
    """``/media``: cached media files with posters, and the upload form."""
    return page("media.html", await media_context(res, request))


async def storage(res: Res, request: Request[Any, Any, Any]) -> Template:
    """``/storage``: built-in stores and configured providers, with an add form."""
    settings = res.settings
    providers, status = await asyncio.gather(queries.storage_providers(res.db), services(res))
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
            "status": status["ipfs"],
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
