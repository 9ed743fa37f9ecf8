"""Adding content: ``POST /cache/upload`` (streamed) and ``POST /cache/import?path=``.

An upload is a multipart file (field ``file``) or the raw body (``?filename=``
names it). It is streamed to the local cache (:mod:`streamer.present.uploads`),
the CID computed on the way, and refused with 413 beyond ``UPLOAD_MAX_BYTES``: a
declared length over the limit before anything is read, a longer stream while
writing (nothing kept). ``?media_only=true`` also refuses (422) what is not
video, audio or an image.
The handler reads the request itself for that, so the body is described for
the OpenAPI document by hand (:data:`UPLOAD_BODY`).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.params import Parameter

from api.cache_models import StoredItem, UploadedItem
from api.openapi_errors import error_answers
from api.openapi_media import binary, documented
from streamer.content import ingest
from streamer.present.deps import Res
from streamer.present.uploads import MULTIPART_OVERHEAD, incoming_upload
from streamer.settings import DEFAULT_UPLOAD_MAX_BYTES

__all__ = ["MULTIPART_OVERHEAD", "UPLOAD_BODY", "import_file", "upload"]

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


@post(
    "/cache/upload",
    status_code=201,
    summary="Upload content",
    request_max_body_size=None,  # the limit is enforced while streaming
    operation_class=documented(request_body=UPLOAD_BODY),
    responses=error_answers(413, (422, "`media_only` and the content is not media")),
)
async def upload(
    res: Res,
    request: Request[Any, Any, Any],
    filename: Annotated[
        str | None,
        Parameter(description="name of a raw-body upload (its suffix is kept on the stored file)"),
    ] = None,
    media_only: Annotated[
        bool,
        Parameter(
            description="refuse content that is not video, audio or an image "
            "(422 `unsupported type`, nothing kept); the web UI's media upload sets it"
        ),
    ] = False,
) -> UploadedItem:
    """A multipart file (field ``file``) or the raw body, streamed into the local cache."""
    incoming = incoming_upload(request, int(res.settings.storage.upload_max_bytes), filename)
    return UploadedItem.of(await ingest.store_upload(res, incoming, media_only=media_only))


@post(
    "/cache/import",
    status_code=201,
    summary="Import a local file below IMPORT_ROOTS",
    responses=error_answers(
        (403, "import is off (no IMPORT_ROOTS) or the path is outside the roots"),
        (404, "no file at `path`"),
        413,
    ),
)
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
