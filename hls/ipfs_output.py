"""LocalHLSOutput plus live publication of every segment and playlist to IPFS.

An uploader task adds segments to IPFS in order, with per-call timeouts and
capped exponential backoff. The IPFS playlist lists only the uploaded prefix
(never a gap) and catches up when the node comes back; a slow or dead node
never stalls the render, because the local writer only enqueues.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from effects.frame import AudioFormat, VideoFormat
from hls.local_output import LocalHLSOutput
from hls.mirror import SegmentMirror
from hls.options import HLSOptions
from hls.output_reports import HLSResult, PlaylistUpdate, UpdateCallback
from hls.segment_files import CidFn, WrittenSegment, atomic_write

__all__ = ["IPFSHLSOutput", "SegmentStore"]

log = logging.getLogger(__name__)


class SegmentStore(Protocol):
    """Where IPFSHLSOutput publishes bytes (``cache.ipfs.IPFSStore`` matches)."""

    async def add_bytes(self, data: bytes, *, pin: bool = True) -> str:
        """Add ``data`` and return its CID."""
        ...


@dataclass(frozen=True, slots=True)
class _Upload:
    """One file for the uploader: the init segment (``written`` None) or a media segment."""

    name: str
    path: Path
    written: WrittenSegment | None = None


class IPFSHLSOutput(LocalHLSOutput):
    """LocalHLSOutput that also publishes every segment and playlist to IPFS as produced.

    Args:
        store: Where to add bytes (``add_bytes(data, pin=True) -> cid``).
        directory: Local output directory (segments stay here whatever IPFS does).
        options: Encoding, queue, upload timeout/backoff options.
        cid_fn: Content id function for local names (the IPFS CID function in production).
        on_playlist_update: Awaited after each IPFS playlist is added; ``start()``'s
            argument overrides it when given.
        mirrors: Extra destinations fed every local file (see LocalHLSOutput).
    """

    def __init__(
        self,
        store: SegmentStore,
        directory: str | os.PathLike[str],
        options: HLSOptions,
        cid_fn: CidFn,
        on_playlist_update: UpdateCallback | None = None,
        *,
        mirrors: Sequence[SegmentMirror] = (),
    ) -> None:
        super().__init__(directory, options, cid_fn, mirrors=mirrors)
        self.store = store
        self._callback = on_playlist_update
        # Unbounded on purpose: it holds paths, not bytes, and a dead node must
        # never block the writer. None marks the end.
        self._uploads: asyncio.Queue[_Upload | None] = asyncio.Queue()
        self._uploader: asyncio.Task[None] | None = None
        self._ipfs_uri: dict[str, str] = {}
        self._ipfs_cid: dict[str, str] = {}
        self._uploaded = 0
        self._ipfs_playlist_cid: str | None = None
        self._final = False
        self._ended_published = False

    @property
    def ipfs_playlist_path(self) -> Path:
        """Local copy of the latest IPFS playlist (``<name>.ipfs.m3u8``)."""
        return self.directory / (self.options.playlist_name[: -len(".m3u8")] + ".ipfs.m3u8")

    async def start(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        on_playlist_update: UpdateCallback | None = None,
    ) -> None:
        """Start encoding, the local writer and the uploader."""
        self._uploader = asyncio.create_task(self._upload_loop(), name="hls-ipfs-uploader")
        try:
            await super().start(video, audio, on_playlist_update)
        except BaseException:
            self._uploader.cancel()
            raise

    async def _on_init(self, name: str, path: Path) -> None:
        self._enqueue(_Upload(name, path))

    async def _on_segment(self, written: WrittenSegment, playlist_text: str) -> None:
        self._enqueue(_Upload(written.segment.uri, written.path, written))

    def _enqueue(self, item: _Upload) -> None:
        self._uploads.put_nowait(item)
        self.stats.upload_backlog_high_water = max(
            self.stats.upload_backlog_high_water, self._uploads.qsize()
        )

    async def _add_with_retry(self, data: bytes, what: str, forever: bool = True) -> str | None:
        delay = self.options.upload_retry_base
        while True:
            try:
                return await asyncio.wait_for(
                    self.store.add_bytes(data, pin=True), self.options.upload_timeout
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # store errors and timeouts alike
                if what == "playlist":
                    self.stats.playlist_upload_failures += 1
                else:
                    self.stats.upload_failures += 1
                log.warning("IPFS add of %s failed (%r); retrying in %.1f s", what, exc, delay)
                if not forever:
                    return None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.upload_retry_max)

    async def _upload_loop(self) -> None:
        while True:
            item = await self._uploads.get()
            if item is None:
                return
            data = await asyncio.to_thread(item.path.read_bytes)
            cid = await self._add_with_retry(data, item.name)
            assert cid is not None
            # ?filename= keeps an extension visible to clients that check it
            # (FFmpeg's allowed_segment_extensions); gateways ignore or honour it.
            self._ipfs_uri[item.name] = f"/ipfs/{cid}?filename={item.name}"
            if item.written is None:
                continue
            self._uploaded += 1
            self.stats.segments_uploaded += 1
            self._ipfs_cid[item.name] = cid
            await self._publish(
                item.written, cid, ended=self._final and self._uploaded == len(self._written)
            )

    async def _publish(self, written: WrittenSegment, segment_cid: str, ended: bool) -> None:
        text = self.playlist.render(
            lambda name: self._ipfs_uri[name], count=self._uploaded, ended=ended
        )
        # A playlist add may fail; the next segment's playlist supersedes it.
        pl_cid = await self._add_with_retry(text.encode(), "playlist", forever=ended)
        if pl_cid is None:
            return
        self._ipfs_playlist_cid = pl_cid
        self._ended_published = ended
        await asyncio.to_thread(atomic_write, self.ipfs_playlist_path, text.encode())
        seg = written.segment
        await self._notify(
            PlaylistUpdate(pl_cid, segment_cid, seg.index, seg.duration, self._uploaded, ended)
        )

    async def _finish_extra(self, text: str) -> HLSResult:
        self._final = True
        total = len(self._written)
        assert self._uploader is not None
        self._uploads.put_nowait(None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.finish_timeout
        try:
            await asyncio.wait_for(asyncio.shield(self._uploader), self.options.finish_timeout)
            if total and self._uploaded == total and not self._ended_published:
                # Everything went up before finish(): publish the ENDLIST version now.
                last = self._written[-1]
                await asyncio.wait_for(
                    self._publish(last, self._ipfs_cid[last.segment.uri], True),
                    max(0.0, deadline - loop.time()),
                )
        except TimeoutError:
            log.warning(
                "IPFS upload incomplete at finish: %d of %d segments", self._uploaded, total
            )
            self._uploader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._uploader
        complete = self._ended_published
        return HLSResult(
            self.playlist_path,
            self.playlist.segments,
            self.playlist.duration,
            self.stats,
            ipfs_playlist_cid=self._ipfs_playlist_cid if complete else None,
            ipfs_complete=complete,
        )

    async def _abort_extra(self) -> None:
        if self._uploader is not None:
            self._uploader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._uploader
