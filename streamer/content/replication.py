"""What a completed run's copy holds, and copying it to one storage backend.

The objects of a run are its output (``output_cid``, read from the local content
store or else the IPFS node), its final playlist
(``CACHE_DIR/hls/<run>/playlist.m3u8``) and every segment file beside it. Each is
put by content (:mod:`cache.providers` addresses everything by CID): an object
the backend holds already is skipped, so a copy tried again resumes where the
last attempt stopped, and two runs sharing a segment store it once. On a
backend that keeps run folders (:class:`cache.providers.RunFolders`: S3) the
HLS files go by name into the run's folder instead (``<prefix>hls/<run>/``,
segments first, the playlist last, with their content types), so the copy
plays from the bucket: the playlist names its segments relatively. The
source is only read, never changed.

The job around it (state, retries, backoff) is :mod:`streamer.jobs.replicate`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cache.cid import cid_of_bytes, cid_of_file, cid_to_bytes, normalise_cid
from cache.errors import InvalidCIDError, NotFoundError
from cache.providers import RunFolders, StorageBackend
from hls.mirror import content_type_for
from streamer.content.stores import hls_dir
from streamer.resources import Resources

__all__ = [
    "HLS_SUFFIXES",
    "MIN_RATE",
    "OBJECT_TIMEOUT",
    "ReplicaObject",
    "copy_objects",
    "run_objects",
]

log = logging.getLogger(__name__)

#: The files of a run's HLS folder that are copied: the playlist and the media segments.
HLS_SUFFIXES = (".m3u8", ".ts", ".m4s", ".mp4", ".aac")
#: Seconds one object's look-up may take before the attempt fails; an upload may take
#: this plus one second per :data:`MIN_RATE` bytes.
OBJECT_TIMEOUT = 300.0
#: The slowest upload rate (bytes/s) a provider is granted before it counts as stuck.
MIN_RATE = 1 << 20

Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class ReplicaObject:
    """One object of a run's copy: a local file, or bytes fetched from elsewhere.

    Attributes:
        name: what it is (``output``, ``playlist.m3u8``, a segment's file name).
        cid: its CID when known before reading (the output); None: computed from the file.
        path: the local file holding it (uploaded without being read whole where the
            backend allows), or None.
        fetch: reads its bytes when there is no local file.
        run_id: set for the run's HLS files: kept by ``name`` in the run's folder on
            a backend with run folders, by CID elsewhere.
    """

    name: str
    cid: str | None = None
    path: Path | None = None
    fetch: Callable[[], Awaitable[bytes]] | None = None
    run_id: str | None = None


def _hls_files(out_dir: Path) -> list[Path]:
    if not out_dir.is_dir():
        return []
    # hidden files are temporaries of atomic writes; playlists after the segments they name
    return sorted(
        (
            p
            for p in out_dir.iterdir()
            if p.is_file() and p.suffix in HLS_SUFFIXES and not p.name.startswith(".")
        ),
        key=lambda p: (p.suffix == ".m3u8", p.name),
    )


async def _from_ipfs(res: Resources, cid: str) -> bytes:
    if res.stores.ipfs is None:
        raise NotFoundError(f"{cid} is neither in the local cache nor on an IPFS node")
    return await res.stores.ipfs.cat(cid)


async def _output(res: Resources, cid: str) -> ReplicaObject:
    """The output: its file in the local content store, else fetched from the IPFS node."""
    local = res.stores.local
    if await asyncio.to_thread(local.has, cid):
        return ReplicaObject("output", cid, path=await asyncio.to_thread(local.path, cid))
    return ReplicaObject("output", cid, fetch=functools.partial(_from_ipfs, res, cid))


async def run_objects(res: Resources, run: dict[str, Any]) -> list[ReplicaObject]:
    """The objects of ``run``'s copy: output first, then the HLS folder's files by name."""
    objects: list[ReplicaObject] = []
    output = run.get("output_cid")
    if output:
        objects.append(await _output(res, str(output)))
    run_id = str(run["id"])
    for path in await asyncio.to_thread(_hls_files, hls_dir(res.settings, run_id)):
        objects.append(ReplicaObject(path.name, path=path, run_id=run_id))
    return objects


def _same(a: str, b: str) -> bool:
    try:
        cid_to_bytes(a)
        cid_to_bytes(b)
    except InvalidCIDError:
        return a == b
    return normalise_cid(a) == normalise_cid(b)


async def _bytes(obj: ReplicaObject) -> bytes:
    if obj.fetch is None:
        raise ValueError(f"{obj.name}: neither a file nor a source to read")
    return await obj.fetch()


def _upload_timeout(size: int) -> float:
    """Seconds an upload of ``size`` bytes may take: the base, plus 1 s per MiB."""
    return OBJECT_TIMEOUT + size / MIN_RATE


async def _copy_named(backend: RunFolders, run_id: str, obj: ReplicaObject) -> bool:
    """Put ``obj`` in the run's folder unless it is there; True when it was uploaded."""
    if await asyncio.wait_for(backend.has_run_file(run_id, obj.name), OBJECT_TIMEOUT):
        return False
    if obj.path is not None:
        data = await asyncio.to_thread(obj.path.read_bytes)
    else:
        data = await _bytes(obj)
    put = backend.put_run_file(run_id, obj.name, data, content_type_for(obj.name))
    await asyncio.wait_for(put, _upload_timeout(len(data)))
    return True


async def _copy_one(backend: StorageBackend, obj: ReplicaObject) -> bool:
    """Put ``obj`` unless the backend has it; True when it was uploaded."""
    if obj.run_id is not None and isinstance(backend, RunFolders):
        return await _copy_named(backend, obj.run_id, obj)
    data: bytes | None = None
    cid = obj.cid
    if cid is None and obj.path is not None:
        cid = await asyncio.to_thread(cid_of_file, obj.path)
    elif cid is None:
        data = await _bytes(obj)
        cid = await asyncio.to_thread(cid_of_bytes, data)
    if await asyncio.wait_for(backend.has(cid), OBJECT_TIMEOUT):
        return False
    if obj.path is not None:
        size = (await asyncio.to_thread(obj.path.stat)).st_size
        stored = await asyncio.wait_for(backend.put_file(obj.path), _upload_timeout(size))
    else:
        data = data if data is not None else await _bytes(obj)
        stored = await asyncio.wait_for(backend.put(data), _upload_timeout(len(data)))
    if not _same(stored, cid):  # e.g. an output added to IPFS with other CID options
        log.info("%s: %s stored as %s on %s", obj.name, cid, stored, backend.name)
    return True


async def copy_objects(
    backend: StorageBackend, objects: list[ReplicaObject], progress: Progress
) -> int:
    """Copy every object to ``backend`` in order; returns how many were uploaded.

    ``progress(done, total)`` is awaited before the first and after each object.
    The first failure (source or backend) propagates: what was copied stays.
    """
    total = len(objects)
    await progress(0, total)
    uploaded = 0
    for done, obj in enumerate(objects, start=1):
        try:
            uploaded += await _copy_one(backend, obj)
        except TimeoutError:
            raise TimeoutError(f"{obj.name}: the provider did not answer in time") from None
        await progress(done, total)
    return uploaded
