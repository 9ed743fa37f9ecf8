"""Values PostgreSQL refuses (a NUL in an id, an integer beyond bigint) answer 400, not 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.models import MAX_OFFSET
from streamer.settings import Settings
from tests.api.helpers import api_error, app_client

HUGE = "9" * 20  # beyond bigint


@pytest.fixture
async def client(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Any]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )
    async with app_client(settings, user="odd-values", redis_prefix=redis_prefix) as c:
        yield c


@pytest.mark.parametrize("path", ["/runs", "/recipes", "/media", "/api/media"])
async def test_offset_beyond_the_range_is_a_400(client: Any, path: str) -> None:
    doc = api_error(await client.get(path, params={"offset": HUGE}), 400)
    assert doc["field"] == "offset" and str(MAX_OFFSET) in doc["detail"]
    assert (await client.get(path, params={"offset": str(MAX_OFFSET)})).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/runs/a%00b"),
        ("DELETE", "/runs/a%00b"),
        ("POST", "/runs/a%00b/cancel"),
        ("GET", "/api/run/a%00b/plan"),
        ("GET", "/runs/a%00b/playlist.m3u8"),
        ("GET", "/recipes/a%00b"),
        ("GET", "/run/a%00b"),
    ],
)
async def test_value_postgres_refuses_is_a_400(client: Any, method: str, path: str) -> None:
    doc = api_error(await client.request(method, path), 400)
    assert "not valid" in doc["detail"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("value", [HUGE, "2147483648", "0"])
async def test_provider_id_outside_a_serial_names_it(client: Any, method: str, value: str) -> None:
    """Found by the API fuzz tests: an id beyond int32 answered PostgreSQL's error text."""
    doc = api_error(await client.request(method, f"/storage/{value}", json={}), 400)
    assert doc["field"] == "provider_id", doc


async def test_missing_required_query_parameter_names_it(client: Any) -> None:
    """Found by the API fuzz tests: Litestar's message named no field and echoed the URL."""
    doc = api_error(await client.post("/cache/import", params={"other": "x" * 50}), 400)
    assert doc["field"] == "path" and doc["detail"] == "path: missing (a required query parameter)"
