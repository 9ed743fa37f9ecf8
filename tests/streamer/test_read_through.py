"""streamer.content.read_through: the local cache reading through to a content source.

A fake source stands for the IPFS node: what it serves, how often it is
asked, and how it fails (down, missing, wrong bytes) are the test's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.cid import cid_of_bytes
from cache.errors import NotFoundError, StorageError, StorageUnavailableError
from cache.local import LocalStore
from streamer.content.read_through import (
    ContentMismatchError,
    ContentMissingError,
    ContentUnavailableError,
    ReadThrough,
    RetryPolicy,
)

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(30)]

DATA = b"frames of a video " * 20_000  # several 256 KiB chunks
FAST = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)


class FakeSource:
    """Serves ``blobs`` by CID in pieces; ``down`` tries fail first; counts the asks."""

    def __init__(self, blobs: dict[str, bytes], *, down: int = 0, delay: float = 0.0) -> None:
        self.blobs = blobs
        self.down = down
        self.delay = delay
        self.asked: list[str] = []

    async def stream(self, cid: str) -> AsyncIterator[bytes]:
        self.asked.append(cid)
        await asyncio.sleep(self.delay)
        if self.down > 0:
            self.down -= 1
            raise StorageUnavailableError("IPFS node at 127.0.0.1:1 unreachable (cat)")
        if cid not in self.blobs:
            raise NotFoundError(f"IPFS cat {cid}: block not found")
        data = self.blobs[cid]
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]


async def test_a_local_file_is_used_without_asking_the_source(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    item = local.put_bytes(DATA)
    source = FakeSource({})
    reader = ReadThrough(local, source)
    assert await reader.path(item.cid) == item.path
    assert source.asked == [] and reader.fetched == 0


async def test_a_missing_file_is_fetched_verified_and_kept(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    cid = cid_of_bytes(DATA)
    source = FakeSource({cid: DATA})
    seen: list[str] = []
    reader = ReadThrough(local, source, on_fetch=seen.append)
    path = await reader.path(cid, "input 'video'")
    assert path.read_bytes() == DATA and local.has(cid)
    assert await reader.read(cid) == DATA  # now local: not asked again
    assert source.asked == [cid] and seen == [cid] and reader.fetched == 1
    assert not any((Path(local.root) / ".tmp").iterdir())  # no partial file left


async def test_concurrent_askers_share_one_fetch(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    cid = cid_of_bytes(DATA)
    source = FakeSource({cid: DATA}, delay=0.05)
    reader = ReadThrough(local, source)
    paths = await asyncio.gather(*(reader.path(cid) for _ in range(5)))
    assert len(set(paths)) == 1 and source.asked == [cid]


async def test_a_node_that_comes_back_is_retried_with_backoff(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    cid = cid_of_bytes(DATA)
    source = FakeSource({cid: DATA}, down=2)
    reader = ReadThrough(local, source, policy=FAST)
    assert (await reader.path(cid)).read_bytes() == DATA
    assert source.asked == [cid] * 3


async def test_a_node_that_stays_down_fails_clearly_after_bounded_tries(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    cid = cid_of_bytes(DATA)
    source = FakeSource({cid: DATA}, down=100)
    reader = ReadThrough(local, source, policy=FAST)
    t0 = time.monotonic()
    with pytest.raises(ContentUnavailableError) as err:
        await reader.path(cid, "input 'video'")
    assert time.monotonic() - t0 < 2
    assert len(source.asked) == 3
    assert "input 'video'" in str(err.value) and "did not answer (3 tries)" in str(err.value)
    assert isinstance(err.value, StorageUnavailableError)  # a StorageError: 503 in the API


async def test_a_hanging_node_is_bounded_by_the_attempt_timeout(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    cid = cid_of_bytes(DATA)
    source = FakeSource({cid: DATA}, delay=10)
    policy = RetryPolicy(attempts=2, first_delay=0.01, attempt_timeout=0.1)
    with pytest.raises(ContentUnavailableError):
        await ReadThrough(local, source, policy=policy).path(cid)
    assert len(source.asked) == 2 and not local.has(cid)


async def test_content_nobody_has_is_missing_at_once(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    source = FakeSource({})
    cid = cid_of_bytes(b"nobody has this")
    with pytest.raises(ContentMissingError, match="neither here nor on IPFS"):
        await ReadThrough(local, source, policy=FAST).path(cid)
    assert len(source.asked) == 1  # "not found" is an answer: no retry
    with pytest.raises(ContentMissingError, match="no IPFS node"):
        await ReadThrough(local, None).path(cid)


async def test_bytes_that_hash_to_another_cid_are_refused(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    cid = cid_of_bytes(DATA)
    source = FakeSource({cid: b"something else"})
    with pytest.raises(ContentMismatchError, match="not used") as err:
        await ReadThrough(local, source).path(cid)
    assert isinstance(err.value, StorageError)
    assert not local.has(cid)


async def test_an_asker_cancelled_mid_fetch_leaves_the_others_fetching(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    cid = cid_of_bytes(DATA)
    source = FakeSource({cid: DATA}, delay=0.2)
    reader = ReadThrough(local, source)
    first = asyncio.create_task(reader.path(cid))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(reader.path(cid))
    await asyncio.sleep(0.05)
    first.cancel()
    assert (await asyncio.wait_for(second, 5)).read_bytes() == DATA
    assert first.cancelled() and len(source.asked) == 2  # the second fetched it itself
