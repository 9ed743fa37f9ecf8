"""create_app against real PostgreSQL + Redis: lifespan resources and system routes."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from streamer.entry.app import create_app
from streamer.entry.routes import route_handlers
from streamer.health import service_status
from streamer.keys import RedisKeys
from streamer.present.deps import provide_resources
from streamer.resources import Resources
from streamer.settings import Settings


async def test_routes_and_lifespan(service_settings: Settings) -> None:
    app = create_app(service_settings)
    # The test client runs the app on its own event loop: only touch app.state
    # resources through requests, and check them from here with our own clients.
    async with AsyncTestClient(app=app) as client:
        res = provide_resources(app.state)
        assert res.db is not None
        assert res.redis is not None
        assert res.arq is not None

        index = await client.get("/")
        assert index.status_code == 200
        body = index.json()
        assert body["name"] == "artdag-l1"
        assert body["version"]
        assert body["services"] == {"database": "ok", "redis": "ok"}
        assert body["embedded_services"] is False
        assert body["hls"] == {"segment_seconds": 2.0, "container": "ts"}

        info = await client.get("/api/info")
        assert info.status_code == 200
        assert info.json()["name"] == "artdag-l1"

        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "services": {"database": "ok", "redis": "ok"}}

        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert "text/html" in docs.headers["content-type"]
        schema = await client.get("/docs/openapi.json")
        assert schema.status_code == 200
        assert {"/", "/health", "/api/info"} <= set(schema.json()["paths"])

        # migrations were applied by the lifespan
        conn = await asyncpg.connect(service_settings.services.database_url)
        try:
            assert await conn.fetchval("SELECT max(version) FROM schema_version") >= 1
        finally:
            await conn.close()
        pool = provide_resources(app.state).db
    # resources are closed on shutdown
    assert pool.is_closing()


async def test_health_reports_a_broken_service() -> None:
    class FailingPool:
        async def fetchval(self, query: str) -> Any:
            raise asyncpg.CannotConnectNowError("the database system is starting up")

    class OkRedis:
        async def ping(self) -> bool:
            return True

    res = Resources(
        settings=Settings(),
        db=FailingPool(),
        redis=OkRedis(),  # type: ignore[arg-type]
        arq=None,  # type: ignore[arg-type]
        stores=None,  # type: ignore[arg-type]
        keys=RedisKeys(),
        token_key=b"k" * 32,
    )
    status = await service_status(res)
    assert status["redis"] == "ok"
    assert status["database"].startswith("error: CannotConnectNowError")


def test_route_registry_includes_system_routes() -> None:
    paths = set()
    for handler in route_handlers():
        for route in getattr(handler, "routes", []):
            paths.add(route.path)
    assert {"/", "/api/info", "/health"} <= paths
