"""The Litestar application factory (composition root: the API, the web UI and the services meet here).

Handlers receive one :class:`streamer.resources.Resources` (dependency
``res``), opened by the lifespan with :func:`streamer.resources.open_resources`
and closed on shutdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from api.auth import require_auth
from api.errors import exception_handlers
from api.openapi_errors import document_errors
from api.openapi_links import document_links
from streamer.entry.routes import route_handlers
from streamer.present.deps import RESOURCES_STATE, provide_resources
from streamer.resources import open_resources
from streamer.settings import Settings
from web.apidocs import docs_plugins
from web.templating import template_config

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, embedded_services: bool = False) -> Litestar:
    """Build the application.

    Args:
        settings: configuration; ``Settings.from_env()`` when None.
        embedded_services: informational flag shown by ``GET /`` (set by
            ``artdag serve`` when it started the embedded stack).
    """
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_resources(settings, embedded_services=embedded_services) as res:
            setattr(app.state, RESOURCES_STATE, res)
            try:
                yield
            finally:
                delattr(app.state, RESOURCES_STATE)

    def complete_document(app: Litestar) -> None:
        # before any request: /docs/openapi.json serves (and caches) this same object
        document_errors(app.openapi_schema)
        document_links(app.openapi_schema)

    return Litestar(
        route_handlers=route_handlers(),
        lifespan=[lifespan],
        on_startup=[complete_document],
        dependencies={"res": Provide(provide_resources, sync_to_thread=False)},
        exception_handlers=exception_handlers(),
        guards=[require_auth],  # mutating methods need a token; reads are open
        openapi_config=OpenAPIConfig(
            title="artdag L1", version="0.1.0", path="/docs", render_plugins=docs_plugins()
        ),  # Swagger UI served from web/node_modules, never a CDN
        template_config=template_config(),  # web UI pages (web/templating)
        state=State({"settings": settings}),
    )
