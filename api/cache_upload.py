"""Adding content: ``POST /cache/upload`` (streamed) and ``POST /cache/import?path=``.

An upload is a multipart file (field ``file``) or the raw body (``?filename=``
names it). It is streamed to the local cache, the CID computed on the way,
and refused with 413 beyond ``UPLOAD_MAX_BYTES``: a declared length over the
limit before anything is read, a longer stream while writing (nothing kept).
The handler reads the request itself for that, so the body is described for
the OpenAPI document by hand (:data:`UPLOAD_BODY`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from litestar import Request, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.params import Parameter

from api.cache_models import StoredItem, UploadedItem
from api.errors import BadRequest
from api.openapi_media import binary, documented
from streamer.content import ingest
from streamer.errors import TooLarge
from streamer.present.deps import Res
from streamer.settings import DEFAULT_UPLOAD_MAX_BYTES

__all__ = ["MULTIPART_OVERHEAD", "UPLOAD_BODY", "import_file", "upload"]

#: Allowance for the multipart framing when the declared length is checked up front.
MULTIPART_OVERHEAD = 1 << 20
_LIMIT = f"at most UPLOAD_MAX_BYTES bytes (default {DEFAULT_UPLOAD_MAX_BYTES}); 413 beyond"

#: The two ways to send an upload, as the OpenAPI document shows them.
UPLOAD_BODY = RequestBody(
    required=True,
    description=f"The content: a multipart file or the raw body, {_LIMIT}.",
    content={
        "multipart/form-data": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                properties={"file": binary("the file (the first file part is taken)")},
                required=["file"],
            )
        ),
        "application/octet-stream": OpenAPIMediaType(
            schema=binary("the raw content (any type; `?filename=` names it)")
        ),
    },
)


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
        raise BadRequest(f"malformed multipart body: {exc}", field="file") from None
    if state == "before":
        raise BadRequest("the multipart body has no file part", field="file")


async def _raw_body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


def _incoming(
    request: Request[Any, Any, Any], limit: int, filename: str | None
) -> ingest.IncomingFile:
    """The upload of ``request``, refused at once when its declared length is over ``limit``."""
    length = request.headers.get("content-length", "")
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    if length.isdigit() and int(length) > limit + (MULTIPART_OVERHEAD if multipart else 0):
        raise TooLarge(f"upload of {length} bytes is over the limit of {limit} bytes")
    if not multipart:
        return ingest.IncomingFile(_raw_body(request), filename)
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise BadRequest("multipart Content-Type without a boundary", field="Content-Type")

    def named(name: str) -> None:  # a part's file name wins over ?filename=
        incoming.filename = name

    incoming = ingest.IncomingFile(_multipart_file(request, match.group(1), named), filename)
    return incoming


@post(
    "/cache/upload",
    status_code=201,
    summary="Upload content",
    request_max_body_size=None,  # the limit is enforced while streaming
    operation_class=documented(request_body=UPLOAD_BODY),
)
async def upload(
    res: Res,
    request: Request[Any, Any, Any],
    filename: Annotated[
        str | None,
        Parameter(description="name of a raw-body upload (its suffix is kept on the stored file)"),
    ] = None,
) -> UploadedItem:
    """A multipart file (field ``file``) or the raw body, streamed into the local cache."""
    incoming = _incoming(request, int(res.settings.storage.upload_max_bytes), filename)
    return UploadedItem.of(await ingest.store_upload(res, incoming))


@post("/cache/import", status_code=201, summary="Import a local file below IMPORT_ROOTS")
async def import_file(
    res: Res,
    path: Annotated[
        str,
        Parameter(
            description="absolute path without `..` resolving (symlinks followed) to a regular "
            f"file inside one of IMPORT_ROOTS; {_LIMIT}"
        ),
    ],
) -> StoredItem:
    """Copy a server-side file into the cache (403 outside the roots or when import is off)."""
    return StoredItem.of(await ingest.import_file(res, path))
