"""IPFS-primary mode (``IPFS_PRIMARY=true``): what jobs add to IPFS and record in PostgreSQL.

Uploads are added by :mod:`streamer.content.ingest`. The jobs add the rest:

- documents (a run's plan, an analysis, a chunked run's playlist) through
  :meth:`SharedDocs.publish`: kept in the local store, added to IPFS
  (pinned), recorded as a ``cache_items`` row (kind ``plan``/``analysis``/
  ``hls``) and, for plans and analyses, in ``step_cache`` under their id
  (``plan_id`` -> CID, step type ``PLAN``; analysis id -> CID, ``ANALYZE``),
  so another node finds them by id;
- files (segments, step outputs) through :meth:`SharedDocs.publish_file`.

:meth:`SharedDocs.fetch` is the other side: the document recorded under an id,
read through the local cache (:class:`~streamer.content.read_through.ReadThrough`).
An IPFS node that does not answer is retried a bounded number of times, then
:class:`~streamer.content.read_through.ContentUnavailableError` fails the job
with that message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from cache.cid import normalise_cid
from cache.errors import StorageUnavailableError
from streamer.content.read_through import ContentUnavailableError, RetryPolicy
from streamer.content.stores import Stores
from streamer.db import content as content_db

__all__ = ["PLAN_RECORD", "SharedDocs", "with_retries"]

log = logging.getLogger(__name__)

#: ``step_cache.step_type`` of a plan's row (``cache_id`` = ``plan_id``).
PLAN_RECORD = "PLAN"

T = TypeVar("T")


async def with_retries(
    call: Callable[[], Awaitable[T]], what: str, policy: RetryPolicy | None = None
) -> T:
    """``call()``, tried again with doubling delays while the IPFS node does not answer.

    Raises:
        ContentUnavailableError: still no answer after ``policy.attempts`` tries.
    """
    delays = (policy or RetryPolicy()).delays()
    for attempt in range(len(delays) + 1):
        try:
            return await call()
        except (StorageUnavailableError, TimeoutError) as exc:
            if attempt == len(delays):
                raise ContentUnavailableError(
                    f"{what}: the IPFS node did not answer ({attempt + 1} tries): {exc}"
                ) from exc
            log.warning("%s: IPFS failed (try %d): %s", what, attempt + 1, exc)
            await asyncio.sleep(delays[attempt])
    raise AssertionError("unreachable")


class SharedDocs:
    """One node's side of IPFS-primary storage (a no-op when the mode is off).

    Args:
        stores: The node's stores.
        db: Its PostgreSQL pool.
        primary: ``settings.ipfs.primary``.
        policy: Retries of an IPFS node that does not answer.
    """

    def __init__(
        self, stores: Stores, db: Any, primary: bool, policy: RetryPolicy | None = None
    ) -> None:
        self.stores = stores
        self.db = db
        self.primary = primary
        self.policy = policy or RetryPolicy()

    async def _add(self, data: bytes, what: str) -> str:
        ipfs = self.stores.ipfs
        if ipfs is None:
            raise ContentUnavailableError(f"{what}: IPFS-primary mode but no IPFS node is set")
        cid = await with_retries(lambda: ipfs.add_bytes(data, pin=True), what, self.policy)
        return normalise_cid(cid)

    async def publish(
        self,
        data: bytes,
        *,
        key: str | None,
        kind: str,
        record: str | None = None,
        suffix: str = ".json",
        media_type: str = "application/json",
    ) -> str | None:
        """Keep, add (pinned) and record a document; its CID (None: the mode is off).

        Args:
            data: The bytes.
            key: The id other nodes look it up by (``step_cache``), or None.
            kind: Its ``cache_items`` kind (``plan``, ``analysis``, ``hls``).
            record: The ``step_cache`` step type (``PLAN``, ``ANALYZE``); None: no row.
            suffix: The local file's suffix.
            media_type: Its ``cache_items`` media type.
        """
        if not self.primary:
            return None
        item = await self.stores.local.aput_bytes(data, suffix=suffix)
        what = f"{kind} {key or item.cid}"
        cid = await self._add(data, what)
        if cid != normalise_cid(item.cid):  # same bytes, same defaults: never expected
            log.warning("%s: IPFS CID %s differs from the local CID %s", what, cid, item.cid)
        await content_db.put_cache_item(
            self.db,
            cid=item.cid,
            size=item.size,
            media_type=media_type,
            kind=kind,
            path=str(item.path),
            source=f"{kind}:{key}" if key else kind,
        )
        if key is not None and record is not None:
            await content_db.put_step_cache(self.db, cache_id=key, cid=cid, step_type=record)
        return cid

    async def add(self, data: bytes, what: str) -> str | None:
        """Add bytes to IPFS, pinned, recording nothing (a live playlist); None when off."""
        if not self.primary:
            return None
        return await self._add(data, what)

    async def publish_files(self, paths: Sequence[Path], what: str) -> list[str]:
        """Add files named ``<cid>.<ext>`` (segments) to IPFS, pinned; their CIDs ([] when off).

        Raises:
            ContentUnavailableError: the node did not answer.
            StorageError: the node computed another CID than the file's name.
        """
        if not self.primary:
            return []
        cids = []
        for path in paths:
            data = await asyncio.to_thread(path.read_bytes)
            cid = await self._add(data, f"{what} {path.name}")
            if cid != normalise_cid(path.stem):
                log.warning("%s: IPFS CID %s differs from the name %s", what, cid, path.name)
            cids.append(cid)
        return cids

    async def fetch(self, key: str, what: str) -> bytes | None:
        """The document recorded under ``key``, read through the local cache (None: no record).

        Raises:
            ContentMissingError, ContentUnavailableError, ContentMismatchError: recorded
                but not readable.
        """
        if not self.primary:
            return None
        cid = await content_db.get_step_cache(self.db, key)
        if cid is None:
            return None
        return await self.stores.read_through.read(cid, what)
