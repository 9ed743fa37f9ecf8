"""Server information and health: ``GET /``, ``GET /api/info``, ``GET /health``.

``GET /`` answers this JSON to API clients; browsers (Accept preferring
``text/html``) get the web UI's home page instead (``web.negotiation``), and
``/api/info`` is always JSON.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from typing import Any

from litestar import Response, Router, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from streamer.resources import Resources

__all__ = ["health", "index", "info", "service_status", "system_router"]

SERVER_NAME = "artdag-l1"
_CHECK_TIMEOUT = 2.0


def _version() -> str:
    try:
        return importlib.metadata.version("artdag-l1")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0+unknown"


async def _check(coro: Any) -> str:
    try:
        await asyncio.wait_for(coro, _CHECK_TIMEOUT)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


async def service_status(res: Resources) -> dict[str, str]:
    """Probe PostgreSQL and Redis through the clients in ``app.state``."""
    db = res.db
    redis = res.redis
    result: dict[str, str] = {}
    result["database"] = await _check(db.fetchval("SELECT 1")) if db else "not configured"
    result["redis"] = await _check(redis.ping()) if redis else "not configured"
    return result


async def _info(res: Resources) -> dict[str, Any]:
    settings = res.settings
    info: dict[str, Any] = {
        "name": SERVER_NAME,
        "version": _version(),
        "services": await service_status(res),
        "embedded_services": bool(res.embedded_services),
    }
    if settings is not None:
        info["public_url"] = settings.server.public_url
        info["ipfs_primary"] = settings.ipfs.primary
        info["ipfs_gateway_url"] = settings.ipfs.gateway_url
        info["l2_server"] = settings.federation.l2_server
        info["hls"] = {
            "segment_seconds": settings.hls.segment_seconds,
            "container": settings.hls.container,
        }
    return info


@get("/", summary="Server information")
async def index(res: Resources) -> dict[str, Any]:
    """Server name, version and the status of its services."""
    return await _info(res)


@get("/api/info", summary="Server information (JSON)")
async def info(res: Resources) -> dict[str, Any]:
    """Same as ``GET /``, always JSON."""
    return await _info(res)


@get("/health", summary="Liveness and service health")
async def health(res: Resources) -> Response[dict[str, Any]]:
    """200 when PostgreSQL and Redis answer, else 503 with the failing service."""
    services = await service_status(res)
    healthy = all(v == "ok" for v in services.values())
    return Response(
        {"status": "ok" if healthy else "degraded", "services": services},
        status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE,
    )


system_router = Router(path="/", route_handlers=[index, info, health], tags=["system"])
