"""Files made from cached content, kept under ``CACHE_DIR/derived``: posters, waveforms, MP4s.

Each is made once (blocking work runs in threads) and read from disk after.
Content missing from the local cache is fetched from the IPFS node first
(:func:`ensure_local`).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from cache.errors import NotFoundError, StorageError
from streamer.content import media
from streamer.content.ids import check_cid
from streamer.errors import InvalidValue, Missing
from streamer.resources import Resources

__all__ = [
    "IPFS_FETCH_TIMEOUT",
    "WAVEFORM_POINTS",
    "derived_path",
    "drop_derived",
    "ensure_local",
    "local_path",
    "mp4",
    "poster",
    "waveform",
]

IPFS_FETCH_TIMEOUT = 30.0
#: The range of ``points`` a waveform may have.
WAVEFORM_POINTS = (1, 10000)


def derived_path(res: Resources, name: str) -> Path:
    """``CACHE_DIR/derived/<name>``."""
    return Path(res.settings.storage.cache_dir) / "derived" / name


async def local_path(res: Resources, cid: str) -> Path | None:
    """The file of ``cid`` in the local cache, or None."""
    try:
        return await asyncio.to_thread(res.stores.local.path, cid)
    except NotFoundError:
        return None


async def ensure_local(res: Resources, cid: str) -> Path:
    """The local file of ``cid``, fetched from IPFS into the cache when missing.

    Raises:
        Missing: neither the cache nor a reachable IPFS node has it.
    """
    path = await local_path(res, cid)
    if path is not None:
        return path
    stores = res.stores
    ipfs = await stores.reachable_ipfs() if stores is not None else None
    if ipfs is None:
        raise Missing(f"{cid} is not in the local cache (and no IPFS node answers)", field="cid")
    try:
        return await asyncio.wait_for(stores.read_through.path(cid), IPFS_FETCH_TIMEOUT)
    except (TimeoutError, StorageError) as exc:
        raise Missing(f"{cid} is not in the local cache nor on IPFS: {exc}", field="cid") from None


async def poster(res: Resources, cid: str) -> Path:
    """A JPEG poster frame (at most 640 px wide) of a video or image.

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: no such content, or it has no picture.
    """
    check_cid(cid)
    target = derived_path(res, f"{cid}.jpg")
    if not await asyncio.to_thread(target.is_file):
        path = await ensure_local(res, cid)
        try:
            await asyncio.to_thread(media.make_poster, path, target)
        except media.MediaError as exc:
            raise Missing(f"{cid} has no poster: {exc}", field="cid") from None
    return target


async def waveform(res: Resources, cid: str, points: int) -> dict[str, Any]:
    """``{"duration", "sample_rate", "peaks"}`` of the audio of ``cid`` in ``points`` buckets.

    Raises:
        InvalidValue: ``cid`` is malformed or ``points`` is outside :data:`WAVEFORM_POINTS`.
        Missing: no such content, or it has no audio.
    """
    check_cid(cid)
    low, high = WAVEFORM_POINTS
    if not low <= points <= high:
        raise InvalidValue(f"points: {points} is outside {low}..{high}", field="points")
    target = derived_path(res, f"{cid}.waveform-{points}.json")
    try:
        doc: dict[str, Any] = json.loads(await asyncio.to_thread(target.read_text))
    except (FileNotFoundError, ValueError):
        pass
    else:
        return doc
    path = await ensure_local(res, cid)
    try:
        doc = await asyncio.to_thread(media.make_waveform, path, points=points)
    except media.MediaError as exc:
        raise Missing(f"{cid} has no waveform: {exc}", field="cid") from None
    await asyncio.to_thread(_write_json, target, doc)
    return doc


def _write_json(target: Path, doc: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, target)


async def _mp4_sources(res: Resources, cid: str, path: Path) -> list[Path]:
    """The file itself, or the local files of an HLS playlist's segments."""
    info = await asyncio.to_thread(media.probe, path)
    if info.kind != "hls":
        if info.kind not in ("video", "audio"):
            raise InvalidValue(f"{cid} is {info.kind} content, not video or HLS", field="cid")
        return [path]
    text = await asyncio.to_thread(path.read_text, "utf-8", "replace")
    try:
        cids = media.hls_segment_cids(text)
    except media.MediaError as exc:
        raise InvalidValue(f"{cid}: {exc}", field="cid") from None
    return [await ensure_local(res, seg) for seg in cids]


async def mp4(res: Resources, cid: str) -> Path:
    """An MP4 of a video item or of an HLS playlist's segments (H.264/AAC copied).

    Raises:
        InvalidValue: ``cid`` is malformed, not video/HLS, or cannot be remuxed.
        Missing: no such content (or a segment of it).
    """
    check_cid(cid)
    target = derived_path(res, f"{cid}.mp4")
    if await asyncio.to_thread(target.is_file):
        return target
    async with res.locks.hold(f"mp4:{cid}"):  # one remux per CID at a time in this process
        if not await asyncio.to_thread(target.is_file):
            path = await ensure_local(res, cid)
            sources = await _mp4_sources(res, cid, path)
            try:
                await asyncio.to_thread(media.remux_mp4, sources, target)
            except media.MediaError as exc:
                raise InvalidValue(f"{cid}: cannot make an MP4: {exc}", field="cid") from None
    return target


async def drop_derived(res: Resources, cid: str) -> None:
    """Remove every file derived from ``cid``."""
    derived = derived_path(res, "")

    def drop() -> None:
        if derived.is_dir():
            for f in derived.glob(f"{cid}.*"):
                f.unlink(missing_ok=True)

    await asyncio.to_thread(drop)
