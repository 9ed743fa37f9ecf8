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
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

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


async def service_status(state: State) -> dict[str, str]:
    """Probe PostgreSQL and Redis through the clients in ``app.state``."""
    db = state.get("db")
    redis = state.get("redis")
    result: dict[str, str] = {}
    result["database"] = await _check(db.fetchval("SELECT 1")) if db else "not configured"
    result["redis"] = await _check(redis.ping()) if redis else "not configured"
    return result


async def _info(state: State) -> dict[str, Any]:
    settings = state.get("settings")
    info: dict[str, Any] = {
        "name": SERVER_NAME,
        "version": _version(),
        "services": await service_status(state),
        "embedded_services": bool(state.get("embedded_services", False)),
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
async def index(state: State) -> dict[str, Any]:
    """Server name, version and the status of its services."""
    return await _info(state)


@get("/api/info", summary="Server information (JSON)")
async def info(state: State) -> dict[str, Any]:
    """Same as ``GET /``, always JSON."""
    return await _info(state)


@get("/health", summary="Liveness and service health")
async def health(state: State) -> Response[dict[str, Any]]:
    """200 when PostgreSQL and Redis answer, else 503 with the failing service."""
    services = await service_status(state)
    healthy = all(v == "ok" for v in services.values())
    return Response(
        {"status": "ok" if healthy else "degraded", "services": services},
        status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE,
    )


system_router = Router(path="/", route_handlers=[index, info, health], tags=["system"])
