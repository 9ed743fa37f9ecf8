"""Request and response models of the cache API (``/cache``, ``/api/media``).

The limits are the ones :mod:`streamer.content.items` enforces; the models
carry them so the OpenAPI document shows them and the request body is
checked before a handler runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar.params import Parameter
from msgspec import UNSET, Meta, Struct, UnsetType

from streamer.content.ids import CID_PATTERN
from streamer.content.ingest import IpfsCopy, StoredContent
from streamer.content.items import (
    DESCRIPTION_MAX,
    TAG_PATTERN,
    TAGS_MAX,
    TEXT_PATTERN,
    TITLE_MAX,
    CacheEntry,
    Described,
    ItemMeta,
    MediaKind,
    Removal,
)
from streamer.content.media import MediaInfo

__all__ = [
    "CacheItem",
    "CacheItemDetail",
    "CacheLinks",
    "CacheMeta",
    "CacheMetaUpdate",
    "Cid",
    "CidPath",
    "IpfsCopyDoc",
    "MediaInfoDoc",
    "MediaItem",
    "MediaPage",
    "Preview",
    "Removed",
    "StoredItem",
    "UploadedItem",
    "Waveform",
]

#: A CID in a response.
Cid = Annotated[str, Meta(pattern=CID_PATTERN, description="content identifier (CID)")]
#: A CID in a path (checked by the handler's service: a malformed one is a 400 naming ``cid``).
CidPath = Annotated[
    str,
    Parameter(description="content identifier (CID)", schema_extra={"pattern": CID_PATTERN}),
]


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else value


class CacheLinks(Struct, kw_only=True):
    """Where to get the item and its parts."""

    self_: str = msgspec.field(name="self")
    raw: str
    meta: str
    ipfs: str
    poster: Annotated[str, Meta(description="gallery only, for video and image")] | UnsetType = (
        UNSET
    )

    @classmethod
    def of(cls, cid: str) -> CacheLinks:
        """The links of ``cid``."""
        return cls(
            self_=f"/cache/{cid}",
            raw=f"/cache/{cid}/raw",
            meta=f"/cache/{cid}/meta",
            ipfs=f"/ipfs/{cid}",
        )


class MediaItem(Struct, kw_only=True):
    """A recorded cache item as the gallery lists it."""

    cid: Cid
    size: Annotated[int, Meta(description="bytes")] | None
    media_type: str | None
    kind: MediaKind | None
    title: str | None
    description: str | None
    tags: list[str]
    source: Annotated[str, Meta(description="`upload:<name>` or `import:<path>`")] | None
    created_at: Annotated[str, Meta(description="ISO 8601")] | None
    links: CacheLinks

    @staticmethod
    def fields_of(entry: CacheEntry) -> dict[str, Any]:
        """The shared fields of an entry (a local file alone gives its size)."""
        row = entry.row or {}
        size = row.get("size") if row else (entry.path.stat().st_size if entry.path else None)
        return {
            "cid": entry.cid,
            "size": size,
            "media_type": row.get("media_type"),
            "kind": row.get("kind"),
            "title": row.get("title"),
            "description": row.get("description"),
            "tags": list(row.get("tags") or []),
            "source": row.get("source"),
            "created_at": _iso(row.get("created_at")),
            "links": CacheLinks.of(entry.cid),
        }

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> MediaItem:
        """A gallery entry (video and image items link their poster)."""
        item = cls(**cls.fields_of(CacheEntry(str(row["cid"]), row, None)))
        if row.get("kind") in ("video", "image"):
            item.links.poster = f"/cache/{row['cid']}/poster.jpg"
        return item


class CacheItem(MediaItem, kw_only=True):
    """A cache item and whether its bytes are in the local cache."""

    local: bool


class VideoStream(Struct, kw_only=True):
    """The first video stream."""

    codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    frames: Annotated[int, Meta(description="when the container says")] | None


class AudioStream(Struct, kw_only=True):
    """The first audio stream."""

    codec: str | None
    sample_rate: int | None
    channels: int | None


class MediaInfoDoc(Struct, kw_only=True):
    """What the content is, as probed."""

    kind: MediaKind
    media_type: str
    format: Annotated[str, Meta(description="container format (FFmpeg's name)")] | None
    duration: Annotated[float, Meta(description="seconds")] | None
    video: VideoStream | None
    audio: AudioStream | None
    extra: dict[str, Any]

    @classmethod
    def of(cls, info: MediaInfo) -> MediaInfoDoc:
        """The document of a probe result."""
        return msgspec.convert(info.to_json(), cls)


class Preview(Struct, kw_only=True):
    """Preview links for the kinds that have them."""

    duration: Annotated[float, Meta(description="seconds")] | None
    poster: Annotated[str, Meta(description="video and image")] | UnsetType = UNSET
    mp4: Annotated[str, Meta(description="video and HLS")] | UnsetType = UNSET
    waveform: Annotated[str, Meta(description="content with audio")] | UnsetType = UNSET


class CacheItemDetail(CacheItem, kw_only=True):
    """``GET /cache/{cid}``: the item, its media information and preview links."""

    info: MediaInfoDoc
    preview: Preview

    @classmethod
    def of(cls, described: Described) -> CacheItemDetail:
        """The detail of a described item (kind and media type fall back to the probe)."""
        entry, info, kind = described.entry, described.info, described.kind
        fields = MediaItem.fields_of(entry)
        fields["kind"] = kind
        fields["media_type"] = fields["media_type"] or info.media_type
        preview = Preview(duration=info.duration)
        if kind in ("video", "image"):
            preview.poster = f"/cache/{entry.cid}/poster.jpg"
        if kind in ("video", "hls"):
            preview.mp4 = f"/cache/{entry.cid}/mp4"
        if info.audio is not None or kind == "audio":
            preview.waveform = f"/cache/{entry.cid}/waveform"
        return cls(
            **fields, local=entry.path is not None, info=MediaInfoDoc.of(info), preview=preview
        )


class IpfsCopyDoc(Struct, kw_only=True):
    """IPFS-primary mode: whether the content was added (and pinned) on the node too."""

    added: bool
    cid: Cid | UnsetType = UNSET
    detail: Annotated[str, Meta(description="why it was not added")] | UnsetType = UNSET

    @classmethod
    def of(cls, copy: IpfsCopy) -> IpfsCopyDoc:
        """The document of a copy's outcome."""
        doc = cls(added=copy.added)
        if copy.cid is not None:
            doc.cid = copy.cid
        if copy.detail is not None:
            doc.detail = copy.detail
        return doc


