"""Server information and health: ``GET /``, ``GET /api/info``, ``GET /health``.

``GET /`` answers this JSON to API clients; browsers (Accept preferring
``text/html``) get the web UI's home page instead (``web.negotiation``), and
``/api/info`` is always JSON.
"""

from __future__ import annotations

from litestar import Response, Router, get
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from api.openapi_media import WEB_PAGE, documented
from api.system_models import Health, HlsInfo, ServerInfo, ServiceStatus
from streamer.health import service_status
from streamer.present.deps import Res
from streamer.present.server import SERVER_NAME, server_version
from streamer.resources import Resources

__all__ = ["health", "index", "info", "system_router"]


async def _info(res: Resources) -> ServerInfo:
    settings = res.settings
    return ServerInfo(
        name=SERVER_NAME,
        version=server_version(),
        services=ServiceStatus(**await service_status(res)),
        embedded_services=bool(res.embedded_services),
        public_url=settings.server.public_url,
        ipfs_primary=settings.ipfs.primary,
        ipfs_gateway_url=settings.ipfs.gateway_url,
        l2_server=settings.federation.l2_server,
        hls=HlsInfo(
            segment_seconds=settings.hls.segment_seconds,
            container=settings.hls.container,  # type: ignore[arg-type]  # a checked choice
        ),
    )


@get("/", summary="Server information", operation_class=documented(html=("200", WEB_PAGE)))
async def index(res: Res) -> ServerInfo:
    """Server name, version and the status of its services."""
    return await _info(res)


@get("/api/info", summary="Server information (JSON)")
async def info(res: Res) -> ServerInfo:
    """Same as ``GET /``, always JSON."""
    return await _info(res)


@get(
    "/health",
    summary="Liveness and service health",
    responses={503: ResponseSpec(Health, description="a service does not answer")},
)
async def health(res: Res) -> Response[Health]:
    """200 when PostgreSQL and Redis answer, else 503 with the failing service."""
    services = ServiceStatus(**await service_status(res))
    healthy = services.database == "ok" and services.redis == "ok"
    return Response(
        Health(status="ok" if healthy else "degraded", services=services),
        status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE,
    )


system_router = Router(path="/", route_handlers=[index, info, health], tags=["system"])
