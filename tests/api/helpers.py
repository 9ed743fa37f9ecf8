"""Helpers the in-process API tests share: a signed-in test client, the error check."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from streamer.auth import tokens
from streamer.entry.app import create_app
from streamer.settings import Settings

__all__ = ["api_error", "app_client", "viewer_client"]


def api_error(resp: Any, status: int) -> dict[str, Any]:
    """Assert ``resp`` is the API's JSON error with ``status``; returns its body."""
    assert resp.status_code == status, resp.text
    doc: dict[str, Any] = resp.json()
    assert doc["status"] == status and doc["title"] and doc["detail"]
    return doc


@contextlib.asynccontextmanager
async def app_client(
    settings: Settings, *, user: str, redis_prefix: str, queue_name: str | None = None
) -> AsyncIterator[Any]:
    """The app in process, its Redis keys under ``redis_prefix``, a Bearer token for ``user``.

    ``queue_name`` (a queue no worker reads) keeps enqueued runs pending.
    The client's ``app_state`` is the app's state.
    """
    services = dataclasses.replace(
        settings.services,
        redis_prefix=f"{redis_prefix}artdag:",
        queue_name=queue_name or settings.services.queue_name,
    )
    settings = dataclasses.replace(settings, services=services)
    app = create_app(settings)
    token, _ = tokens.mint_token(tokens.cluster_key(settings), user)
    async with AsyncTestClient(app=app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        c.app_state = app.state  # type: ignore[attr-defined]
        yield c


@contextlib.asynccontextmanager
async def viewer_client(
    pg_dsn: str, redis_url: str, redis_prefix: str, data_dir: Path
) -> AsyncIterator[Any]:
    """A ``viewer`` client of the app with no worker and IPFS closed: runs stay pending, so a
    test writes their HLS files itself."""
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(data_dir),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )
    async with app_client(
        settings, user="viewer", redis_prefix=redis_prefix, queue_name=f"{redis_prefix}no-worker"
    ) as c:
        yield c
