"""Files of cached content: ``/cache/{cid}/raw``, ``/poster.jpg``, ``/waveform`` and ``/mp4``.

The raw bytes and the files derived from them (made once by
:mod:`streamer.content.derived`) are served with byte ranges and ETags
(:func:`api.ranges.serve_file`); content only the IPFS node has is fetched
into the cache first.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import Parameter

from api.cache_models import CidPath, Waveform
from api.openapi_media import documented, file_responses
from api.ranges import serve_file
from streamer.content import derived, items
from streamer.present.deps import Res

__all__ = ["get_mp4", "get_poster", "get_raw", "get_waveform"]

_LOW, _HIGH = derived.WAVEFORM_POINTS


@get(
    "/cache/{cid:str}/raw",
    summary="Raw content (byte ranges supported)",
    operation_class=documented(
        responses=file_responses(
            ["application/octet-stream", "*/*"],
            "the stored bytes, as the media type probed at upload (else octet-stream)",
        )
    ),
)
async def get_raw(res: Res, request: Request[Any, Any, Any], cid: CidPath) -> Response[Any]:
    """The stored bytes; ``Range: bytes=a-b`` answers 206, outside the content 416."""
    found = await items.content_file(res, cid)
    return await serve_file(request, found.path, found.media_type, cid)


@get(
    "/cache/{cid:str}/poster.jpg",
    summary="Poster frame of a video or image",
    operation_class=documented(responses=file_responses(["image/jpeg"], "a JPEG poster")),
)
async def get_poster(res: Res, request: Request[Any, Any, Any], cid: CidPath) -> Response[Any]:
    """A JPEG (at most 640 px wide) made once and kept under ``CACHE_DIR/derived``."""
    path = await derived.poster(res, cid)
    return await serve_file(request, path, "image/jpeg", f"{cid}-poster")


@get("/cache/{cid:str}/waveform", summary="Audio waveform peaks and duration")
async def get_waveform(
    res: Res,
    cid: CidPath,
    points: Annotated[
        int,
        Parameter(
            description="how many buckets (peaks) to return",
            schema_extra={"minimum": _LOW, "maximum": _HIGH},
        ),
    ] = 800,
) -> Waveform:
    """``{"duration", "sample_rate", "peaks": [0..1, ...]}`` with ``points`` buckets."""
    return Waveform(**await derived.waveform(res, cid, points))


@get(
    "/cache/{cid:str}/mp4",
    summary="MP4 of a video or of an HLS output",
    operation_class=documented(responses=file_responses(["video/mp4"], "an MP4")),
)
async def get_mp4(res: Res, request: Request[Any, Any, Any], cid: CidPath) -> Response[Any]:
    """Remuxed once (H.264/AAC copied, other codecs encoded) and cached; ranges supported."""
    path = await derived.mp4(res, cid)
    return await serve_file(request, path, "video/mp4", f"{cid}-mp4")
