"""IPFSStore against a real node (js-ipfs here, Kubo in production)."""

from __future__ import annotations

import os
import socket

import aioipfs
import pytest

from cache.cid import CHUNK_SIZE, cid_of_bytes
from cache.errors import (
    InvalidCIDError,
    NotFoundError,
    StorageError,
    StorageTimeoutError,
    StorageUnavailableError,
)
from cache.ipfs import IPFSStore, open_ipfs_client, parse_api_multiaddr


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("/ip4/127.0.0.1/tcp/5001", ("http", "127.0.0.1", 5001)),
        ("/dns/localhost/tcp/5001", ("http", "localhost", 5001)),
        ("/dns4/ipfs/tcp/5001/http", ("http", "ipfs", 5001)),
        ("/dns6/node.example/tcp/443/https", ("https", "node.example", 443)),
        ("/ip6/::1/tcp/5001", ("http", "::1", 5001)),
    ],
)
def test_parse_api_multiaddr(addr: str, expected: tuple[str, str, int]) -> None:
    assert parse_api_multiaddr(addr) == expected


@pytest.mark.parametrize(
    "bad", ["http://127.0.0.1:5001", "/ip4/127.0.0.1", "/ip4/1.2.3.4/udp/5", "/ip4/h/tcp/70000"]
)
def test_parse_api_multiaddr_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="multiaddr"):
        parse_api_multiaddr(bad)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_unreachable_node_is_unavailable() -> None:
    client = open_ipfs_client(f"/ip4/127.0.0.1/tcp/{_closed_port()}")
    try:
        store = IPFSStore(client, timeout=5)
        with pytest.raises(StorageUnavailableError, match="unreachable"):
            await store.ping()
        with pytest.raises(StorageUnavailableError):
            await store.add_bytes(b"x")
        with pytest.raises(StorageUnavailableError):
            async for _ in store.stream("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"):
                pass
    finally:
        await client.close()


async def test_ping(ipfs_store: IPFSStore) -> None:
    info = await ipfs_store.ping()
    assert info["ID"]
    assert "AgentVersion" in info


async def test_add_cat_stream_round_trip(ipfs_store: IPFSStore) -> None:
    data = os.urandom(CHUNK_SIZE * 2 + 999)
    cid = await ipfs_store.add_bytes(data)
    assert cid == cid_of_bytes(data)
    assert await ipfs_store.cat(cid) == data
    pieces = [p async for p in ipfs_store.stream(cid, chunk_size=50_000)]
    assert b"".join(pieces) == data
    assert len(pieces) > 1


async def test_add_cidv1_is_normalised_base32(ipfs_store: IPFSStore) -> None:
    data = os.urandom(CHUNK_SIZE + 1)
    cid = await ipfs_store.add_bytes(data, cid_version=1)
    assert cid.startswith("bafybei")
    assert cid == cid_of_bytes(data, 1)
    assert await ipfs_store.cat(cid) == data


async def test_pin_unpin(ipfs_store: IPFSStore) -> None:
    data = os.urandom(1000)
    cid = await ipfs_store.add_bytes(data, pin=False)
    assert await ipfs_store.is_pinned(cid) is False
    await ipfs_store.pin(cid)
    assert await ipfs_store.is_pinned(cid) is True
    assert await ipfs_store.unpin(cid) is True
    assert await ipfs_store.is_pinned(cid) is False
    assert await ipfs_store.unpin(cid) is False
    pinned = await ipfs_store.add_bytes(os.urandom(10))  # pin=True by default
    assert await ipfs_store.is_pinned(pinned) is True


async def test_invalid_cid_is_an_error(ipfs_store: IPFSStore) -> None:
    with pytest.raises((InvalidCIDError, StorageError)) as info:
        await ipfs_store.cat("not-a-cid")
    assert "not-a-cid" in str(info.value) or "cat" in str(info.value)


async def test_unknown_content_times_out_or_is_not_found(ipfs_client: aioipfs.AsyncIPFS) -> None:
    store = IPFSStore(ipfs_client, timeout=2)
    unknown = cid_of_bytes(os.urandom(64))  # valid CID nobody has
    with pytest.raises((StorageTimeoutError, NotFoundError)):
        await store.cat(unknown)
