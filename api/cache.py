"""Cache API: content by CID with previews, byte ranges, MP4, metadata, upload and import.

- ``GET /cache/{cid}``: metadata, media info and preview links.
- ``GET /cache/{cid}/raw``: the bytes, with ``Range`` support (206/416).
- ``GET /cache/{cid}/poster.jpg``: a poster frame of a video or image.
- ``GET /cache/{cid}/waveform``: audio peaks and duration (JSON).
- ``GET /cache/{cid}/mp4``: an MP4 of a video item or of an HLS playlist's
  segments (remuxed once, then served from ``CACHE_DIR/derived``), with ranges.
- ``GET|PATCH /cache/{cid}/meta``: title, description, tags.
- ``DELETE /cache/{cid}``: 409 while pinned or used by a run or a recipe.
- ``POST /cache/upload``: multipart file or raw body, streamed to the local
  cache (CID computed while streaming), ``UPLOAD_MAX_BYTES`` -> 413.
- ``POST /cache/import?path=``: a file below one of ``IMPORT_ROOTS``.
- ``POST /cache/{cid}/publish``: 501 until L2 federation lands.
- With ``IPFS_PRIMARY=true`` uploads and imports are also added (pinned) on IPFS.
- ``GET /api/media`` (and ``GET /media``, where browsers get the web page): the
  gallery as JSON.

Blocking work (hashing, probing, decoding, remuxing) runs in threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from api.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RangeNotSatisfiable,
    error_response,
)
from api.models import MAX_LIMIT, check_cid, check_paging, iso
from cache.cid import normalise_cid
from cache.errors import NotFoundError, StorageError, TooLargeError
from cache.local import LocalStore
from streamer.content import media
from streamer.content.stores import fetch_into_local
from streamer.db import content as content_db
from streamer.db import storage as repo_storage
from streamer.resources import Resources

__all__ = [
    "MAX_LIMIT",
    "cache_router",
    "parse_range",
    "serve_file",
]

MULTIPART_OVERHEAD = 1 << 20
PIECE = 256 * 1024
IPFS_FETCH_TIMEOUT = 30.0
IPFS_PRIMARY_MAX_BYTES = 256 * 1024 * 1024  # add_bytes holds the file in memory
KINDS = ("video", "audio", "image", "plan", "analysis", "hls", "other")
_SUFFIX_RE = re.compile(r"^\.[A-Za-z0-9]{1,16}$")
_TAG_RE = re.compile(r"^[\w .:+#/-]{1,50}$")

log = logging.getLogger(__name__)


class NotImplementedYet(ApiError):
    """501: a feature that a later issue implements."""

    status = 501


# --- helpers ----------------------------------------------------------------------------


def _local(res: Resources) -> LocalStore:
    return res.stores.local  # type: ignore[no-any-return]


def _derived(res: Resources, name: str) -> Path:
    return Path(res.settings.storage.cache_dir) / "derived" / name


async def _local_path(res: Resources, cid: str) -> Path | None:
    try:
        return await asyncio.to_thread(_local(res).path, cid)
    except NotFoundError:
        return None


async def _ensure_local(res: Resources, cid: str) -> Path:
    """The local file of ``cid``, fetched from IPFS into the cache when missing."""
    path = await _local_path(res, cid)
    if path is not None:
        return path
    stores = res.stores
    ipfs = await stores.reachable_ipfs() if stores is not None else None
    if ipfs is None:
        raise NotFound(f"{cid} is not in the local cache (and no IPFS node answers)", field="cid")
    try:
        return await asyncio.wait_for(fetch_into_local(_local(res), ipfs, cid), IPFS_FETCH_TIMEOUT)
    except (TimeoutError, StorageError) as exc:
        raise NotFound(f"{cid} is not in the local cache nor on IPFS: {exc}", field="cid") from None


async def _item_or_local(res: Resources, cid: str) -> tuple[dict[str, Any] | None, Path | None]:
    check_cid(cid)
    row = await content_db.get_cache_item(res.db, cid)
    path = await _local_path(res, cid)
    if row is None and path is None:
        raise NotFound(f"{cid} is not in the cache", field="cid")
    return row, path


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range of a ``Range`` header, or None to send everything.

    Unknown units, malformed and multi-range headers are ignored (RFC 9110
    allows it); a well-formed range that lies outside the content raises
    :class:`RangeNotSatisfiable`.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(f"range {header!r} selects nothing of {size} bytes")
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(f"range {header!r} starts beyond the {size} bytes")
    return start, end


async def _read_span(path: Path, start: int, end: int) -> AsyncIterator[bytes]:
    fh = await asyncio.to_thread(path.open, "rb")
    try:
        await asyncio.to_thread(fh.seek, start)
        left = end - start + 1
        while left > 0:
            piece = await asyncio.to_thread(fh.read, min(PIECE, left))
            if not piece:
                break
            left -= len(piece)
            yield piece
    finally:
        await asyncio.to_thread(fh.close)


async def serve_file(
    request: Request[Any, Any, Any], path: Path, media_type: str, etag: str
) -> Response[Any]:
    """Stream ``path`` honouring a single ``Range`` (206, ``Content-Range``; 416 outside)
    and ``If-None-Match`` (304)."""
    size = (await asyncio.to_thread(path.stat)).st_size
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    if request.headers.get("if-none-match") in (headers["ETag"], f"W/{headers['ETag']}"):
        return Response(b"", status_code=304, headers=headers)  # content never changes
    try:
        span = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable as exc:
        return error_response(
            416, exc.detail, field="Range", headers={**headers, "Content-Range": f"bytes */{size}"}
        )
    if span is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = span, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(max(end - start + 1, 0))
    return Stream(
        _read_span(path, start, end), status_code=status, media_type=media_type, headers=headers
    )


def _public(row: dict[str, Any] | None, cid: str, path: Path | None) -> dict[str, Any]:
    row = row or {}
    return {
        "cid": cid,
        "size": row.get("size") if row else (path.stat().st_size if path else None),
        "media_type": row.get("media_type"),
        "kind": row.get("kind"),
        "title": row.get("title"),
        "description": row.get("description"),
        "tags": list(row.get("tags") or []),
        "source": row.get("source"),
        "created_at": iso(row.get("created_at")),
        "local": path is not None,
        "links": {
            "self": f"/cache/{cid}",
            "raw": f"/cache/{cid}/raw",
            "meta": f"/cache/{cid}/meta",
            "ipfs": f"/ipfs/{cid}",
        },
    }


def _preview(cid: str, kind: str | None, info: media.MediaInfo) -> dict[str, Any]:
    preview: dict[str, Any] = {"duration": info.duration}
    if kind in ("video", "image"):
        preview["poster"] = f"/cache/{cid}/poster.jpg"
    if kind in ("video", "hls"):
        preview["mp4"] = f"/cache/{cid}/mp4"
    if info.audio is not None or kind == "audio":
        preview["waveform"] = f"/cache/{cid}/waveform"
    return preview


async def _add_to_ipfs(res: Resources, item_cid: str, size: int, path: Path) -> dict[str, Any]:
    """IPFS-primary mode: add (and pin) the new content on the IPFS node too."""
    if size > IPFS_PRIMARY_MAX_BYTES:
        return {"added": False, "detail": f"larger than {IPFS_PRIMARY_MAX_BYTES} bytes"}
    stores = res.stores
    ipfs = await stores.reachable_ipfs() if stores is not None else None
    if ipfs is None:
        return {"added": False, "detail": "IPFS node not reachable"}
    try:
        data = await asyncio.to_thread(path.read_bytes)
        cid = await ipfs.add_bytes(data, pin=True)
    except StorageError as exc:
        log.warning("IPFS-primary add of %s failed: %s", item_cid, exc)
        return {"added": False, "detail": str(exc)}
    if normalise_cid(cid) != normalise_cid(item_cid):  # same bytes must give the same CID
        log.error("IPFS gave %s for content hashed locally as %s", cid, item_cid)
        return {"added": False, "detail": f"IPFS computed a different CID {cid}"}
    return {"added": True, "cid": cid}


async def _record(
    res: Resources, item_cid: str, size: int, path: Path, source: str
) -> dict[str, Any]:
    ipfs = None
    if res.settings.ipfs.primary:
        ipfs = await _add_to_ipfs(res, item_cid, size, path)
    info = await asyncio.to_thread(media.probe, path)
    row = await content_db.put_cache_item(
        res.db,
        cid=item_cid,
        size=size,
        media_type=info.media_type,
        kind=info.kind if info.kind in KINDS else "other",
        path=str(path),
        source=source,
    )
    out = _public(row, item_cid, path)
    out["info"] = info.to_json()
    if ipfs is not None:
        out["ipfs"] = ipfs
    return out


# --- reading -------------------------------------------------------------------------------


@get("/cache/{cid:str}", summary="Cached content: metadata and preview")
async def get_item(res: Resources, cid: FromPath[str]) -> dict[str, Any]:
    """Metadata, media info (duration, streams) and preview links."""
    row, path = await _item_or_local(res, cid)
    out = _public(row, cid, path)
    info = await asyncio.to_thread(media.probe, path) if path is not None else media.MediaInfo()
    kind = (row or {}).get("kind") or info.kind
    out["kind"] = kind
    out["media_type"] = out["media_type"] or info.media_type
    out["info"] = info.to_json()
    out["preview"] = _preview(cid, kind, info)
    return out


@get("/cache/{cid:str}/raw", summary="Raw content (byte ranges supported)")
async def get_raw(
    res: Resources, request: Request[Any, Any, State], cid: FromPath[str]
) -> Response[Any]:
    """The stored bytes; ``Range: bytes=a-b`` answers 206, outside the content 416."""
    check_cid(cid)
    path = await _ensure_local(res, cid)
    row = await content_db.get_cache_item(res.db, cid)
    media_type = (row or {}).get("media_type") or "application/octet-stream"
    return await serve_file(request, path, media_type, cid)


@get("/cache/{cid:str}/poster.jpg", summary="Poster frame of a video or image")
async def get_poster(
    res: Resources, request: Request[Any, Any, State], cid: FromPath[str]
) -> Response[Any]:
    """A JPEG (at most 640 px wide) made once and kept under ``CACHE_DIR/derived``."""
    check_cid(cid)
    target = _derived(res, f"{cid}.jpg")
    if not await asyncio.to_thread(target.is_file):
        path = await _ensure_local(res, cid)
        try:
            await asyncio.to_thread(media.make_poster, path, target)
        except media.MediaError as exc:
            raise NotFound(f"{cid} has no poster: {exc}", field="cid") from None
    return await serve_file(request, target, "image/jpeg", f"{cid}-poster")


@get("/cache/{cid:str}/waveform", summary="Audio waveform peaks and duration")
async def get_waveform(res: Resources, cid: FromPath[str], points: FromQuery[int] = 800) -> Any:
    """``{"duration", "sample_rate", "peaks": [0..1, ...]}`` with ``points`` buckets."""
    check_cid(cid)
    if not 1 <= points <= 10000:
        raise BadRequest(f"points: {points} is outside 1..10000", field="points")
    target = _derived(res, f"{cid}.waveform-{points}.json")
    try:
        return json.loads(await asyncio.to_thread(target.read_text))
    except (FileNotFoundError, ValueError):
        pass
    path = await _ensure_local(res, cid)
    try:
        doc = await asyncio.to_thread(media.make_waveform, path, points=points)
    except media.MediaError as exc:
        raise NotFound(f"{cid} has no waveform: {exc}", field="cid") from None
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
            raise BadRequest(f"{cid} is {info.kind} content, not video or HLS", field="cid")
        return [path]
    text = await asyncio.to_thread(path.read_text, "utf-8", "replace")
    try:
        cids = media.hls_segment_cids(text)
    except media.MediaError as exc:
        raise BadRequest(f"{cid}: {exc}", field="cid") from None
    return [await _ensure_local(res, seg) for seg in cids]


@get("/cache/{cid:str}/mp4", summary="MP4 of a video or of an HLS output")
async def get_mp4(
    res: Resources, request: Request[Any, Any, State], cid: FromPath[str]
) -> Response[Any]:
    """Remuxed once (H.264/AAC copied, other codecs encoded) and cached; ranges supported."""
    check_cid(cid)
    target = _derived(res, f"{cid}.mp4")
    if not await asyncio.to_thread(target.is_file):
        async with res.locks.hold(f"mp4:{cid}"):  # one remux per CID at a time in this process
            if not await asyncio.to_thread(target.is_file):
                path = await _ensure_local(res, cid)
                sources = await _mp4_sources(res, cid, path)
                try:
                    await asyncio.to_thread(media.remux_mp4, sources, target)
                except media.MediaError as exc:
                    raise BadRequest(f"{cid}: cannot make an MP4: {exc}", field="cid") from None
    return await serve_file(request, target, "video/mp4", f"{cid}-mp4")


async def _meta(res: Resources, cid: str) -> dict[str, Any]:
    check_cid(cid)
    row = await content_db.get_cache_item(res.db, cid)
    if row is None:
        raise NotFound(f"{cid} is not a recorded cache item", field="cid")
    return {
        "cid": cid,
        "title": row.get("title"),
        "description": row.get("description"),
        "tags": list(row.get("tags") or []),
    }


@get("/cache/{cid:str}/meta", summary="Title, description and tags")
async def get_meta(res: Resources, cid: FromPath[str]) -> dict[str, Any]:
    """``{"cid", "title", "description", "tags"}`` of a recorded item."""
    return await _meta(res, cid)


def _parse_meta(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise BadRequest(f"expected a JSON object, got {type(doc).__name__}")
    unknown = sorted(set(doc) - {"title", "description", "tags"})
    if unknown:
        raise BadRequest(
            f"unknown field(s) {', '.join(unknown)}; accepted: title, description, tags",
            field=unknown[0],
        )
    out: dict[str, Any] = {}
    for name, limit in (("title", 200), ("description", 5000)):
        if name in doc:
            value = doc[name]
            if value is not None and not isinstance(value, str):
                raise BadRequest(f"{name}: expected a string or null", field=name)
            if isinstance(value, str) and len(value) > limit:
                raise BadRequest(f"{name}: longer than {limit} characters", field=name)
            if isinstance(value, str) and any(ord(c) < 32 and c not in "\n\t" for c in value):
                raise BadRequest(f"{name}: control characters are not allowed", field=name)
            out[name] = value.strip() if isinstance(value, str) else None
    if "tags" in doc:
        tags = doc["tags"]
        if not isinstance(tags, list) or len(tags) > 50:
            raise BadRequest("tags: expected a list of at most 50 strings", field="tags")
        clean: list[str] = []
        for i, tag in enumerate(tags):
            if not isinstance(tag, str) or not _TAG_RE.match(tag.strip()):
                raise BadRequest(
                    f"tags[{i}]: {tag!r} must be 1-50 letters, digits, spaces or _ . : + # / -",
                    field=f"tags[{i}]",
                )
            if tag.strip() not in clean:
                clean.append(tag.strip())
        out["tags"] = clean
    return out


@patch("/cache/{cid:str}/meta", summary="Update title, description and tags")
async def patch_meta(
    res: Resources, request: Request[Any, Any, State], cid: FromPath[str]
) -> dict[str, Any]:
    """Fields given replace the stored ones; ``null`` clears title/description."""
    check_cid(cid)
    try:
        doc = await request.json()
    except Exception:
        raise BadRequest("body: expected a JSON object") from None
    fields = _parse_meta(doc)
    if await content_db.get_cache_item(res.db, cid) is None:
        raise NotFound(f"{cid} is not a recorded cache item", field="cid")
    await repo_storage.put_cache_meta(res.db, cid, fields)
    return await _meta(res, cid)


# --- deleting ------------------------------------------------------------------------------


async def _usage(db: Any, cid: str) -> list[str]:
    """Why ``cid`` may not be deleted: pins, runs and recipes that use it."""
    usage = await repo_storage.cache_usage(db, cid)
    reasons = []
    if usage.pins:
        reasons.append(f"pinned on {usage.pins} storage provider(s)")
    if usage.runs:
        reasons.append("used by run(s) " + ", ".join(usage.runs))
    if usage.recipes:
        reasons.append("used by recipe(s) " + ", ".join(usage.recipes))
    return reasons


@delete("/cache/{cid:str}", status_code=200, summary="Delete cached content")
async def delete_item(res: Resources, cid: FromPath[str]) -> dict[str, Any]:
    """Remove the local file, its derived previews and its record; 409 while in use."""
    row, _path = await _item_or_local(res, cid)
    reasons = await _usage(res.db, cid)
    if reasons:
        raise Conflict(f"{cid} cannot be deleted: {'; '.join(reasons)}", field="cid")
    removed = await _local(res).adelete(cid)
    derived = _derived(res, "")

    def drop_derived() -> None:
        if derived.is_dir():
            for f in derived.glob(f"{cid}.*"):
                f.unlink(missing_ok=True)

    await asyncio.to_thread(drop_derived)
    await repo_storage.delete_cache_item(res.db, cid)
    return {"deleted": cid, "file_removed": removed, "record_removed": row is not None}


# --- adding --------------------------------------------------------------------------------


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix
    return suffix.lower() if _SUFFIX_RE.match(suffix) else ""


async def _multipart_file(
    request: Request[Any, Any, Any], boundary: str, meta: dict[str, Any]
) -> AsyncIterator[bytes]:
    """Yield the bytes of the first file part of a streamed multipart body."""
    from multipart import MultipartError, MultipartSegment, PushMultipartParser

    state = "before"  # before -> in -> after the file part
    try:
        with PushMultipartParser(boundary) as parser:
            async for chunk in request.stream():
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        if state == "before" and (
                            event.filename is not None or event.name == "file"
                        ):
                            state = "in"
                            meta["filename"] = event.filename
                    elif event is None:
                        if state == "in":
                            state = "after"
                    elif state == "in":
                        yield bytes(event)
    except MultipartError as exc:
        raise BadRequest(f"malformed multipart body: {exc}", field="file") from None
    if state == "before":
        raise BadRequest("the multipart body has no file part", field="file")


async def _raw_body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


@post("/cache/upload", status_code=201, summary="Upload content", request_max_body_size=None)
async def upload(
    res: Resources, request: Request[Any, Any, State], filename: FromQuery[str | None] = None
) -> Any:
    """A multipart file (field ``file``) or the raw body (``?filename=`` names it)."""
    limit = int(res.settings.storage.upload_max_bytes)
    length = request.headers.get("content-length", "")
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    if length.isdigit() and int(length) > limit + (MULTIPART_OVERHEAD if multipart else 0):
        raise TooLargeError(f"upload of {length} bytes is over the limit of {limit} bytes")
    meta: dict[str, Any] = {"filename": filename}
    if multipart:
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        if match is None:
            raise BadRequest("multipart Content-Type without a boundary", field="Content-Type")
        chunks = _multipart_file(request, match.group(1), meta)
    else:
        chunks = _raw_body(request)
    # the suffix is only known once the multipart headers are read: store without, it is
    # the CID that names the content
    item = await _local(res).put_stream(chunks, max_bytes=limit, suffix=_suffix(filename))
    if item.size == 0:
        await _local(res).adelete(item.cid)
        raise BadRequest("empty upload", field="file")
    name = meta.get("filename") or filename or ""
    out = await _record(res, item.cid, item.size, item.path, f"upload:{name}"[:300])
    out["filename"] = name or None
    return out


@post("/cache/import", status_code=201, summary="Import a local file below IMPORT_ROOTS")
async def import_file(res: Resources, path: FromQuery[str]) -> Any:
    """``path`` must be absolute and resolve (symlinks followed) inside an import root."""
    roots = tuple(res.settings.storage.import_roots)
    if not roots:
        raise Forbidden("import is disabled: IMPORT_ROOTS is not set", field="path")
    if "\0" in path or not os.path.isabs(path):
        raise BadRequest(f"path: {path!r} must be an absolute path", field="path")
    if ".." in Path(path).parts:
        raise BadRequest(f"path: {path!r} must not contain '..'", field="path")

    def resolve() -> tuple[Path, list[Path]]:
        return Path(path).resolve(strict=True), [r.resolve() for r in roots]

    try:
        real, real_roots = await asyncio.to_thread(resolve)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(f"path: {path} does not exist", field="path") from None
    except (OSError, RuntimeError) as exc:
        raise BadRequest(f"path: {path}: {exc}", field="path") from None
    if not any(real.is_relative_to(r) for r in real_roots):
        raise Forbidden(
            f"path: {path} is outside the import roots (symlinks are followed)", field="path"
        )
    if not await asyncio.to_thread(real.is_file):
        raise BadRequest(f"path: {path} is not a regular file", field="path")
    limit = int(res.settings.storage.upload_max_bytes)
    item = await _local(res).aput_file(real, suffix=_suffix(real.name), max_bytes=limit)
    return await _record(res, item.cid, item.size, item.path, f"import:{real}"[:300])


@post("/cache/{cid:str}/publish", summary="Publish to L2 (not yet available)")
async def publish(res: Resources, cid: FromPath[str]) -> None:
    """501 until L2 federation is implemented."""
    check_cid(cid)
    raise NotImplementedYet("publishing to L2 is not implemented yet", field="cid")


# --- gallery -------------------------------------------------------------------------------


@get(["/api/media", "/media"], summary="Media gallery (JSON, paginated)")
async def media_list(
    res: Resources,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
    kind: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """Cache items newest first; ``kind`` is video, audio, image, hls, plan, analysis or other."""
    check_paging(limit, offset)
    if kind is not None and kind not in KINDS:
        raise BadRequest(f"kind: {kind!r} is not one of {', '.join(KINDS)}", field="kind")
    total = await repo_storage.count_cache_items(res.db, kind=kind)
    rows = await repo_storage.list_cache_items(res.db, kind=kind, limit=limit, offset=offset)
    items = []
    for row in rows:
        doc = _public(row, row["cid"], None)
        doc.pop("local")
        if row["kind"] in ("video", "image"):
            doc["links"]["poster"] = f"/cache/{row['cid']}/poster.jpg"
        items.append(doc)
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


cache_router = Router(
    path="/",
    route_handlers=[
        get_item,
        get_raw,
        get_poster,
        get_waveform,
        get_mp4,
        get_meta,
        patch_meta,
        delete_item,
        upload,
        import_file,
        publish,
        media_list,
    ],
    tags=["cache"],
)
