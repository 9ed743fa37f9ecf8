"""Reading an upload from a request as a stream, refused early when over the limit.

Shared by ``POST /cache/upload`` (:mod:`api.cache_upload`) and the web UI's
upload form: a multipart file (the first file part, or the part named
``file``) or the raw body is streamed to :func:`streamer.content.ingest.store_upload`
without being held in memory. A body that stalls answers 408
(:mod:`streamer.present.body_timeout`); either way the partial file is removed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from litestar import Request

from streamer.content import ingest
from streamer.errors import InvalidValue, TooLarge

__all__ = ["MULTIPART_OVERHEAD", "incoming_upload"]

#: Allowance for the multipart framing when the declared length is checked up front.
MULTIPART_OVERHEAD = 1 << 20


async def _multipart_file(
    request: Request[Any, Any, Any], boundary: str, named: Callable[[str], None]
) -> AsyncIterator[bytes]:
    """Yield the bytes of the first file part of a streamed multipart body.

    ``named`` receives the part's file name when it has one.
    """
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
                            if event.filename:
                                named(event.filename)
                    elif event is None:
                        if state == "in":
                            state = "after"
                    elif state == "in":
                        yield bytes(event)
    except MultipartError as exc:
        raise InvalidValue(f"malformed multipart body: {exc}", field="file") from None
    if state == "before":
        raise InvalidValue("the multipart body has no file part", field="file")


async def _raw_body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


def incoming_upload(
    request: Request[Any, Any, Any], limit: int, filename: str | None = None
) -> ingest.IncomingFile:
    """The upload of ``request``, refused at once when its declared length is over ``limit``.

    Args:
        request: a multipart request (first file part) or a raw body.
        limit: the most bytes the content may have (``UPLOAD_MAX_BYTES``).
        filename: the name of a raw-body upload (a multipart part's own name wins).

    Raises:
        TooLarge: the declared length is over ``limit`` (plus the multipart framing).
        InvalidValue: a multipart Content-Type without a boundary; while streaming,
            a malformed multipart body or one without a file part.
    """
    length = request.headers.get("content-length", "")
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    if length.isdigit() and int(length) > limit + (MULTIPART_OVERHEAD if multipart else 0):
        raise TooLarge(
            f"upload of {length} bytes is over the limit of {limit} bytes (UPLOAD_MAX_BYTES)"
        )
    if not multipart:
        return ingest.IncomingFile(_raw_body(request), filename)
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise InvalidValue("multipart Content-Type without a boundary", field="Content-Type")

    def named(name: str) -> None:  # a part's file name wins over ?filename=
        incoming.filename = name

    incoming = ingest.IncomingFile(_multipart_file(request, match.group(1), named), filename)
    return incoming
