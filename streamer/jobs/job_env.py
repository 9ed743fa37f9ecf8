"""What every execution job shares: limits, the error, the worker name and :class:`JobEnv`.

:class:`JobEnv` wraps the worker's :class:`~streamer.resources.Resources` with
the per-job conveniences (the IPFS store checked once per job, IPFS-primary
publishing, fetching a CID into the local cache).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arq import Retry
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cache.errors import StorageUnavailableError
from cache.ipfs import IPFSStore
from cache.local import LocalStore
from streamer.content.primary import SharedDocs
from streamer.content.read_through import ContentMismatchError, ContentMissingError
from streamer.resources import RESOURCES_KEY, resources_of

__all__ = [
    "CLAIM_TTL",
    "INTERMEDIATE_CRF",
    "MAX_TRIES",
    "OUTPUT_CRF",
    "RUN_TIMEOUT",
    "STEP_GRACE",
    "STEP_TIMEOUT",
    "TRANSIENT",
    "ExecError",
    "JobEnv",
    "retry_or_raise",
    "worker_name",
]

log = logging.getLogger(__name__)

STEP_TIMEOUT = 3600
RUN_TIMEOUT = 6 * 3600
CLAIM_TTL = 30.0
#: Seconds a step whose job Redis lost may go without result or claim before it is
#: queued again: longer than a claim renewal period (the owner re-takes a lost claim).
STEP_GRACE = CLAIM_TTL / 3 + 2.0
MAX_TRIES = 4
INTERMEDIATE_CRF = 14
OUTPUT_CRF = 18

TRANSIENT = (RedisConnectionError, RedisTimeoutError, StorageUnavailableError, ConnectionError)


class ExecError(Exception):
    """A plan step or run cannot execute (missing input, unknown plan, bad step)."""


def worker_name(ctx: Mapping[str, Any]) -> str:
    """``host:pid:<worker>``; the worker's resources identify it within a process."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(ctx.get(RESOURCES_KEY)):x}"


class JobEnv:
    """One job's view of the worker's resources, with an IPFS store checked once per job."""

    def __init__(self, ctx: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.res = resources_of(ctx)
        self.settings = self.res.settings
        self.db = self.res.db
        # redis-py types its commands as "Awaitable[T] | T" (sync and async share the
        # stubs); the asyncio client always returns awaitables
        self.redis: Any = self.res.redis
        self.arq = self.res.arq
        self.keys = self.res.keys
        self.local: LocalStore = self.res.stores.local
        self._ipfs: IPFSStore | None = None
        self._ipfs_checked = False
        self.docs = SharedDocs(self.res.stores, self.db, bool(self.settings.ipfs.primary))

    @property
    def cache_dir(self) -> Path:
        return Path(self.local.root)

    @property
    def primary(self) -> bool:
        return bool(self.settings.ipfs.primary)

    async def ipfs(self) -> IPFSStore | None:
        """The IPFS store when configured and answering (checked once per job)."""
        if not self._ipfs_checked:
            self._ipfs_checked = True
            self._ipfs = await self.res.stores.reachable_ipfs()
        return self._ipfs

    async def publish(self, data: bytes) -> str | None:
        """Add to IPFS in IPFS-primary mode (None otherwise)."""
        if not self.primary:
            return None
        ipfs = await self.ipfs()
        if ipfs is None:
            raise StorageUnavailableError("IPFS-primary mode but the IPFS node does not answer")
        return str(await ipfs.add_bytes(data))

    async def publish_required(self, data: bytes) -> str:
        """Add to IPFS (IPFS-primary mode); raises when the node does not answer."""
        cid = await self.publish(data)
        if cid is None:
            raise StorageUnavailableError("IPFS-primary mode is off")
        return cid

    async def local_path(self, cid: str, what: str) -> Path:
        """A local file for ``cid``, fetched from IPFS into the cache when missing.

        Raises:
            ExecError: neither here nor on IPFS (or IPFS sent other bytes).
            ContentUnavailableError: not here and the IPFS node did not answer
                (transient: the job is retried).
        """
        try:
            return await self.res.stores.read_through.path(cid, what)
        except (ContentMissingError, ContentMismatchError) as exc:
            raise ExecError(str(exc)) from exc


def retry_or_raise(ctx: Mapping[str, Any], exc: BaseException) -> None:
    tries = int(ctx.get("job_try") or 1)
    if tries < MAX_TRIES:
        log.warning("transient failure (try %d): %s; retrying", tries, exc)
        raise Retry(defer=min(2 ** (tries - 1), 30)) from exc
