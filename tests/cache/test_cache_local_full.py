"""LocalStore on a full disk (a small tmpfs): a clear StorageFullError naming the cache
directory, no partial file left, what was stored before intact, and room again once freed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from cache.cid import cid_of_bytes
from cache.errors import StorageError, StorageFullError
from cache.local import LocalStore
from tests.tmpfs import small_tmpfs

TOO_MUCH = 512 * 1024  # the tmpfs holds 256 KiB


async def _chunks(data: bytes, size: int = 32 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _tmp_files(store: LocalStore) -> list[Path]:
    return list((store.root / ".tmp").iterdir())


async def test_full_disk_raises_storage_full_and_keeps_nothing(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "fs", 256) as root:
        store = LocalStore(root)
        kept = os.urandom(64 * 1024)
        item = store.put_bytes(kept, suffix=".bin")
        writes: dict[str, Callable[[], Awaitable[object]]] = {
            "put_bytes": lambda: store.aput_bytes(os.urandom(TOO_MUCH)),
            "put_stream": lambda: store.put_stream(_chunks(os.urandom(TOO_MUCH))),
            "put_json": lambda: store.aput_json("plans", "big", {"x": "y" * TOO_MUCH}),
        }
        for name, write in writes.items():
            with pytest.raises(StorageFullError) as caught:
                await write()
            message = str(caught.value)
            assert f"no space left in the cache directory {root}" in message, (name, message)
            assert isinstance(caught.value, StorageError)
            assert _tmp_files(store) == [], name
        assert list(store) == [item.cid]
        assert not store.has_json("plans", "big")
        assert cid_of_bytes(store.read(item.cid)) == item.cid  # intact

        src = tmp_path / "big.bin"
        src.write_bytes(os.urandom(TOO_MUCH))
        with pytest.raises(StorageFullError):
            store.put_file(src)
        assert _tmp_files(store) == []

        assert store.delete(item.cid)  # room again
        again = await store.put_stream(_chunks(kept))
        assert again.cid == item.cid
