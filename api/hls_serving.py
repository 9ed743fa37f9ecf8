"""Answering players: a run's live playlist and segments, with conditional GETs and ranges.

The files come from :class:`streamer.content.live_hls.LiveHlsFiles` (memory, no
database). Both carry a strong ``ETag``; ``If-None-Match`` naming it (or ``*``)
answers 304 without a body. Segments are immutable (content-named): cached for a
year, with ``Last-Modified`` (``If-Modified-Since`` answers 304 when no
``If-None-Match`` came) and one byte ``Range`` (206/416). The live playlist is
``no-cache`` (players revalidate it, mostly getting 304) and has no
``Last-Modified``: it can change twice within one second of that header.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import mktime_tz, parsedate_tz
from typing import Any

from litestar import Request, Response

from api.errors import RangeNotSatisfiable, error_response
from api.ranges import parse_range, serve_file
from streamer.content.live_hls import HlsFile

__all__ = ["CORS", "ENDLIST", "not_modified", "playlist_response", "segment_response"]

CORS = {"Access-Control-Allow-Origin": "*"}
ENDLIST = b"#EXT-X-ENDLIST"
_IMMUTABLE = "public, max-age=31536000, immutable"
_ENDED = "public, max-age=60"  # a finished playlist no longer changes (until a delete)


def _etag_matches(header: str, etag: str) -> bool:
    """``If-None-Match``: ``*`` or a list of tags (weak comparison, as RFC 9110 asks)."""
    if header.strip() == "*":
        return True
    return any(part.strip().removeprefix("W/") == etag for part in header.split(","))


def not_modified(headers: Mapping[str, str], file: HlsFile, *, dated: bool) -> bool:
    """Whether the client's copy is current: ``If-None-Match``, else (``dated``) ``If-Modified-Since``."""
    tags = headers.get("if-none-match")
    if tags is not None:
        return _etag_matches(tags, file.etag)
    since = headers.get("if-modified-since") if dated else None
    if since is None:
        return False
    parsed = parsedate_tz(since)
    return parsed is not None and file.mtime <= mktime_tz(parsed)


def _ended(body: bytes) -> bool:
    # the tag closes the playlist: look at its end only (a live playlist grows long)
    return body.rfind(ENDLIST, max(len(body) - 64, 0)) >= 0


def playlist_response(
    request: Request[Any, Any, Any], file: HlsFile, media_type: str
) -> Response[bytes]:
    """200 with the playlist, or 304 when ``If-None-Match`` names its ETag."""
    body = file.body or b""
    headers = {
        **CORS,
        "ETag": file.etag,
        "Cache-Control": _ENDED if _ended(body) else "no-cache",
    }
    if not_modified(request.headers, file, dated=False):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def segment_response(
    request: Request[Any, Any, Any], file: HlsFile, media_type: str
) -> Response[Any]:
    """200, 206 (one ``Range``), 304 (``If-None-Match`` / ``If-Modified-Since``) or 416."""
    headers = {
        **CORS,
        "Cache-Control": _IMMUTABLE,
        "ETag": file.etag,
        "Last-Modified": file.last_modified,
        "Accept-Ranges": "bytes",
    }
    if not_modified(request.headers, file, dated=True):
        return Response(b"", status_code=304, headers=headers)
    if file.body is None:  # too big to keep in memory: streamed from the file
        response = await serve_file(request, file.path, media_type, file.etag.strip('"'))
        response.headers.update(CORS)
        response.headers["Last-Modified"] = file.last_modified
        return response
    try:
        span = parse_range(request.headers.get("range"), file.size)
    except RangeNotSatisfiable as exc:
        return error_response(
            416,
            exc.detail,
            field="Range",
            headers={**headers, "Content-Range": f"bytes */{file.size}"},
        )
    if span is None:
        return Response(file.body, media_type=media_type, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{file.size}"
    return Response(
        file.body[start : end + 1], status_code=206, media_type=media_type, headers=headers
    )
