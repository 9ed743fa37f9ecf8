"""Storage resources shared by the app lifespan and the worker: local cache, IPFS, S3.

:func:`open_stores` enters every client on an ``AsyncExitStack`` owned by the
caller (the app lifespan or the worker startup), so they close with it.

- ``local``: :class:`cache.local.LocalStore` under ``CACHE_DIR`` (always).
- ``ipfs``: :class:`cache.ipfs.IPFSStore` over a client for ``IPFS_API``. The
  client never connects until used; :meth:`Stores.reachable_ipfs` pings the
  node so a caller (the render job) can fall back to local output when the
  node is down at that moment.
- ``s3``: :class:`cache.s3.S3Store` when ``S3_BUCKET`` is set, else None.
- ``read_through``: :class:`streamer.content.read_through.ReadThrough` over
  ``local`` and ``ipfs`` (one per process): content by CID, fetched from IPFS
  into the local cache when missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from cache.errors import StorageError
from cache.ipfs import IPFSStore, open_ipfs_client
from cache.local import LocalStore
from cache.s3 import S3Store, open_s3_client
from streamer.content.read_through import ReadThrough
from streamer.settings import Settings

__all__ = ["IPFS_PING_TIMEOUT", "Stores", "fetch_into_local", "hls_dir", "open_stores"]

log = logging.getLogger(__name__)

IPFS_PING_TIMEOUT = 3.0


def hls_dir(settings: Settings, run_id: str) -> Path:
    """The live HLS directory of a run: ``CACHE_DIR/hls/<run_id>``."""
    return settings.storage.cache_dir / "hls" / run_id


async def fetch_into_local(local: LocalStore, ipfs: IPFSStore, cid: str) -> Path:
    """Stream ``cid`` from IPFS into the local store; returns the local file.

    Piece by piece (an input video need not fit in memory), hashed as it arrives.

    Raises:
        StorageError: the node failed or does not have ``cid``.
    """
    return (await local.put_stream(ipfs.stream(cid))).path


@dataclass
class Stores:
    """The storage clients of one process."""

    local: LocalStore
    ipfs: IPFSStore | None = None
    s3: S3Store | None = None
    _reader: ReadThrough | None = field(default=None, init=False, repr=False)

    @property
    def read_through(self) -> ReadThrough:
        """The local cache reading through to IPFS (created on first use)."""
        if self._reader is None:
            self._reader = ReadThrough(self.local, self.ipfs)
        return self._reader

    async def reachable_ipfs(self, timeout: float = IPFS_PING_TIMEOUT) -> IPFSStore | None:
        """The IPFS store if its node answers within ``timeout`` seconds, else None."""
        if self.ipfs is None:
            return None
        try:
            await asyncio.wait_for(self.ipfs.ping(), timeout)
        except (TimeoutError, StorageError) as exc:
            log.warning("IPFS node not reachable: %s", exc)
            return None
        return self.ipfs


async def open_stores(settings: Settings, stack: contextlib.AsyncExitStack) -> Stores:
    """Open the storage clients; they are closed when ``stack`` unwinds.

    Must run inside the event loop that will use the clients.
    """
    local = await asyncio.to_thread(LocalStore, settings.storage.cache_dir)
    await asyncio.to_thread((settings.storage.cache_dir / "hls").mkdir, exist_ok=True)
    client = open_ipfs_client(str(settings.ipfs.api))
    stack.push_async_callback(client.close)
    stores = Stores(local=local, ipfs=IPFSStore(client))
    if settings.s3.enabled:
        import aiobotocore.session

        keys = None
        if settings.s3.access_key_id and settings.s3.secret_access_key:
            keys = (settings.s3.access_key_id, settings.s3.secret_access_key)
        s3_client = await stack.enter_async_context(
            open_s3_client(
                aiobotocore.session.get_session(),
                settings.s3.endpoint_url,
                settings.s3.region,
                keys,
            )
        )
        assert settings.s3.bucket is not None
        stores.s3 = S3Store(s3_client, settings.s3.bucket)
    return stores
