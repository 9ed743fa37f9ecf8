"""The local cache as a read-through cache of IPFS (IPFS-primary mode).

Every job that needs content by CID (a run's inputs, a stored plan or
analysis, a step's output, a chunk's segment) asks :class:`ReadThrough`: a
file already under ``CACHE_DIR`` is used as is; a missing one is streamed
from the IPFS node, hashed as it arrives, kept only when its bytes hash to
the CID asked for (written to a temporary file, renamed into place: a
reader never sees a partial file), then used. Another L1 node sharing the
IPFS network put it there, so nodes with separate caches execute together.

A node that does not answer is retried with doubling delays, a bounded
number of times (:class:`RetryPolicy`); then the caller gets a
:class:`ContentUnavailableError` saying so, never a hang. A node that
answers that it has no such content gives :class:`ContentMissingError` at
once; bytes that hash to another CID give :class:`ContentMismatchError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cache.cid import normalise_cid
from cache.errors import NotFoundError, StorageError, StorageUnavailableError
from cache.local import LocalStore

__all__ = [
    "ContentMismatchError",
    "ContentMissingError",
    "ContentSource",
    "ContentUnavailableError",
    "ReadThrough",
    "RetryPolicy",
]

log = logging.getLogger(__name__)


class ContentSource(Protocol):
    """Where missing content comes from (:class:`cache.ipfs.IPFSStore` satisfies it)."""

    def stream(self, cid: str) -> AsyncIterator[bytes]: ...


class ContentMissingError(NotFoundError):
    """Neither the local cache nor the IPFS node has the content."""


class ContentUnavailableError(StorageUnavailableError):
    """The content is not local and the IPFS node did not answer (after the retries)."""


class ContentMismatchError(StorageError):
    """The IPFS node sent bytes that do not hash to the CID asked for (nothing kept)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long a fetch waits for a node that does not answer.

    Attributes:
        attempts: Tries in all (the first included).
        first_delay: Seconds before the second try; doubled after each failure.
        max_delay: Cap of one delay.
        attempt_timeout: Seconds one try may take in all (None: the source's own
            per-read timeout bounds it; a large input may stream for minutes).
    """

    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 4.0
    attempt_timeout: float | None = None

    def delays(self) -> list[float]:
        """The waits between tries."""
        return [
            min(self.first_delay * 2**i, self.max_delay) for i in range(max(0, self.attempts - 1))
        ]


class ReadThrough:
    """A local store that fetches what it lacks from a content source, once, verified.

    Args:
        local: The node's cache (``CACHE_DIR``).
        source: The IPFS store, or None (no fetching: a miss is an error).
        policy: Retries when the source does not answer.
        on_fetch: Called with each CID fetched from the source (counters, tests).

    Attributes:
        fetched: How many CIDs this instance fetched from the source.
    """

    def __init__(
        self,
        local: LocalStore,
        source: ContentSource | None,
        *,
        policy: RetryPolicy | None = None,
        on_fetch: Callable[[str], None] | None = None,
    ) -> None:
        self.local = local
        self.source = source
        self.policy = policy or RetryPolicy()
        self.on_fetch = on_fetch
        self.fetched = 0
        self._inflight: dict[str, asyncio.Future[Path]] = {}

    async def path(self, cid: str, what: str = "content") -> Path:
        """A local file holding ``cid``, fetched from the source when missing.

        Args:
            cid: The content id.
            what: What it is, for error messages (``input 'video'``, ``plan ...``).

        Raises:
            ContentMissingError: Neither here nor on the source.
            ContentUnavailableError: Not here and the source did not answer.
            ContentMismatchError: The source sent other bytes.
        """
        if await asyncio.to_thread(self.local.has, cid):
            return await asyncio.to_thread(self.local.path, cid)
        if self.source is None:
            raise ContentMissingError(
                f"{what}: {cid} is not in the local cache and no IPFS node is configured"
            )
        while (pending := self._inflight.get(cid)) is not None:  # one fetch for all askers
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                # the asker that was fetching was cancelled, not this one: fetch here
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._inflight[cid] = future
        try:
            path = await self._fetch(self.source, cid, what)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without askers
            raise
        finally:
            del self._inflight[cid]
        future.set_result(path)
        return path

    async def read(self, cid: str, what: str = "content") -> bytes:
        """The bytes of ``cid`` (small documents: plans, analyses, playlists)."""
        return await asyncio.to_thread((await self.path(cid, what)).read_bytes)

    async def _fetch(self, source: ContentSource, cid: str, what: str) -> Path:
        delays = self.policy.delays()
        for attempt in range(len(delays) + 1):
            try:
                coro = self.local.put_stream(source.stream(cid))
                item = await asyncio.wait_for(coro, self.policy.attempt_timeout)
            except NotFoundError as exc:
                raise ContentMissingError(f"{what}: {cid} is neither here nor on IPFS") from exc
            except (StorageUnavailableError, TimeoutError) as exc:
                if attempt == len(delays):
                    raise ContentUnavailableError(
                        f"{what}: {cid} is not in the local cache and the IPFS node did not "
                        f"answer ({attempt + 1} tries): {exc}"
                    ) from exc
                log.warning(
                    "%s: fetching %s from IPFS failed (try %d): %s", what, cid, attempt + 1, exc
                )
                await asyncio.sleep(delays[attempt])
                continue
            if normalise_cid(item.cid) != normalise_cid(cid):
                # kept under its own CID (content-addressed: harmless), never used for ``cid``
                raise ContentMismatchError(
                    f"{what}: IPFS sent bytes hashing to {item.cid}, not {cid}; not used"
                )
            self.fetched += 1
            if self.on_fetch is not None:
                self.on_fetch(cid)
            log.info(
                "%s: %s fetched from IPFS into the local cache (%d bytes)", what, cid, item.size
            )
            return item.path
        raise AssertionError("unreachable")  # the loop returns or raises
