"""The Litestar application factory (composition root: the API, the web UI and the services meet here).

Handlers receive one :class:`streamer.resources.Resources` (dependency
``res``), opened by the lifespan with :func:`streamer.resources.open_resources`
and closed on shutdown.

Request limits: a body is at most :data:`REQUEST_MAX_BODY_BYTES` (413 beyond;
uploads stream with their own ``UPLOAD_MAX_BYTES``), and a body that stalls
for ``ARTDAG_BODY_TIMEOUT`` seconds answers 408
(:mod:`streamer.present.body_timeout`). The HTTP server bounds the request
head (:mod:`streamer.entry.http_server`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from api.auth import require_auth
from api.errors import exception_handlers
from api.openapi_errors import document_errors
from api.openapi_links import document_links
from streamer.entry.routes import route_handlers
from streamer.present.body_timeout import BodyTimeoutMiddleware
from streamer.present.deps import RESOURCES_STATE, provide_resources
from streamer.recipes.store import MAX_RECIPE_BYTES
from streamer.resources import open_resources
from streamer.settings import Settings
from web.apidocs import docs_plugins
from web.templating import template_config

__all__ = ["REQUEST_MAX_BODY_BYTES", "create_app"]

#: The largest request body of any endpoint but the uploads: JSON documents and
#: forms, the largest a recipe (1 MiB of text, JSON escapes grow it up to 3x).
REQUEST_MAX_BODY_BYTES = 4 * MAX_RECIPE_BYTES


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
        middleware=[DefineMiddleware(BodyTimeoutMiddleware, timeout=settings.server.body_timeout)],
        request_max_body_size=REQUEST_MAX_BODY_BYTES,  # uploads: None, they stream with a limit
        guards=[require_auth],  # mutating methods need a token; reads are open
        openapi_config=OpenAPIConfig(
            title="artdag L1", version="0.1.0", path="/docs", render_plugins=docs_plugins()
        ),  # Swagger UI served from web/node_modules, never a CDN
        template_config=template_config(),  # web UI pages (web/templating)
        state=State({"settings": settings}),
    )