class StoredItem(CacheItem, kw_only=True):
    """``POST /cache/import``: the new item (``ipfs`` only with ``IPFS_PRIMARY=true``)."""

    info: MediaInfoDoc
    ipfs: IpfsCopyDoc | UnsetType = UNSET

    @staticmethod
    def fields_of_stored(stored: StoredContent) -> dict[str, Any]:
        """The fields of newly stored content."""
        fields = MediaItem.fields_of(stored.entry)
        fields["local"] = stored.entry.path is not None
        fields["info"] = MediaInfoDoc.of(stored.info)
        if stored.ipfs is not None:
            fields["ipfs"] = IpfsCopyDoc.of(stored.ipfs)
        return fields

    @classmethod
    def of(cls, stored: StoredContent) -> StoredItem:
        """The answer to an import."""
        return cls(**cls.fields_of_stored(stored))


class UploadedItem(StoredItem, kw_only=True):
    """``POST /cache/upload``: the new item and the name it was uploaded under."""

    filename: str | None

    @classmethod
    def of(cls, stored: StoredContent) -> UploadedItem:
        """The answer to an upload."""
        return cls(**cls.fields_of_stored(stored), filename=stored.filename)


class Waveform(Struct, kw_only=True):
    """Peak amplitude per bucket, and the audio's duration."""

    duration: Annotated[float, Meta(description="seconds")]
    sample_rate: Annotated[int, Meta(description="rate the peaks were measured at")]
    peaks: Annotated[list[float], Meta(description="one peak per bucket, 0..1")]


# plain JSON schema: Litestar copies ``extra`` values into the document as they are
_TAG_ITEM = {
    "type": "string",
    "pattern": TAG_PATTERN,
    "description": "1-50 letters, digits, spaces or _ . : + # / - (surrounding spaces stripped)",
}


_TEXT_RULE = "stripped; null clears it; no control characters but newline and tab"
Title = Annotated[str, Meta(max_length=TITLE_MAX, pattern=TEXT_PATTERN, description=_TEXT_RULE)]
Description = Annotated[
    str, Meta(max_length=DESCRIPTION_MAX, pattern=TEXT_PATTERN, description=_TEXT_RULE)
]
Tags = Annotated[
    list[Annotated[str, Meta(pattern=TAG_PATTERN)]],
    Meta(
        max_length=TAGS_MAX,
        description="replaces the tags (stripped, duplicates dropped)",
        extra_json_schema={"extra": {"items": _TAG_ITEM}},
    ),
]


class CacheMetaUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /cache/{cid}/meta``: the fields given replace the stored ones."""

    title: Title | UnsetType | None = UNSET
    description: Description | UnsetType | None = UNSET
    tags: Tags | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        """The fields given, by name."""
        return {
            name: value
            for name in ("title", "description", "tags")
            if (value := getattr(self, name)) is not UNSET
        }


class CacheMeta(Struct, kw_only=True):
    """The title, description and tags of a recorded item."""

    cid: Cid
    title: str | None
    description: str | None
    tags: list[str]

    @classmethod
    def of(cls, meta: ItemMeta) -> CacheMeta:
        """The document of an item's metadata."""
        return cls(cid=meta.cid, title=meta.title, description=meta.description, tags=meta.tags)


class Removed(Struct, kw_only=True):
    """What ``DELETE /cache/{cid}`` removed."""

    deleted: Cid
    file_removed: bool
    record_removed: bool

    @classmethod
    def of(cls, removal: Removal) -> Removed:
        """The document of a removal."""
        return cls(
            deleted=removal.cid,
            file_removed=removal.file_removed,
            record_removed=removal.record_removed,
        )


class MediaPage(Struct, kw_only=True):
    """One page of the gallery, newest first."""

    items: list[MediaItem]
    total: Annotated[int, Meta(description="items of this kind in all")]
    limit: int
    offset: int
