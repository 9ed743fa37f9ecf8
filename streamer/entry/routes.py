"""The one place where route handlers are gathered for :func:`streamer.entry.app.create_app`.

API and web engineers: append your handlers (routers, controllers or
functions) to the list below; ``create_app`` registers exactly this list.
"""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def route_handlers() -> list[Any]:
    """Return every route handler of the application, in registration order."""
    from api.auth import auth_router
    from api.cache import cache_router
    from api.federation import federation_router
    from api.ipfs import ipfs_router
    from api.phases import phases_router
    from api.recipes import recipes_router
    from api.runs import runs_router
    from api.storage import storage_router
    from api.system import system_router
    from api.workers import workers_router

    handlers: list[Any] = [system_router, runs_router, ipfs_router]
    handlers += [auth_router, recipes_router, cache_router, storage_router]
    handlers += [phases_router, workers_router, federation_router]
    # browsers get HTML pages at the API's list paths (/, /runs, /recipes); UI pages follow
    from web.routes import with_web_ui

    return with_web_ui(handlers)
