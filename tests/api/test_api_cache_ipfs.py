"""Cache API with the harness IPFS node: IPFS-primary uploads and read-through of
content that only the node has."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cache.cid import cid_of_bytes
from cache.ipfs import IPFSStore, open_ipfs_client
from streamer.settings import Settings
from tests.api.helpers import app_client


@pytest.fixture
async def client(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path, ipfs_api: str
) -> AsyncIterator[Any]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "CACHE_DIR": str(tmp_path / "cache"),
            "IPFS_API": ipfs_api,
            "IPFS_PRIMARY": "true",
        }
    )
    async with app_client(settings, user="ipfs-tester", redis_prefix=redis_prefix) as c:
        yield c


@pytest.fixture
async def ipfs(ipfs_api: str) -> AsyncIterator[IPFSStore]:
    client = open_ipfs_client(ipfs_api)
    try:
        yield IPFSStore(client)
    finally:
        await client.close()


async def test_primary_upload_lands_on_ipfs(client: Any, ipfs: IPFSStore) -> None:
    data = b"primary " + uuid.uuid4().bytes + os.urandom(300_000)  # two chunks
    resp = await client.post("/cache/upload", params={"filename": "p.bin"}, content=data)
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    assert doc["cid"] == cid_of_bytes(data)
    assert doc["ipfs"] == {"added": True, "cid": doc["cid"]}
    assert await ipfs.cat(doc["cid"]) == data
    assert await ipfs.is_pinned(doc["cid"])


async def test_raw_reads_through_from_ipfs(client: Any, ipfs: IPFSStore) -> None:
    data = b"only on ipfs " + uuid.uuid4().bytes
    cid = await ipfs.add_bytes(data)
    resp = await client.get(f"/cache/{cid}/raw", headers={"Range": "bytes=5-9"})
    assert resp.status_code == 206, resp.text
    assert resp.content == data[5:10]
    # now in the local cache too
    detail = (await client.get(f"/cache/{cid}")).json()
    assert detail["local"] is True and detail["size"] == len(data)
