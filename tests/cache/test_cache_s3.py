"""S3Store against a real S3 endpoint (moto_server)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from aiobotocore.session import get_session

from cache.errors import NotFoundError, StorageUnavailableError
from cache.s3 import PART_SIZE, S3Store, open_s3_client


async def test_ensure_bucket_is_idempotent(s3_store: S3Store) -> None:
    await s3_store.ensure_bucket()
    await s3_store.put_bytes("a", b"1")
    await s3_store.ensure_bucket()
    assert await s3_store.get("a") == b"1"


async def test_put_get_range_exists_delete(s3_store: S3Store) -> None:
    data = bytes(range(256)) * 10
    await s3_store.put_bytes("dir/obj.bin", data, content_type="application/octet-stream")
    assert await s3_store.exists("dir/obj.bin")
    assert await s3_store.get("dir/obj.bin") == data
    assert await s3_store.get("dir/obj.bin", range=(10, 19)) == data[10:20]
    assert await s3_store.get("dir/obj.bin", range=(2500, None)) == data[2500:]
    await s3_store.delete("dir/obj.bin")
    assert not await s3_store.exists("dir/obj.bin")
    await s3_store.delete("dir/obj.bin")  # absent: no error


async def test_missing_key_is_not_found(s3_store: S3Store) -> None:
    with pytest.raises(NotFoundError, match="missing"):
        await s3_store.get("missing")
    with pytest.raises(KeyError):
        async for _ in s3_store.stream("missing"):
            pass


async def test_multipart_put_file_and_stream(s3_store: S3Store, tmp_path: Path) -> None:
    data = os.urandom(2 * PART_SIZE + 12345)  # three parts
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert await s3_store.put_file("big.bin", path) == len(data)
    pieces = [p async for p in s3_store.stream("big.bin", chunk_size=1 << 20)]
    assert b"".join(pieces) == data
    assert len(pieces) >= 3
    listed = await s3_store.list("big")
    assert listed[0]["key"] == "big.bin" and listed[0]["size"] == len(data)
    # Multipart ETags end in "-<parts>": proves it really went up in parts.
    assert listed[0]["etag"].strip('"').endswith("-3")


async def test_small_put_file_is_one_request(s3_store: S3Store, tmp_path: Path) -> None:
    path = tmp_path / "small.bin"
    path.write_bytes(b"small")
    assert await s3_store.put_file("small.bin", path) == 5
    assert (await s3_store.list())[0]["etag"].strip('"').count("-") == 0


async def test_list_is_paginated(s3_store: S3Store) -> None:
    for i in range(7):
        await s3_store.put_bytes(f"seg/{i:03d}.ts", b"x" * i)
    await s3_store.put_bytes("other/1", b"y")
    listed = await s3_store.list("seg/", page_size=2)  # four pages
    assert [o["key"] for o in listed] == [f"seg/{i:03d}.ts" for i in range(7)]
    assert [o["size"] for o in listed] == list(range(7))
    assert len(await s3_store.list()) == 8


async def test_unreachable_endpoint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with open_s3_client(
        get_session(), f"http://127.0.0.1:{port}", keys=("k", "s"), timeout=3
    ) as client:
        store = S3Store(client, "bucket")
        with pytest.raises(StorageUnavailableError):
            await store.put_bytes("k", b"v")
