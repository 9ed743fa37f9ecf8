"""Mirrors: extra destinations (S3...) that receive every segment and playlist as produced.

A :class:`SegmentMirror` is anything with ``async put(name, data, content_type)``.
:class:`MirrorUploader` owns one mirror's queue and task: items go up in the
order they were produced (init, then each segment before the playlist that
lists it), each call under a timeout, failures retried with capped
exponential backoff and counted. A playlist that a newer one has superseded
is skipped rather than retried, so the mirror's playlist never lists a
segment it does not hold and catches up after an outage. Nothing here waits
on the render: enqueueing never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hls.options import HLSOptions

__all__ = ["MirrorStats", "MirrorUploader", "SegmentMirror", "content_type_for"]

log = logging.getLogger(__name__)

_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
}


def content_type_for(name: str) -> str:
    """The HTTP Content-Type of an HLS file name (``application/octet-stream`` if unknown)."""
    return _TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


class SegmentMirror(Protocol):
    """A destination for HLS files (``cache.s3.S3SegmentMirror`` matches)."""

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        """Store ``data`` as ``name`` (overwriting: playlists are rewritten)."""
        ...


@dataclass(slots=True)
class MirrorStats:
    """Counters of one mirror.

    Attributes:
        uploaded: Files (segments, init, playlists) stored.
        segments: Media segments stored.
        failures: Failed attempts (each retry counts).
        superseded: Playlists skipped because a newer one was queued.
        backlog_high_water: Most items waiting at once.
    """

    uploaded: int = 0
    segments: int = 0
    failures: int = 0
    superseded: int = 0
    backlog_high_water: int = 0


@dataclass(slots=True)
class _Item:
    name: str
    content_type: str
    data: bytes | None = None
    path: Path | None = None
    playlist_gen: int | None = None


_END = object()


class MirrorUploader:
    """One mirror's ordered upload queue and its owner task.

    Args:
        mirror: Where files go.
        options: ``upload_timeout``, ``upload_retry_base``, ``upload_retry_max``.
        label: Name used in logs.
    """

    def __init__(self, mirror: SegmentMirror, options: HLSOptions, label: str = "mirror") -> None:
        self.mirror = mirror
        self.options = options
        self.label = label
        self.stats = MirrorStats()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._playlist_gen: dict[str, int] = {}
        self._pending = 0

    def start(self) -> None:
        """Start the owner task (inside the running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"hls-{self.label}-uploader")

    def put_file(self, name: str, path: Path) -> None:
        """Queue a finished file (read when its turn comes, so a backlog holds no bytes)."""
        self._enqueue(_Item(name, content_type_for(name), path=path))

    def put_playlist(self, name: str, text: str) -> None:
        """Queue a playlist rewrite; older queued rewrites of ``name`` become obsolete."""
        gen = self._playlist_gen.get(name, 0) + 1
        self._playlist_gen[name] = gen
        self._enqueue(_Item(name, content_type_for(name), data=text.encode(), playlist_gen=gen))

    @property
    def pending(self) -> int:
        """Items queued or in flight."""
        return self._pending

    def _enqueue(self, item: _Item) -> None:
        self._pending += 1
        self._queue.put_nowait(item)
        self.stats.backlog_high_water = max(self.stats.backlog_high_water, self._pending)

    def _superseded(self, item: _Item) -> bool:
        return item.playlist_gen is not None and item.playlist_gen < self._playlist_gen[item.name]

    async def _loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, _Item)
            try:
                await self._upload(item)
            finally:
                self._pending -= 1

    async def _upload(self, item: _Item) -> None:
        delay = self.options.upload_retry_base
        data = item.data
        while True:
            if self._superseded(item):
                self.stats.superseded += 1
                return
            try:
                if data is None:
                    assert item.path is not None
                    data = await asyncio.to_thread(item.path.read_bytes)
                await asyncio.wait_for(
                    self.mirror.put(item.name, data, item.content_type),
                    self.options.upload_timeout,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # mirror errors, timeouts and unreadable files alike
                self.stats.failures += 1
                log.warning(
                    "%s put of %s failed (%r); retrying in %.1f s",
                    self.label,
                    item.name,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.upload_retry_max)
                continue
            self.stats.uploaded += 1
            if item.playlist_gen is None and not item.name.endswith(".mp4"):
                self.stats.segments += 1
            return

    async def finish(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the queue to drain; True when everything went up."""
        if self._task is None:
            return self._pending == 0
        self._queue.put_nowait(_END)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            log.warning("%s incomplete at finish: %d files pending", self.label, self._pending)
            await self.abort()
            return False
        return self._pending == 0

    async def abort(self) -> None:
        """Stop now; queued files are dropped."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
