"""This L1 as an ActivityPub actor: WebFinger, NodeInfo, actor, inbox and outbox.

- ``GET /.well-known/webfinger?resource=acct:artdag@<host>``: the JRD (404 for
  anyone else);
- ``GET /.well-known/nodeinfo`` and ``GET /nodeinfo/2.1``;
- ``GET /actor``: the ``Service`` actor with its public key;
- ``POST /inbox``: a signed activity (401 unsigned or badly signed, 413 too large);
- ``GET /outbox``: the activities delivered to L2.

The inbox is public to the token guard: its authentication is the HTTP Signature.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    RequestBody,
    Schema,
)
from litestar.params import QueryParameter

from api.errors import NotFound
from api.federation_models import (
    Actor,
    InboxAccepted,
    Jrd,
    NodeInfo,
    NodeInfoIndex,
    OrderedCollection,
)
from api.openapi_errors import error_answers
from api.openapi_media import documented
from streamer.errors import Unavailable
from streamer.federation import documents
from streamer.federation.errors import SignatureError
from streamer.federation.inbox import INBOX_MAX_BYTES, receive
from streamer.federation.outbox import outbox_activities
from streamer.present.deps import Res

__all__ = ["federation_router"]

_LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# the error answers' schema is replaced by the shared Error one (api.openapi_errors)
_INBOX_DOC = documented(
    request_body=RequestBody(
        description="an ActivityStreams activity (`Follow`, `Undo`, `Delete`; others ignored)",
        required=True,
        content={
            documents.ACTIVITY_JSON: OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
            _LD_JSON: OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
        },
    ),
    responses={
        "401": OpenAPIResponse(
            description="unsigned, badly signed, stale (clock skew), a body not matching "
            "its digest, or signed by another actor than the activity's",
        ),  # no content: document_errors gives it the Error shape
        "413": OpenAPIResponse(description=f"the body is larger than {INBOX_MAX_BYTES} bytes"),
    },
)


def _activity_type(request: Request[Any, Any, Any]) -> str:
    """``application/ld+json`` when the client asked for it, else ``application/activity+json``."""
    accept = request.headers.get("accept", "")
    return (
        _LD_JSON
        if "ld+json" in accept and "activity+json" not in accept
        else documents.ACTIVITY_JSON
    )


@get(
    "/.well-known/webfinger",
    summary="WebFinger: find this L1's actor",
    media_type=documents.JRD_JSON,
    responses=error_answers((404, "no such account here: the resource is not this L1's actor")),
)
async def webfinger(
    res: Res,
    resource: Annotated[
        str,
        QueryParameter(
            description="`acct:artdag@<host of L1_PUBLIC_URL>` (or the actor URL)",
            min_length=1,
            max_length=2048,
        ),
    ],
) -> Response[Jrd]:
    """The actor's JRD; 404 for any other resource."""
    settings = res.settings
    known = {documents.account(settings), f"{documents.public_base(settings)}/actor"}
    if resource.strip().lower() not in {k.lower() for k in known}:
        raise NotFound(f"no such account here: {resource!r}", field="resource")
    doc = msgspec.convert(documents.webfinger_document(settings), Jrd)
    return Response(
        doc, media_type=documents.JRD_JSON, headers={"Access-Control-Allow-Origin": "*"}
    )


@get("/.well-known/nodeinfo", summary="NodeInfo discovery")
async def nodeinfo_index(res: Res) -> NodeInfoIndex:
    """Where the NodeInfo 2.1 document is."""
    return msgspec.convert(documents.nodeinfo_index(res.settings), NodeInfoIndex)


@get("/nodeinfo/2.1", summary="NodeInfo 2.1", media_type=documents.NODEINFO_PROFILE)
async def nodeinfo(res: Res) -> NodeInfo:
    """Software name and version, protocols (``activitypub``)."""
    return msgspec.convert(documents.nodeinfo_document(res.settings), NodeInfo)


@get("/actor", summary="This L1's ActivityPub actor", media_type=documents.ACTIVITY_JSON)
async def actor(res: Res, request: Request[Any, Any, Any]) -> Response[Actor]:
    """The ``Service`` actor: inbox, outbox and the public key that signs its requests."""
    if res.actor_keys is None:
        raise Unavailable("the actor's keys are not loaded")
    doc = msgspec.convert(documents.actor_document(res.settings, res.actor_keys), Actor)
    return Response(doc, media_type=_activity_type(request))


@get("/outbox", summary="The activities this L1 delivered", media_type=documents.ACTIVITY_JSON)
async def outbox(res: Res, request: Request[Any, Any, Any]) -> Response[OrderedCollection]:
    """An ``OrderedCollection`` of the Create/Update/Delete activities delivered to L2."""
    items = await outbox_activities(res.db)
    doc = msgspec.convert(documents.outbox_document(res.settings, items), OrderedCollection)
    return Response(doc, media_type=_activity_type(request))


@post(
    "/inbox",
    summary="Deliver an activity (HTTP Signature required)",
    status_code=202,
    opt={"auth": "public"},  # authenticated by its HTTP Signature, not a token
    request_max_body_size=INBOX_MAX_BYTES,
    operation_class=_INBOX_DOC,
)
async def inbox(res: Res, request: Request[Any, Any, Any]) -> InboxAccepted:
    """Verify the signature (and digest, and time), then act on the activity."""
    headers = dict(request.headers.items())
    if not any(h in headers for h in ("signature", "signature-input", "authorization")):
        raise SignatureError("the request is not signed (no Signature header)", field="Signature")
    body = await request.body()
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    outcome = await receive(res, request.method, target, headers, body)
    return InboxAccepted(accepted=True, type=outcome.type, action=outcome.action)  # type: ignore[arg-type]


federation_router = Router(
    path="/",
    route_handlers=[webfinger, nodeinfo_index, nodeinfo, actor, outbox, inbox],
    tags=["federation"],
)
