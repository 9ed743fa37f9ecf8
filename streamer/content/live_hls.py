"""The runs' live HLS files as players fetch them: a bounded in-process cache.

While a run renders, every viewer polls its playlist and fetches each new
segment, so hundreds of requests ask for the same few files. :class:`LiveHlsFiles`
answers them from memory, without PostgreSQL and mostly without the disk:

- a run's playlist is checked (``fstat``, re-read only when it changed) at most
  once per ``recheck`` seconds; requests meanwhile get the last version, and one
  thread call serves everyone who asks while it runs;
- segments are immutable and content-named: each is read once (one thread call
  for all its concurrent requests) and kept, least recently used first out, up to
  ``max_bytes`` in all; a segment over ``max_file_bytes`` is not kept (its
  :class:`HlsFile` has no ``body``: serve ``path``);
- a blocking playlist reload (LL-HLS ``_HLS_msn``/``_HLS_part``) waits in
  :meth:`LiveHlsFiles.wait_playlist`: the playlist is checked every ``poll``
  seconds (an ``fstat``; re-read only when it changed) while anyone waits, one
  check for all the waiters of a run, until it holds what they asked for. The
  writer may run in another process (a worker), so there is nothing to be
  told by: a bounded poll of the file's stat is how a change is seen;
- the playlist file is what says a run has HLS: it appears with the first
  segment and goes with ``DELETE /runs/{id}``, which calls :meth:`LiveHlsFiles.forget`;
  a run whose playlist is gone (deleted by another process) is dropped at its
  next check, segments included.

One instance lives on :class:`~streamer.resources.Resources` (no module state).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["PLAYLIST_NAME", "HlsFile", "LiveHlsFiles"]

#: The live playlist's file name in a run's HLS directory.
PLAYLIST_NAME = "playlist.m3u8"

_T = TypeVar("_T")
_Stamp = tuple[int, int, int]  # inode, mtime_ns, size: a replaced or rewritten file differs


@dataclass(frozen=True, slots=True)
class HlsFile:
    """One file as served.

    Attributes:
        path: the file on disk.
        etag: strong entity tag, quoted (a segment: its content name; the
            playlist: a hash of its bytes).
        mtime: last modification, whole seconds (``Last-Modified``'s precision).
        last_modified: ``mtime`` as an HTTP date.
        size: bytes.
        body: the bytes; None when the file is too big to keep (serve ``path``).
    """

    path: Path
    etag: str
    mtime: int
    last_modified: str
    size: int
    body: bytes | None


@dataclass(slots=True)
class _Run:
    playlist: HlsFile
    stamp: _Stamp
    checked: float
    segments: set[str] = field(default_factory=set)
    derived: dict[str, HlsFile] = field(default_factory=dict)  # of this playlist version


def _opened(path: Path) -> tuple[int, os.stat_result] | None:
    """An open descriptor of the regular file at ``path`` and its stat; None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # missing, a directory in the way, a symlink loop...
        return None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st


def _file(path: Path, st: os.stat_result, etag: str, body: bytes | None) -> HlsFile:
    mtime = int(st.st_mtime)
    return HlsFile(path, etag, mtime, formatdate(mtime, usegmt=True), st.st_size, body)


def _read_playlist(path: Path, old: tuple[_Stamp, HlsFile] | None) -> tuple[HlsFile, _Stamp] | None:
    """The playlist (``old``'s file when its stamp is unchanged); None when there is none."""
    opened = _opened(path)
    if opened is None:
        return None
    fd, st = opened
    with open(fd, "rb") as fh:
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if old is not None and old[0] == stamp:
            return old[1], stamp
        body = fh.read()
    etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    return _file(path, st, etag, body), stamp


def _read_segment(directory: Path, name: str, max_file_bytes: int) -> HlsFile | None:
    """The segment ``name`` of ``directory`` (no body over ``max_file_bytes``); None if none."""
    path = directory / name
    # a name is one path component, but a symlink in the directory must not lead out of it
    if os.path.dirname(os.path.realpath(path)) != os.path.realpath(directory):
        return None
    opened = _opened(path)
    if opened is None:
        return None
    fd, st = opened
    with open(fd, "rb") as fh:
        body = fh.read() if st.st_size <= max_file_bytes else None
    return _file(path, st, f'"{name}"', body)


class LiveHlsFiles:
    """The cache (see the module docstring). Not thread-safe: use it from the event loop.

    Args:
        recheck: seconds a checked playlist is served before it is checked again.
        max_runs: runs remembered (least recently checked out first, segments with them).
        max_bytes: segment bytes kept in all.
        max_file_bytes: a bigger segment is not kept.
    """

    def __init__(
        self,
        *,
        recheck: float = 0.1,
        max_runs: int = 256,
        max_bytes: int = 64 * 1024 * 1024,
        max_file_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.recheck = recheck
        self.max_runs = max_runs
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._segments: OrderedDict[tuple[str, str], HlsFile] = OrderedDict()
        self._bytes = 0
        self._epoch = 0  # bumped by forget(): reads begun before it are not kept
        self._inflight: dict[tuple[str, ...], asyncio.Future[Any]] = {}

    @property
    def cached_bytes(self) -> int:
        """Segment bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        """Runs held now."""
        return len(self._runs)

    async def playlist(self, run_id: str, directory: Path) -> HlsFile | None:
        """The run's playlist (at most ``recheck`` s old); None when it has none.

        Args:
            run_id: the run (a safe single path component: the caller checks).
            directory: the run's HLS directory.
        """
        run = await self._checked(run_id, directory)
        return None if run is None else run.playlist

    async def wait_playlist(
        self,
        run_id: str,
        directory: Path,
        ready: Callable[[HlsFile], bool],
        timeout: float,
        *,
        poll: float = 0.02,
    ) -> tuple[HlsFile | None, bool]:
        """Wait until the run's playlist is ``ready`` (at most ``timeout`` s).

        Args:
            run_id: the run (a safe single path component: the caller checks).
            directory: the run's HLS directory.
            ready: whether a playlist version is the one waited for.
            timeout: seconds to wait at most.
            poll: seconds between two checks of the file (shared by all waiters).

        Returns:
            The latest playlist (None when the run has none) and whether it is ready.
        """
        deadline = time.monotonic() + timeout
        seen: HlsFile | None = None
        while True:
            run = await self._checked(run_id, directory, max_age=poll)
            if run is None:
                return None, False
            if run.playlist is not seen:  # judged once per version, not once per poll
                seen = run.playlist
                if ready(seen):
                    return seen, True
            left = deadline - time.monotonic()
            if left <= 0:
                return run.playlist, False
            await asyncio.sleep(min(poll, left))

    def derived(
        self, run_id: str, file: HlsFile, key: str, make: Callable[[HlsFile], HlsFile]
    ) -> HlsFile:
        """``make(file)`` (e.g. a delta update of the playlist), made once per playlist version.

        Args:
            run_id: the run.
            file: the run's playlist as just served.
            key: what is derived.
            make: derives it (pure; kept until the playlist changes).
        """
        run = self._runs.get(run_id)
        if run is None or run.playlist is not file:
            return make(file)
        hit = run.derived.get(key)
        if hit is None:
            hit = run.derived[key] = make(file)
        return hit

    async def segment(self, run_id: str, directory: Path, name: str) -> HlsFile | None:
        """The segment ``name`` of the run; None when the directory has no such file.

        Kept only while the run has a playlist (a run that is gone is checked again).

        Args:
            run_id: the run (a safe single path component: the caller checks).
            directory: the run's HLS directory.
            name: the file name (one path component: the caller checks).
        """
        run = await self._checked(run_id, directory)
        key = (run_id, name)
        if run is not None and (hit := self._segments.get(key)) is not None:
            self._segments.move_to_end(key)
            return hit
        epoch = self._epoch
        found = await self._shared(
            ("segment", run_id, name), _read_segment, directory, name, self.max_file_bytes
        )
        if (
            found is not None
            and found.body is not None
            and run is not None
            and epoch == self._epoch
            and self._runs.get(run_id) is run
            and key not in self._segments
        ):
            self._segments[key] = found
            self._bytes += found.size
            run.segments.add(name)
            self._evict()
        return found

    async def ladder_playlist(self, run_id: str, directory: Path, name: str) -> HlsFile | None:
        """A playlist of the run's ABR ladder (``master.m3u8``, ``playlist_720p.m3u8``),
        read for each request (one read for all who ask meanwhile), never kept.

        Args:
            run_id: the run (a safe single path component: the caller checks).
            directory: the run's HLS directory.
            name: the playlist's file name (one path component: the caller checks).
        """
        found = await self._shared(("ladder", run_id, name), _read_playlist, directory / name, None)
        return None if found is None else found[0]

    def forget(self, run_id: str) -> None:
        """Drop the run and its segments (its files were deleted)."""
        self._epoch += 1
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        for name in run.segments:
            gone = self._segments.pop((run_id, name), None)
            if gone is not None:
                self._bytes -= gone.size

    async def _checked(
        self, run_id: str, directory: Path, max_age: float | None = None
    ) -> _Run | None:
        """The run, its playlist checked within ``max_age`` (default ``recheck``) s; None
        when it has no playlist."""
        run = self._runs.get(run_id)
        started = time.monotonic()
        age = self.recheck if max_age is None else max_age
        if run is not None and started - run.checked < age:
            return run
        epoch = self._epoch
        old = None if run is None else (run.stamp, run.playlist)
        found = await self._shared(
            ("playlist", run_id), _read_playlist, directory / PLAYLIST_NAME, old
        )
        if found is None:
            self.forget(run_id)
            return None
        playlist, stamp = found
        run = self._runs.get(run_id)
        if run is not None:
            if run.playlist is not playlist:
                run.derived.clear()
            run.playlist, run.stamp = playlist, stamp
            run.checked = max(run.checked, started)
            self._runs.move_to_end(run_id)
            return run
        run = _Run(playlist, stamp, started)
        if epoch == self._epoch:  # not deleted meanwhile
            self._runs[run_id] = run
            while len(self._runs) > self.max_runs:
                self.forget(next(iter(self._runs)))
        return run

    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._segments:
            (run_id, name), gone = self._segments.popitem(last=False)
            self._bytes -= gone.size
            run = self._runs.get(run_id)
            if run is not None:
                run.segments.discard(name)

    async def _shared(self, key: tuple[str, ...], fn: Callable[..., _T], *args: object) -> _T:
        """``fn(*args)`` in a thread, once for all who ask for ``key`` while it runs.

        A caller that is cancelled (its client left) does not cancel the read for the others.
        """
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(asyncio.to_thread(fn, *args))
            self._inflight[key] = future

            def done(f: asyncio.Future[Any], key: tuple[str, ...] = key) -> None:
                if self._inflight.get(key) is f:
                    del self._inflight[key]
                if not f.cancelled():
                    with contextlib.suppress(BaseException):
                        f.exception()  # retrieved: no "never retrieved" warning when all left

            future.add_done_callback(done)
        result: _T = await asyncio.shield(future)
        return result
