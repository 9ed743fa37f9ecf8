"""Serving files over HTTP: one byte range (206/416) and ``If-None-Match`` (304).

Content here is addressed by CID, so it never changes under its ETag: it is
cached for a year and a matching ``If-None-Match`` answers 304 at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.response import Stream

from api.errors import RangeNotSatisfiable, error_response

__all__ = ["PIECE", "parse_range", "serve_file"]

PIECE = 256 * 1024


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
