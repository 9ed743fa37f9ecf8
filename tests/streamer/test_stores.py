"""streamer.content.stores.fetch_into_local: a CID missing locally is streamed from IPFS into the cache."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.errors import StorageError
from cache.ipfs import IPFSStore, open_ipfs_client
from cache.local import LocalStore
from streamer.content.stores import fetch_into_local


@pytest.fixture
async def ipfs(ipfs_api: str) -> AsyncIterator[IPFSStore]:
    client = open_ipfs_client(ipfs_api)
    try:
        yield IPFSStore(client)
    finally:
        await client.close()


async def test_fetch_streams_the_content_into_the_local_store(
    ipfs: IPFSStore, tmp_path: Path
) -> None:
    data = uuid.uuid4().bytes + os.urandom(600_000)  # several IPFS chunks and stream pieces
    cid = await ipfs.add_bytes(data)
    local = LocalStore(tmp_path / "cache", fsync=False)
    assert not local.has(cid)
    path = await fetch_into_local(local, ipfs, cid)
    assert path.read_bytes() == data
    assert local.has(cid) and local.path(cid) == path


async def test_fetch_of_a_cid_the_node_cannot_give_raises_a_storage_error(
    ipfs: IPFSStore, tmp_path: Path
) -> None:
    local = LocalStore(tmp_path / "cache", fsync=False)
    with pytest.raises(StorageError):
        await fetch_into_local(local, ipfs, "not-a-cid")
    assert local.cleanup_tmp(older_than=0) == 0  # no partial file left behind
