"""Response models of the system routes (``/``, ``/api/info``, ``/health``)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

__all__ = ["Health", "HlsInfo", "ServerInfo", "ServiceStatus"]

_STATE = "`ok`, `not configured` or `error: <what failed>`"


class ServiceStatus(Struct, kw_only=True):
    """Whether each backing service answered within 2 s."""

    database: Annotated[str, Meta(description=f"PostgreSQL: {_STATE}")]
    redis: Annotated[str, Meta(description=f"Redis: {_STATE}")]


class HlsInfo(Struct, kw_only=True):
    """How runs publish their live HLS."""

    segment_seconds: float
    container: Literal["ts", "fmp4"]


class ServerInfo(Struct, kw_only=True):
    """Server name, version, services and the settings clients need."""

    name: str
    version: str
    services: ServiceStatus
    embedded_services: Annotated[
        bool, Meta(description="the server started its own PostgreSQL and Redis")
    ]
    public_url: str
    ipfs_primary: Annotated[
        bool,
        Meta(
            description="IPFS-primary mode: uploads, plans, analyses and outputs are added to "
            "IPFS (pinned); the local cache reads through from IPFS"
        ),
    ]
    ipfs_gateway_url: str
    l2_server: str | None
    hls: HlsInfo


class Health(Struct, kw_only=True):
    """``ok`` (200) when every service answers, else ``degraded`` (503)."""

    status: Literal["ok", "degraded"]
    services: ServiceStatus
