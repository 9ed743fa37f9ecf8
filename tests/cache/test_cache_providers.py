"""Storage backends: one Protocol, same CID for the same bytes everywhere."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import aioipfs
import pytest

from cache.cid import cid_of_bytes
from cache.errors import InvalidCIDError, NotFoundError
from cache.ipfs import IPFSStore, open_ipfs_client
from cache.local import LocalStore
from cache.providers import IPFSBackend, LocalBackend, RunFolders, S3Backend, StorageBackend
from cache.s3 import S3Store


@pytest.fixture
def backends(tmp_path: Path, ipfs_store: IPFSStore, s3_store: S3Store) -> list[StorageBackend]:
    return [
        LocalBackend(LocalStore(tmp_path)),
        IPFSBackend(ipfs_store),
        S3Backend(s3_store, prefix="content/"),
    ]


async def test_round_trip_and_same_cid(backends: list[StorageBackend]) -> None:
    data = os.urandom(300_000)
    expected = cid_of_bytes(data)
    for backend in backends:
        assert isinstance(backend, StorageBackend)
        assert await backend.has(expected) is False, backend.name
        cid = await backend.put(data)
        assert cid == expected, backend.name
        assert await backend.has(cid) is True, backend.name
        assert await backend.get(cid) == data, backend.name
        assert await backend.delete(cid) is True, backend.name
        assert await backend.has(cid) is False, backend.name


async def test_put_file_gives_the_same_cid(
    backends: list[StorageBackend], tmp_path: Path, s3_store: S3Store
) -> None:
    data = os.urandom(6 * 1024 * 1024 + 123)  # over one S3 part: a multipart upload
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    expected = cid_of_bytes(data)
    for backend in backends:
        assert await backend.put_file(src) == expected, backend.name
        assert await backend.has(expected), backend.name
        assert await backend.get(expected) == data, backend.name
        await backend.delete(expected)
    assert src.read_bytes() == data  # the source is only read


async def test_delete_then_get_is_not_found(backends: list[StorageBackend]) -> None:
    local, _, s3 = backends
    for backend in (local, s3):
        cid = await backend.put(b"gone soon")
        await backend.delete(cid)
        with pytest.raises(NotFoundError):
            await backend.get(cid)
        assert await backend.delete(cid) is False


async def test_s3_keys_are_cids(s3_store: S3Store) -> None:
    backend = S3Backend(s3_store, prefix="p/")
    cid = await backend.put(b"abc")
    assert await s3_store.exists(f"p/{cid}")
    with pytest.raises(InvalidCIDError):
        await backend.get("../../secret")


async def test_s3_keeps_run_folders_by_name(s3_store: S3Store) -> None:
    backend = S3Backend(s3_store, prefix="p/")
    other = S3Backend(s3_store, prefix="p/")
    assert isinstance(backend, RunFolders)
    assert not isinstance(LocalBackend(LocalStore(Path("/nonexistent"))), RunFolders)
    assert not await backend.has_run_file("run-1", "playlist.m3u8")
    await backend.put_run_file("run-1", "seg.ts", b"ts", "video/mp2t")
    await backend.put_run_file(
        "run-1", "playlist.m3u8", b"#EXTM3U", "application/vnd.apple.mpegurl"
    )
    await other.put_run_file("run-2", "seg.ts", b"ts", "video/mp2t")
    assert await backend.has_run_file("run-1", "playlist.m3u8")
    assert await s3_store.get("p/hls/run-1/seg.ts") == b"ts"
    head = await s3_store.client.head_object(
        Bucket=s3_store.bucket, Key="p/hls/run-1/playlist.m3u8"
    )
    assert head["ContentType"] == "application/vnd.apple.mpegurl"
    assert await backend.delete_run_files("run-1") == 2
    assert not await backend.has_run_file("run-1", "seg.ts")
    assert await other.has_run_file("run-2", "seg.ts")  # another run's folder stays
    assert await backend.delete_run_files("run-1") == 0


async def test_backend_self_tests(backends: list[StorageBackend]) -> None:
    for backend in backends:
        report = await backend.test()
        assert report["ok"] is True, report
        assert report["latency_ms"] >= 0
        assert report["detail"]


async def test_ipfs_self_test_reports_unreachable_node() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client: aioipfs.AsyncIPFS = open_ipfs_client(f"/ip4/127.0.0.1/tcp/{port}")
    try:
        report = await IPFSBackend(IPFSStore(client, timeout=3)).test()
    finally:
        await client.close()
    assert report["ok"] is False
    assert "unreachable" in report["detail"]
