"""The web UI's route handlers, and the wrapper that lets pages share API paths.

``streamer.entry.routes.route_handlers`` calls :func:`with_web_ui` with the API
routers: they are wrapped in one router whose ``before_request`` hook
(:func:`web.negotiation.html_alternates`) answers HTML pages to browsers at
paths the API answers with JSON. Page paths no API claims get plain handlers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Router, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import File, Response

from web.negotiation import html_alternates
from web.pages import NEGOTIATED_PAGES, PAGE_HANDLERS
from web.templating import BUILD_DIR, STATIC_DIR, VENDOR_FILES

__all__ = ["static_asset", "vendor_asset", "web_handlers", "with_web_ui"]

_ASSETS = {
    "app.css": (BUILD_DIR / "app.css", "text/css"),
    "app.js": (STATIC_DIR / "app.js", "text/javascript"),
    "analysis.js": (STATIC_DIR / "analysis.js", "text/javascript"),
    "plan_live.js": (STATIC_DIR / "plan_live.js", "text/javascript"),
    "forms.js": (STATIC_DIR / "forms.js", "text/javascript"),
}


def _missing(what: str, hint: str) -> Response[str]:
    return Response(f"/* {what} is missing: {hint} */\n", status_code=404, media_type="text/plain")


@get("/static/{name:str}", include_in_schema=False, name="web:static")
async def static_asset(name: FromPath[str]) -> File | Response[str]:
    """The UI's own script and the built stylesheet."""
    entry = _ASSETS.get(name)
    if entry is None:
        return _missing(name, "not a web UI asset")
    path, media_type = entry
    if not path.is_file():
        return _missing(name, "run `npm run build:css` in web/ (scripts/bootstrap.sh does)")
    return File(
        path,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "no-cache"},
    )


@get("/static/vendor/{name:str}", include_in_schema=False, name="web:vendor")
async def vendor_asset(name: FromPath[str]) -> File | Response[str]:
    """hls.js, htmx and Swagger UI from ``web/node_modules`` (``npm ci``, never committed)."""
    path = VENDOR_FILES.get(name)
    if path is None:
        return _missing(name, "not a vendored library")
    if not path.is_file():
        return _missing(name, "run `npm ci` in web/ (scripts/bootstrap.sh does)")
    return File(
        path,
        media_type="text/css" if path.suffix == ".css" else "text/javascript",
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def _get_paths(handlers: Iterable[Any]) -> set[str]:
    """Paths with a GET handler among ``handlers`` (routers are walked)."""
    out: set[str] = set()
    for h in handlers:
        if isinstance(h, Router):
            out |= {r.path for r in h.routes if "GET" in getattr(r, "methods", ())}
        elif isinstance(h, HTTPRouteHandler) and "GET" in h.http_methods:
            out |= set(h.paths)
    return out


def web_handlers(claimed: set[str] | frozenset[str] = frozenset()) -> list[Any]:
    """The UI's own handlers: pages, partials, assets, and the negotiated pages no API claims."""
    handlers: list[Any] = [static_asset, vendor_asset, *PAGE_HANDLERS]
    for path, fn in NEGOTIATED_PAGES.items():
        if path not in claimed:
            handlers.append(get(path, include_in_schema=False, name=f"web:{path}")(fn))
    return handlers


def with_web_ui(api_handlers: list[Any]) -> list[Any]:
    """``api_handlers`` wrapped for HTML negotiation, followed by the UI's handlers."""
    claimed = {p for p in _get_paths(api_handlers) if p in NEGOTIATED_PAGES}
    api = Router(
        path="/",
        route_handlers=api_handlers,
        before_request=html_alternates({p: NEGOTIATED_PAGES[p] for p in claimed}),
    )
    return [api, *web_handlers(claimed)]
