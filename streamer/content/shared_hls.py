"""IPFS-primary: a run's live HLS files that another node wrote, read through IPFS.

In a chunked run each chunk's segments land in the HLS folder of the node
that rendered them, and the playlist in the folder of the node that listed
last; the rows's ``playlist_cid`` names the latest playlist on IPFS and every
segment is on IPFS under its file name's CID. A node serving the run
(``GET /runs/{id}/playlist.m3u8`` and segments) fills its own folder from
there on a miss:

- :func:`refresh_playlist`: the local playlist is missing, or has not
  changed for :data:`STALE_SECONDS` and has no ENDLIST, and the IPFS
  playlist lists more (an EVENT playlist only grows) -> the IPFS one is
  written in its place. The row is asked at most once per
  :data:`STALE_SECONDS` per run (:class:`PlaylistChecks`, on the resources),
  however many viewers poll;
- :func:`fill_segment`: a segment the local playlist lists but the folder
  lacks is read through the local cache (verified against its CID).

Each wait on the IPFS node is bounded by :data:`FETCH_TIMEOUT`; a failure
leaves the request answered from what is here (a 404 for a segment).
Off (nothing asked) unless ``IPFS_PRIMARY``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from cache.errors import StorageError
from hls.segment_files import atomic_write
from streamer.content.live_hls import PLAYLIST_NAME, HlsFile
from streamer.content.stores import hls_dir
from streamer.db import runs as runs_db

if TYPE_CHECKING:
    from streamer.resources import Resources

__all__ = ["FETCH_TIMEOUT", "STALE_SECONDS", "PlaylistChecks", "fill_segment", "refresh_playlist"]

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 10.0
#: A playlist unchanged this long may be behind another node's listing.
STALE_SECONDS = 2.0
_ENDLIST = b"#EXT-X-ENDLIST"


class PlaylistChecks:
    """When each run's row was last asked for its IPFS playlist (bounded, oldest out)."""

    def __init__(self, max_runs: int = 1024) -> None:
        self.max_runs = max_runs
        self._last: OrderedDict[str, float] = OrderedDict()

    def due(self, run_id: str, every: float) -> bool:
        """Whether ``run_id`` may be checked now (then it counts as checked)."""
        now = time.monotonic()
        last = self._last.get(run_id)
        if last is not None and now - last < every:
            return False
        self._last[run_id] = now
        self._last.move_to_end(run_id)
        while len(self._last) > self.max_runs:
            self._last.popitem(last=False)
        return True


def _entries(body: bytes) -> list[str]:
    return [x for x in body.decode(errors="replace").splitlines() if x and not x.startswith("#")]


async def refresh_playlist(res: Resources, run_id: str, local: HlsFile | None) -> bool:
    """Write the run's IPFS playlist here when it is ahead of ``local``; whether it did.

    Args:
        res: the resources.
        run_id: the run (a safe path component: the caller checks).
        local: the playlist served now (None: this node has none).
    """
    if not res.settings.ipfs.primary:
        return False
    if local is not None:
        if local.body is None or _ENDLIST in local.body:
            return False
        if time.time() - local.mtime < STALE_SECONDS:
            return False
    if not res.playlist_checks.due(run_id, STALE_SECONDS):
        return False
    run = await runs_db.get_run(res.db, run_id)
    cid = None if run is None else run.get("playlist_cid")
    if not cid:
        return False
    try:
        body = await asyncio.wait_for(
            res.stores.read_through.read(str(cid), f"run {run_id} playlist"), FETCH_TIMEOUT
        )
    except (StorageError, TimeoutError) as exc:
        log.warning("run %s: IPFS playlist %s not read: %s", run_id, cid, exc)
        return False
    behind = (
        local is not None
        and local.body is not None
        and len(_entries(body)) <= len(_entries(local.body))
        and _ENDLIST not in body
    )
    if behind:  # not ahead (the IPFS copy of a single-node run may lag)
        return False
    directory = hls_dir(res.settings, run_id)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(atomic_write, directory / PLAYLIST_NAME, body)
    return True


async def fill_segment(res: Resources, run_id: str, name: str, playlist: HlsFile | None) -> bool:
    """Copy segment ``name`` (its CID the stem) into this node's folder; whether it did.

    Only a name the run's playlist lists is fetched: the route is public, and
    arbitrary CIDs must not be pulled into a run's folder.
    """
    if not res.settings.ipfs.primary or playlist is None or playlist.body is None:
        return False
    if name not in _entries(playlist.body):
        return False
    cid = name.rsplit(".", 1)[0]
    try:
        path = await asyncio.wait_for(
            res.stores.read_through.path(cid, f"run {run_id} {name}"), FETCH_TIMEOUT
        )
    except (StorageError, TimeoutError) as exc:
        log.warning("run %s: segment %s not read from IPFS: %s", run_id, name, exc)
        return False
    data = await asyncio.to_thread(path.read_bytes)
    directory = hls_dir(res.settings, run_id)
    await asyncio.to_thread(atomic_write, directory / name, data)
    return True
