"""Adding content to the cache: streamed uploads and imports of files below ``IMPORT_ROOTS``.

Both hash the bytes into the local cache (the CID names the file), probe
what they are and record a ``cache_items`` row. With ``IPFS_PRIMARY=true``
the content is also added (and pinned) on the IPFS node; a failure there is
reported in :attr:`StoredContent.ipfs`, not raised.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from cache.cid import normalise_cid
from cache.errors import StorageError
from streamer.content import media
from streamer.content.items import KINDS, CacheEntry
from streamer.db import content as content_db
from streamer.errors import Denied, InvalidValue, Missing, Unprocessable
from streamer.resources import Resources

__all__ = [
    "IPFS_PRIMARY_MAX_BYTES",
    "MEDIA_KINDS",
    "IncomingFile",
    "IpfsCopy",
    "StoredContent",
    "import_file",
    "store_upload",
]

IPFS_PRIMARY_MAX_BYTES = 256 * 1024 * 1024  # add_bytes holds the file in memory
#: What a recipe input can be: a ``media_only`` upload must be one of these.
MEDIA_KINDS = ("video", "audio", "image")
_SUFFIX_RE = re.compile(r"^\.[A-Za-z0-9]{1,16}$")
_SOURCE_MAX = 300

log = logging.getLogger(__name__)


@dataclass
class IncomingFile:
    """An upload arriving as a stream of chunks.

    Attributes:
        chunks: the bytes.
        filename: its name; the request may name it up front (its suffix is kept
            on the stored file) or while streaming (a multipart part's header).
    """

    chunks: AsyncIterator[bytes]
    filename: str | None = None


@dataclass(frozen=True)
class IpfsCopy:
    """Whether IPFS-primary mode added the content on the node too (``detail`` says why not)."""

    added: bool
    cid: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class StoredContent:
    """Content now in the cache and recorded.

    Attributes:
        entry: the new record and local file.
        info: what the content is.
        ipfs: the IPFS-primary copy, None when that mode is off.
        filename: an upload's name (None when it had none, and for imports).
    """

    entry: CacheEntry
    info: media.MediaInfo
    ipfs: IpfsCopy | None = None
    filename: str | None = None


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix
    return suffix.lower() if _SUFFIX_RE.match(suffix) else ""


async def _add_to_ipfs(res: Resources, item_cid: str, size: int, path: Path) -> IpfsCopy:
    """IPFS-primary mode: add (and pin) the new content on the IPFS node too."""
    if size > IPFS_PRIMARY_MAX_BYTES:
        return IpfsCopy(False, detail=f"larger than {IPFS_PRIMARY_MAX_BYTES} bytes")
    ipfs = await res.stores.reachable_ipfs()
    if ipfs is None:
        return IpfsCopy(False, detail="IPFS node not reachable")
    try:
        data = await asyncio.to_thread(path.read_bytes)
        cid = await ipfs.add_bytes(data, pin=True)
    except StorageError as exc:
        log.warning("IPFS-primary add of %s failed: %s", item_cid, exc)
        return IpfsCopy(False, detail=str(exc))
    if normalise_cid(cid) != normalise_cid(item_cid):  # same bytes must give the same CID
        log.error("IPFS gave %s for content hashed locally as %s", cid, item_cid)
        return IpfsCopy(False, detail=f"IPFS computed a different CID {cid}")
    return IpfsCopy(True, cid=cid)


async def _record(
    res: Resources,
    cid: str,
    size: int,
    path: Path,
    source: str,
    info: media.MediaInfo | None = None,
) -> StoredContent:
    ipfs = None
    if res.settings.ipfs.primary:
        ipfs = await _add_to_ipfs(res, cid, size, path)
    if info is None:
        info = await asyncio.to_thread(media.probe, path)
    row = await content_db.put_cache_item(
        res.db,
        cid=cid,
        size=size,
        media_type=info.media_type,
        kind=info.kind if info.kind in KINDS else "other",
        path=str(path),
        source=source[:_SOURCE_MAX],
    )
    return StoredContent(CacheEntry(cid, row, path), info, ipfs)


async def _media_info(res: Resources, cid: str, path: Path, name: str | None) -> media.MediaInfo:
    """Probe a new upload; not video, audio or an image: drop it (unless recorded) and refuse."""
    info = await asyncio.to_thread(media.probe, path)
    if info.kind in MEDIA_KINDS:
        return info
    if await content_db.get_cache_item(res.db, cid) is None:  # the same bytes may be recorded
        await res.stores.local.adelete(cid)
    what = f"{name!r}" if name else "the upload"
    raise Unprocessable(
        f"unsupported type: {what} is not a video, audio or image file ({info.media_type})",
        field="file",
    )


async def store_upload(
    res: Resources, upload: IncomingFile, *, media_only: bool = False
) -> StoredContent:
    """Stream an upload into the cache (at most ``UPLOAD_MAX_BYTES``) and record it.

    Args:
        res: the resources.
        upload: the incoming stream.
        media_only: refuse (and drop) content that is not video, audio or an image.

    Raises:
        cache.errors.TooLargeError: the stream is longer than the limit (nothing is kept).
        InvalidValue: the upload is empty.
        Unprocessable: ``media_only`` and the content is of another kind (nothing kept).
    """
    local = res.stores.local
    limit = int(res.settings.storage.upload_max_bytes)
    # the suffix is only known up front from a name the request gave: the CID names the
    # content, the suffix only helps people reading the cache directory
    item = await local.put_stream(upload.chunks, max_bytes=limit, suffix=_suffix(upload.filename))
    if item.size == 0:
        await local.adelete(item.cid)
        raise InvalidValue("empty upload", field="file")
    name = upload.filename or ""
    info = await _media_info(res, item.cid, item.path, name) if media_only else None
    stored = await _record(res, item.cid, item.size, item.path, f"upload:{name}", info)
    return StoredContent(stored.entry, stored.info, stored.ipfs, name or None)


async def _resolve_import(res: Resources, path: str) -> Path:
    """The real file ``path`` names, checked against ``IMPORT_ROOTS`` (symlinks followed)."""
    roots = tuple(res.settings.storage.import_roots)
    if not roots:
        raise Denied("import is disabled: IMPORT_ROOTS is not set", field="path")
    if "\0" in path or not os.path.isabs(path):
        raise InvalidValue(f"path: {path!r} must be an absolute path", field="path")
    if ".." in Path(path).parts:
        raise InvalidValue(f"path: {path!r} must not contain '..'", field="path")

    def resolve() -> tuple[Path, list[Path]]:
        return Path(path).resolve(strict=True), [r.resolve() for r in roots]

    try:
        real, real_roots = await asyncio.to_thread(resolve)
    except (FileNotFoundError, NotADirectoryError):
        raise Missing(f"path: {path} does not exist", field="path") from None
    except (OSError, RuntimeError) as exc:
        raise InvalidValue(f"path: {path}: {exc}", field="path") from None
    if not any(real.is_relative_to(r) for r in real_roots):
        raise Denied(
            f"path: {path} is outside the import roots (symlinks are followed)", field="path"
        )
    if not await asyncio.to_thread(real.is_file):
        raise InvalidValue(f"path: {path} is not a regular file", field="path")
    return real


async def import_file(res: Resources, path: str) -> StoredContent:
    """Copy a file below one of ``IMPORT_ROOTS`` into the cache and record it.

    ``path`` must be absolute, without ``..``, and resolve (symlinks followed)
    to a regular file inside an import root.

    Raises:
        Denied: import is disabled, or ``path`` leads outside the roots.
        InvalidValue: ``path`` is relative, has ``..`` or is not a regular file.
        Missing: ``path`` does not exist.
        cache.errors.TooLargeError: the file is over ``UPLOAD_MAX_BYTES``.
    """
    real = await _resolve_import(res, path)
    limit = int(res.settings.storage.upload_max_bytes)
    item = await res.stores.local.aput_file(real, suffix=_suffix(real.name), max_bytes=limit)
    return await _record(res, item.cid, item.size, item.path, f"import:{real}")
