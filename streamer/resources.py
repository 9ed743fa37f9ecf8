"""The one typed bundle of clients a process holds: opened once, closed once.

:func:`open_resources` is used by both the Litestar lifespan
(:mod:`streamer.entry.app`) and the arq worker startup
(:mod:`streamer.entry.worker`); handlers get the :class:`Resources` through
dependency injection, jobs through :func:`resources_of`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from arq import ArqRedis
from arq import create_pool as create_arq_pool
from arq.connections import RedisSettings

from streamer.auth.tokens import cluster_key
from streamer.content.live_hls import LiveHlsFiles
from streamer.content.shared_hls import PlaylistChecks
from streamer.content.stores import Stores, open_stores
from streamer.db.pool import apply_migrations, create_pool
from streamer.federation.actor_keys import ActorKeys, load_or_create_actor_keys
from streamer.keys import RedisKeys
from streamer.locks import KeyedLocks
from streamer.settings import Settings

__all__ = ["RESOURCES_KEY", "Resources", "open_resources", "resources_of"]

log = logging.getLogger(__name__)

#: Where the worker keeps its :class:`Resources` in arq's job ``ctx``.
RESOURCES_KEY = "resources"


@dataclass(frozen=True)
class Resources:
    """What handlers and jobs work with.

    Attributes:
        settings: the process's settings.
        db: asyncpg pool (migrations applied).
        redis: Redis client for keys, pub/sub and claims.
        arq: arq pool to enqueue jobs on ``keys.queue`` (in a worker: arq's own pool,
            which is also ``redis``).
        stores: local cache, IPFS and S3 clients.
        keys: Redis key names and the queue name (``settings.services.keys``).
        token_key: the cluster key that signs API tokens.
        actor_keys: the ActivityPub actor's key pair (signs federation requests);
            None only in bare test resources.
        embedded_services: the process started the embedded PostgreSQL/Redis.
        locks: per-key locks for once-at-a-time work in this process.
        live_hls: the runs' live playlists and segments as served (bounded cache).
        playlist_checks: IPFS-primary: when each run's IPFS playlist was last looked up
            for serving (:mod:`streamer.content.shared_hls`).
    """

    settings: Settings
    db: asyncpg.Pool
    redis: aioredis.Redis
    arq: ArqRedis
    stores: Stores
    keys: RedisKeys
    token_key: bytes
    actor_keys: ActorKeys | None = None
    embedded_services: bool = False
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    live_hls: LiveHlsFiles = field(default_factory=LiveHlsFiles)
    playlist_checks: PlaylistChecks = field(default_factory=PlaylistChecks)


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings,
    *,
    arq: ArqRedis | None = None,
    db_max_size: int = 10,
    embedded_services: bool = False,
) -> AsyncIterator[Resources]:
    """Open every client (and apply migrations); close them all on exit.

    Args:
        settings: configuration.
        arq: an existing arq pool to use for both ``redis`` and ``arq`` (the
            worker's; not closed here). None: open both.
        db_max_size: connections in the PostgreSQL pool.
        embedded_services: recorded on the resources (shown by ``GET /``).
    """
    async with contextlib.AsyncExitStack() as stack:
        pool = await create_pool(settings.services.database_url, max_size=db_max_size)
        stack.push_async_callback(pool.close)
        applied = await apply_migrations(pool)
        if applied:
            log.info("applied migrations %s", applied)
        if arq is None:
            arq = await create_arq_pool(
                RedisSettings.from_dsn(settings.services.redis_url),
                default_queue_name=settings.services.queue_name,
            )
            stack.push_async_callback(arq.aclose)
            redis: aioredis.Redis = aioredis.from_url(settings.services.redis_url)
            stack.push_async_callback(redis.aclose)
        else:
            redis = arq
        stores = await open_stores(settings, stack)
        # partial writes of a crashed process (only files older than an hour: a
        # worker sharing the cache may be writing the fresh ones right now)
        removed = await asyncio.to_thread(stores.local.cleanup_tmp)
        if removed:
            log.info("removed %d stale partial file(s) from the cache", removed)
        yield Resources(
            settings=settings,
            db=pool,
            redis=redis,
            arq=arq,
            stores=stores,
            keys=settings.services.keys,
            token_key=await asyncio.to_thread(cluster_key, settings),
            actor_keys=await asyncio.to_thread(load_or_create_actor_keys, settings),
            embedded_services=embedded_services,
        )


def resources_of(ctx: Mapping[str, Any]) -> Resources:
    """The worker's :class:`Resources` from an arq job ``ctx``."""
    resources = ctx[RESOURCES_KEY]
    if not isinstance(resources, Resources):
        raise TypeError(f"ctx[{RESOURCES_KEY!r}] is {type(resources).__name__}, not Resources")
    return resources
