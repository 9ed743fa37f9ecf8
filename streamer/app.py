"""The Litestar application factory.

Resources live in ``app.state`` for the handlers:

- ``settings``: :class:`streamer.settings.Settings`
- ``db``: asyncpg pool (migrations applied at startup)
- ``redis``: ``redis.asyncio.Redis``
- ``arq``: ``arq.ArqRedis`` pool for enqueuing jobs on :data:`streamer.worker.QUEUE_NAME`
  (``queue_name`` in ``app.state`` overrides the queue, e.g. per test session)
- ``stores``: :class:`streamer.stores.Stores`; also ``local_store`` (LocalStore under
  CACHE_DIR), ``ipfs`` (IPFSStore; the node may be down) and ``s3`` (S3Store or None)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from arq import create_pool as create_arq_pool
from arq.connections import RedisSettings
from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from api.auth import require_auth
from api.errors import exception_handlers
from streamer.db import apply_migrations, create_pool
from streamer.routes import route_handlers
from streamer.settings import Settings
from streamer.stores import open_stores
from streamer.worker import QUEUE_NAME
from web.apidocs import docs_plugins
from web.templating import template_config

__all__ = ["create_app"]

log = logging.getLogger(__name__)


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
        async with contextlib.AsyncExitStack() as stack:
            pool = await create_pool(settings.services.database_url)
            stack.push_async_callback(pool.close)
            applied = await apply_migrations(pool)
            if applied:
                log.info("applied migrations %s", applied)
            redis = aioredis.from_url(settings.services.redis_url)
            stack.push_async_callback(redis.aclose)
            arq = await create_arq_pool(
                RedisSettings.from_dsn(settings.services.redis_url),
                default_queue_name=QUEUE_NAME,
            )
            stack.push_async_callback(arq.aclose)
            app.state.db = pool
            app.state.redis = redis
            app.state.arq = arq
            stores = await open_stores(settings, stack)
            app.state.stores = stores
            app.state.local_store = stores.local
            app.state.ipfs = stores.ipfs
            app.state.s3 = stores.s3
            # partial writes of a crashed process (only files older than an hour: a
            # worker sharing the cache may be writing the fresh ones right now)
            removed = await asyncio.to_thread(stores.local.cleanup_tmp)
            if removed:
                log.info("removed %d stale partial file(s) from the cache", removed)
            yield

    app = Litestar(
        route_handlers=route_handlers(),
        lifespan=[lifespan],
        exception_handlers=exception_handlers(),
        guards=[require_auth],  # mutating methods need a token; reads are open
        openapi_config=OpenAPIConfig(
            title="artdag L1", version="0.1.0", path="/docs", render_plugins=docs_plugins()
        ),  # Swagger UI served from web/node_modules, never a CDN
        template_config=template_config(),  # web UI pages (web/templates)
    )
    app.state.settings = settings
    app.state.embedded_services = embedded_services
    return app
