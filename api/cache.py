"""Cache API: content by CID with previews, byte ranges, MP4, metadata, upload and import.

- ``GET /cache/{cid}``: metadata, media info and preview links.
- ``GET /cache/{cid}/raw``, ``/poster.jpg``, ``/waveform``, ``/mp4``: the bytes
  and files made from them (:mod:`api.cache_files`).
- ``GET|PATCH /cache/{cid}/meta``: title, description, tags.
- ``DELETE /cache/{cid}``: 409 while pinned or used by a run or a recipe.
- ``POST /cache/upload``, ``POST /cache/import?path=`` (:mod:`api.cache_upload`).
- ``POST|GET /cache/{cid}/publish``, ``GET /cache/{cid}/object``: publishing to
  L2 over ActivityPub (:mod:`api.cache_publish`); deleting sends L2 a ``Delete``.
- ``GET /api/media`` (and ``GET /media``, where browsers get the web page): the
  gallery as JSON.

The rules live in :mod:`streamer.content`; the models in :mod:`api.cache_models`.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Router, delete, get, patch
from litestar.params import JSONBody, Parameter

from api.cache_files import get_mp4, get_poster, get_raw, get_waveform
from api.cache_models import (
    CacheItemDetail,
    CacheMeta,
    CacheMetaUpdate,
    CidPath,
    MediaItem,
    MediaPage,
    Removed,
)
from api.cache_publish import get_object, get_publish, post_publish
from api.cache_upload import import_file, upload
from api.models import MAX_LIMIT, MAX_OFFSET, check_paging
from api.openapi_errors import error_answers
from api.openapi_media import WEB_PAGE, documented
from streamer.content import items
from streamer.present.deps import Res
from streamer.resources import Resources

__all__ = ["MAX_LIMIT", "cache_router"]


@get("/cache/{cid:str}", summary="Cached content: metadata and preview")
async def get_item(res: Res, cid: CidPath) -> CacheItemDetail:
    """Metadata, media info (duration, streams) and preview links."""
    return CacheItemDetail.of(await items.describe(res, cid))


@get("/cache/{cid:str}/meta", summary="Title, description and tags")
async def get_meta(res: Res, cid: CidPath) -> CacheMeta:
    """``{"cid", "title", "description", "tags"}`` of a recorded item."""
    return CacheMeta.of(await items.read_meta(res, cid))


@patch("/cache/{cid:str}/meta", summary="Update title, description and tags")
async def patch_meta(res: Res, cid: CidPath, data: JSONBody[CacheMetaUpdate]) -> CacheMeta:
    """Fields given replace the stored ones; ``null`` clears title/description."""
    return CacheMeta.of(await items.update_meta(res, cid, data.changes()))


@delete(
    "/cache/{cid:str}",
    status_code=200,
    summary="Delete cached content",
    responses=error_answers((409, "the item is in use (a run, a pin or a recipe)")),
)
async def delete_item(res: Res, cid: CidPath) -> Removed:
    """Remove the local file, its derived previews and its record; 409 while in use.

    When the item was published to L2, a ``Delete`` is queued for delivery there.
    """
    return Removed.of(await items.remove(res, cid))


Limit = Annotated[
    int, Parameter(description="items per page", schema_extra={"minimum": 1, "maximum": MAX_LIMIT})
]
Offset = Annotated[
    int, Parameter(description="items to skip", schema_extra={"minimum": 0, "maximum": MAX_OFFSET})
]
KindFilter = Annotated[
    str | None,
    Parameter(description="only items of this kind", schema_extra={"enum": list(items.KINDS)}),
]


async def _gallery(res: Resources, limit: int, offset: int, kind: str | None) -> MediaPage:
    check_paging(limit, offset)
    page = await items.gallery(res, kind=kind, limit=limit, offset=offset)
    return MediaPage(
        items=[MediaItem.of_row(row) for row in page.rows],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@get("/api/media", summary="Media gallery (JSON, paginated)")
async def media_list(
    res: Res, limit: Limit = 50, offset: Offset = 0, kind: KindFilter = None
) -> MediaPage:
    """Cache items newest first; ``kind`` is video, audio, image, hls, plan, analysis or other."""
    return await _gallery(res, limit, offset, kind)


@get(
    "/media",
    summary="Media gallery (JSON, or the web page to browsers)",
    operation_class=documented(html=("200", WEB_PAGE)),
)
async def media_page(
    res: Res, limit: Limit = 50, offset: Offset = 0, kind: KindFilter = None
) -> MediaPage:
    """As ``GET /api/media``; browsers (Accept preferring ``text/html``) get the gallery page."""
    return await _gallery(res, limit, offset, kind)


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
        post_publish,
        get_publish,
        get_object,
        media_list,
        media_page,
    ],
    tags=["cache"],
)
