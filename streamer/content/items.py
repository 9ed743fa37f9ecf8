"""Cache items: their records, metadata (title, description, tags), deletion and the gallery.

An item is content in the local cache (``CACHE_DIR``), a row of
``cache_items``, or both (content fetched from IPFS has no row until it is
uploaded or imported; a row may outlive its file). The rules for metadata
are here; :mod:`api.cache` documents the same limits in its request model.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from streamer.content import media
from streamer.content.derived import drop_derived, ensure_local, local_path
from streamer.content.ids import check_cid
from streamer.db import content as content_db
from streamer.db import storage as storage_db
from streamer.errors import Conflict, InvalidValue, Missing
from streamer.federation import publish
from streamer.resources import Resources

__all__ = [
    "DESCRIPTION_MAX",
    "KINDS",
    "TAGS_MAX",
    "TAG_PATTERN",
    "TEXT_PATTERN",
    "TITLE_MAX",
    "CacheEntry",
    "ContentFile",
    "Described",
    "GalleryPage",
    "ItemMeta",
    "MediaKind",
    "Removal",
    "clean_meta",
    "content_file",
    "describe",
    "find",
    "gallery",
    "read_meta",
    "remove",
    "update_meta",
]

MediaKind = Literal["video", "audio", "image", "plan", "analysis", "hls", "other"]
#: What a cache item may be (``cache_items.kind``).
KINDS: tuple[MediaKind, ...] = get_args(MediaKind)
TITLE_MAX = 200
DESCRIPTION_MAX = 5000
TAGS_MAX = 50
#: A title or description: no control characters but newline and tab.
TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f]*$"
#: A tag, surrounding white space aside (it is stripped): 1-50 letters, digits,
#: spaces or ``_ . : + # / -``, neither starting nor ending with a space.
TAG_PATTERN = r"^\s*[\w.:+#/-](?:[\w .:+#/-]{0,48}[\w.:+#/-])?\s*$"
_TEXT_RE = re.compile(TEXT_PATTERN)
_TAG_RE = re.compile(TAG_PATTERN)


@dataclass(frozen=True)
class CacheEntry:
    """What is known of one CID: its record (with metadata) and its local file."""

    cid: str
    row: dict[str, Any] | None
    path: Path | None


@dataclass(frozen=True)
class Described:
    """An entry with its probed media information and its kind (record first, else probed)."""

    entry: CacheEntry
    info: media.MediaInfo
    kind: str


@dataclass(frozen=True)
class ItemMeta:
    """The editable metadata of a recorded item."""

    cid: str
    title: str | None
    description: str | None
    tags: list[str]


@dataclass(frozen=True)
class Removal:
    """What deleting an item removed."""

    cid: str
    file_removed: bool
    record_removed: bool


@dataclass(frozen=True)
class ContentFile:
    """The local file of a CID and the media type to serve it as."""

    path: Path
    media_type: str


@dataclass(frozen=True)
class GalleryPage:
    """One page of recorded items, newest first, and how many there are in all."""

    rows: list[dict[str, Any]]
    total: int


async def find(res: Resources, cid: str) -> CacheEntry:
    """The record and local file of ``cid``.

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: neither a record nor a local file exists.
    """
    check_cid(cid)
    row = await content_db.get_cache_item(res.db, cid)
    path = await local_path(res, cid)
    if row is None and path is None:
        raise Missing(f"{cid} is not in the cache", field="cid")
    return CacheEntry(cid, row, path)


async def describe(res: Resources, cid: str) -> Described:
    """:func:`find` plus the media information of the local file (if any)."""
    entry = await find(res, cid)
    info = media.MediaInfo()
    if entry.path is not None:
        info = await asyncio.to_thread(media.probe, entry.path)
    kind = (entry.row or {}).get("kind") or info.kind
    return Described(entry, info, str(kind))


async def content_file(res: Resources, cid: str) -> ContentFile:
    """The local file of ``cid`` (fetched from IPFS when missing) and its media type.

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: neither the cache nor a reachable IPFS node has it.
    """
    check_cid(cid)
    path = await ensure_local(res, cid)
    row = await content_db.get_cache_item(res.db, cid)
    return ContentFile(path, (row or {}).get("media_type") or "application/octet-stream")


async def read_meta(res: Resources, cid: str) -> ItemMeta:
    """The title, description and tags of a recorded item.

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: ``cid`` has no record.
    """
    check_cid(cid)
    row = await content_db.get_cache_item(res.db, cid)
    if row is None:
        raise Missing(f"{cid} is not a recorded cache item", field="cid")
    return ItemMeta(cid, row.get("title"), row.get("description"), list(row.get("tags") or []))


def _clean_text(name: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{name}: expected a string or null", field=name)
    if len(value) > limit:
        raise InvalidValue(f"{name}: longer than {limit} characters", field=name)
    if not _TEXT_RE.match(value):
        raise InvalidValue(f"{name}: control characters are not allowed", field=name)
    return value.strip()


def _clean_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list) or len(tags) > TAGS_MAX:
        raise InvalidValue(f"tags: expected a list of at most {TAGS_MAX} strings", field="tags")
    clean: list[str] = []
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or not _TAG_RE.match(tag):
            raise InvalidValue(
                f"tags[{i}]: {tag!r} must be 1-50 letters, digits, spaces or _ . : + # / -",
                field=f"tags[{i}]",
            )
        if tag.strip() not in clean:
            clean.append(tag.strip())
    return clean


def clean_meta(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise a metadata change: texts stripped, tags stripped and deduplicated.

    Only ``title``, ``description`` and ``tags`` may be given; a None title or
    description clears it.

    Raises:
        InvalidValue: naming the field at fault.
    """
    unknown = sorted(set(fields) - {"title", "description", "tags"})
    if unknown:
        raise InvalidValue(
            f"unknown field(s) {', '.join(unknown)}; accepted: title, description, tags",
            field=unknown[0],
        )
    out: dict[str, Any] = {}
    for name, limit in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
        if name in fields:
            out[name] = _clean_text(name, fields[name], limit)
    if "tags" in fields:
        out["tags"] = _clean_tags(fields["tags"])
    return out


