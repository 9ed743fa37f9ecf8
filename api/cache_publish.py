"""Publishing cached content to L2 over ActivityPub.

- ``POST /cache/{cid}/publish``: 202 with the state: a ``Create`` (an ``Update``
  when L2 has it already) of the item's ``Video``/``Image``/``Audio`` is queued
  for delivery; an L2 that is down only delays it (the state shows the retries).
- ``GET /cache/{cid}/publish``: the state (``unpublished``, ``publishing``,
  ``published`` with L2's id, ``failed`` with why).
- ``GET /cache/{cid}/object``: the object as last delivered
  (``application/activity+json``; 410 with a ``Tombstone`` once deleted).

``DELETE /cache/{cid}`` (:mod:`api.cache`) sends L2 a ``Delete``. The rules
live in :mod:`streamer.federation.publish`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema

from api.cache_models import CidPath
from api.openapi_media import documented
from api.publish_models import PublishStatus
from streamer.federation import publish
from streamer.federation.deliver import ACTIVITY_JSON
from streamer.present.deps import Res
from streamer.present.session import current_user

__all__ = ["get_object", "get_publish", "post_publish"]

_NOT_CACHED = OpenAPIResponse(description="the CID is not in the cache (`field: cid`)")
_PUBLISH_ERRORS = {
    "404": _NOT_CACHED,
    "409": OpenAPIResponse(description="`L2_SERVER` is not set (`field: L2_SERVER`)"),
    "422": OpenAPIResponse(description="not video, audio or an image (`field: cid`)"),
    "503": OpenAPIResponse(
        description="the job queue (Redis) is not reachable; the publication is recorded"
    ),
}
_AS_DOCUMENT = OpenAPIMediaType(
    schema=Schema(type=OpenAPIType.OBJECT, description="an ActivityStreams document")
)


@post(
    "/cache/{cid:str}/publish",
    status_code=202,
    summary="Publish to L2 (ActivityPub)",
    response_description="queued: the publication's state (`publishing`)",
    operation_class=documented(responses=_PUBLISH_ERRORS),
)
async def post_publish(res: Res, request: Request[Any, Any, Any], cid: CidPath) -> PublishStatus:
    """Queue a ``Create`` (or, when L2 has it, an ``Update``) of the item for delivery to L2.

    The object carries the name, media type, duration, size, CID and gateway URL,
    the HLS playlist, the poster and the provenance record, attributed to the
    caller's actor on L2 and addressed to its followers. 404: not in the cache;
    409: ``L2_SERVER`` is not set; 422: not video, audio or an image.
    """
    return PublishStatus.of(await publish.publish(res, cid, user=current_user(request)))


@get(
    "/cache/{cid:str}/publish",
    summary="Publication state on L2",
    operation_class=documented(
        responses={"404": OpenAPIResponse(description="never published and not in the cache")}
    ),
)
async def get_publish(res: Res, cid: CidPath) -> PublishStatus:
    """``unpublished``, ``publishing`` (attempts and the last error while retrying),
    ``published`` (L2's id of the object) or ``failed`` (why)."""
    return PublishStatus.of(await publish.state_of(res, cid))


@get(
    "/cache/{cid:str}/object",
    summary="The published ActivityStreams object",
    operation_class=documented(
        responses={
            "200": OpenAPIResponse(
                description="the object as last delivered to L2",
                content={ACTIVITY_JSON: _AS_DOCUMENT},
            ),
            "404": OpenAPIResponse(description="never delivered to L2"),
            "410": OpenAPIResponse(
                description="deleted: its Tombstone", content={ACTIVITY_JSON: _AS_DOCUMENT}
            ),
        }
    ),
)
async def get_object(res: Res, cid: CidPath) -> Response[dict[str, Any]]:
    """The ``Video``/``Image``/``Audio`` object of the CID (404 when never published)."""
    found = await publish.object_document(res, cid)
    return Response(
        found.document,
        status_code=410 if found.gone else 200,
        media_type=ACTIVITY_JSON,
        headers={"Cache-Control": "no-cache"},
    )
