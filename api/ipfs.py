"""IPFS: ``GET /ipfs/{cid}`` redirects to the gateway, ``GET /ipfs/{cid}/raw`` streams from the node.

The redirect keeps the query (HLS segment URIs carry ``?filename=<name>``).
A malformed CID is a 400; content the node does not have is a 404; a node
that cannot be reached is a 503 (all in the API's JSON error shape).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Router, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse
from litestar.response import Redirect, Stream

from api.cache_models import CidPath
from api.errors import NotFound, ServiceUnavailable
from api.openapi_media import binary, documented
from streamer.content.ids import check_cid
from streamer.present.deps import Res

__all__ = ["RAW_FIRST_BYTE_TIMEOUT", "gateway_url", "ipfs_router"]

RAW_FIRST_BYTE_TIMEOUT = 10.0
_RAW = OpenAPIResponse(
    description="the bytes of the CID, streamed from the IPFS node",
    content={"application/octet-stream": OpenAPIMediaType(schema=binary())},
)


def gateway_url(gateway: str, cid: str, query: str = "") -> str:
    """``<gateway>/<cid>[?query]``."""
    url = f"{gateway.rstrip('/')}/{cid}"
    return f"{url}?{query}" if query else url


@get(
    "/ipfs/{cid:str}",
    status_code=302,
    summary="Redirect to the IPFS gateway",
    response_description="to `IPFS_GATEWAY_URL/<cid>` with the same query string",
)
async def ipfs_redirect(res: Res, request: Request[Any, Any, Any], cid: CidPath) -> Redirect:
    """302 to ``IPFS_GATEWAY_URL/<cid>`` with the same query string."""
    check_cid(cid)
    target = gateway_url(res.settings.ipfs.gateway_url, cid, request.url.query)
    return Redirect(target, status_code=302, headers={"Access-Control-Allow-Origin": "*"})


@get(
    "/ipfs/{cid:str}/raw",
    summary="Raw content from the IPFS node",
    operation_class=documented(responses={"200": _RAW}),
)
async def ipfs_raw(res: Res, cid: CidPath) -> Stream:
    """The bytes of ``cid`` streamed from the node (404 unknown, 503 node down)."""
    check_cid(cid)
    store = res.stores.ipfs
    if store is None:
        raise ServiceUnavailable("no IPFS node is configured")
    chunks = store.stream(cid)
    # fetch the first piece now so node errors become JSON errors, not a broken stream
    wait = float(res.settings.ipfs.raw_timeout)
    try:
        first = await asyncio.wait_for(chunks.__anext__(), wait)
    except StopAsyncIteration:
        first = b""
    except TimeoutError:
        await chunks.aclose()  # type: ignore[attr-defined]
        # an offline node waits forever for content it does not hold
        raise NotFound(
            f"{cid} is not available from the IPFS node (no data within {wait:g} s)", field="cid"
        ) from None

    async def body() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for piece in chunks:
            yield piece

    return Stream(
        body(),
        media_type="application/octet-stream",
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "Access-Control-Allow-Origin": "*",
        },
    )


ipfs_router = Router(path="/", route_handlers=[ipfs_redirect, ipfs_raw], tags=["ipfs"])