async def update_meta(res: Resources, cid: str, fields: Mapping[str, Any]) -> ItemMeta:
    """Replace the fields given (see :func:`clean_meta`); returns the metadata after.

    Raises:
        InvalidValue: ``cid`` or a field is malformed.
        Missing: ``cid`` has no record.
    """
    check_cid(cid)
    clean = clean_meta(fields)
    if await content_db.get_cache_item(res.db, cid) is None:
        raise Missing(f"{cid} is not a recorded cache item", field="cid")
    await storage_db.put_cache_meta(res.db, cid, clean)
    return await read_meta(res, cid)


async def _usage(res: Resources, cid: str) -> list[str]:
    """Why ``cid`` may not be deleted: pins, runs and recipes that use it."""
    usage = await storage_db.cache_usage(res.db, cid)
    reasons = []
    if usage.pins:
        reasons.append(f"pinned on {usage.pins} storage provider(s)")
    if usage.runs:
        reasons.append("used by run(s) " + ", ".join(usage.runs))
    if usage.recipes:
        reasons.append("used by recipe(s) " + ", ".join(usage.recipes))
    return reasons


async def remove(res: Resources, cid: str) -> Removal:
    """Delete the local file, the files derived from it and the record.

    When the item was published to L2, a ``Delete`` is sent there
    (:func:`streamer.federation.publish.retract`).

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: nothing is stored under ``cid``.
        Conflict: it is pinned or used by a run or a recipe.
    """
    entry = await find(res, cid)
    reasons = await _usage(res, cid)
    if reasons:
        raise Conflict(f"{cid} cannot be deleted: {'; '.join(reasons)}", field="cid")
    removed = await res.stores.local.adelete(cid)
    await drop_derived(res, cid)
    await storage_db.delete_cache_item(res.db, cid)
    await publish.retract(res, cid, user=None)
    return Removal(cid, bool(removed), entry.row is not None)


async def gallery(res: Resources, *, kind: str | None, limit: int, offset: int) -> GalleryPage:
    """Recorded items newest first, optionally of one kind (paging is the caller's check).

    Raises:
        InvalidValue: ``kind`` is not one of :data:`KINDS`.
    """
    if kind is not None and kind not in KINDS:
        raise InvalidValue(f"kind: {kind!r} is not one of {', '.join(KINDS)}", field="kind")
    total = await storage_db.count_cache_items(res.db, kind=kind)
    rows = await storage_db.list_cache_items(res.db, kind=kind, limit=limit, offset=offset)
    return GalleryPage(rows, int(total))
