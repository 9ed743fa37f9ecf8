"""LocalStore: content addressing, atomic writes, limits, JSON documents."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.cid import CHUNK_SIZE, cid_of_bytes
from cache.errors import InvalidCIDError, NotFoundError, StorageError, TooLargeError
from cache.local import LocalStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "cache")


def _tmp_files(store: LocalStore) -> list[Path]:
    return list((store.root / ".tmp").iterdir())


def test_put_bytes_is_content_addressed(store: LocalStore) -> None:
    data = b"segment data" * 1000
    item = store.put_bytes(data, suffix=".ts")
    assert item.cid == cid_of_bytes(data)
    assert item.size == len(data)
    assert item.path == store.root / item.cid[-2:] / f"{item.cid}.ts"
    assert store.has(item.cid)
    assert store.path(item.cid) == item.path
    assert store.read(item.cid) == data
    with store.open(item.cid) as fh:
        assert fh.read() == data
    assert list(store) == [item.cid]
    assert _tmp_files(store) == []


def test_same_content_is_stored_once(store: LocalStore) -> None:
    first = store.put_bytes(b"same")
    second = store.put_bytes(b"same", suffix=".bin")
    assert first == second
    assert list(store) == [first.cid]
    assert _tmp_files(store) == []


def test_cid_version_1(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, cid_version=1)
    item = store.put_bytes(b"hello world\n")
    assert item.cid == "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
    assert store.has(item.cid)


def test_delete(store: LocalStore) -> None:
    cid = store.put_bytes(b"bye").cid
    assert store.delete(cid) is True
    assert not store.has(cid)
    assert store.delete(cid) is False
    with pytest.raises(NotFoundError) as info:
        store.path(cid)
    assert isinstance(info.value, KeyError)
    assert cid in str(info.value)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "Qm/../x", "", "notacid", "Qm" + "l" * 44])
def test_invalid_cids_never_touch_the_filesystem(store: LocalStore, bad: str) -> None:
    with pytest.raises(InvalidCIDError):
        store.path(bad)
    assert store.has(bad) is False


def test_bad_suffix(store: LocalStore) -> None:
    with pytest.raises(ValueError, match="suffix"):
        store.put_bytes(b"x", suffix="/../x")


def test_put_file_streams_and_keeps_the_suffix(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "input.mp4"
    data = bytes(range(256)) * (CHUNK_SIZE // 64)  # 4 chunks
    src.write_bytes(data)
    item = store.put_file(src)
    assert item.cid == cid_of_bytes(data)
    assert item.path.suffix == ".mp4"
    assert item.path.read_bytes() == data
    assert src.exists()  # a copy, not a move


def test_put_file_limit_and_missing(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * 5000)
    with pytest.raises(TooLargeError):
        store.put_file(src, max_bytes=4999)
    assert list(store) == [] and _tmp_files(store) == []
    assert store.put_file(src, max_bytes=5000).size == 5000
    with pytest.raises(NotFoundError):
        store.put_file(tmp_path / "absent.bin")


async def _chunks(pieces: list[bytes], fail_after: int | None = None) -> AsyncIterator[bytes]:
    for i, piece in enumerate(pieces):
        if fail_after is not None and i == fail_after:
            raise ConnectionResetError("client went away")
        yield piece


async def test_put_stream(store: LocalStore) -> None:
    pieces = [bytes([i]) * 100_000 for i in range(7)]
    item = await store.put_stream(_chunks(pieces), suffix=".wav")
    assert item.cid == cid_of_bytes(b"".join(pieces))
    assert item.size == 700_000
    assert store.read(item.cid) == b"".join(pieces)


async def test_put_stream_over_the_limit_keeps_nothing(store: LocalStore) -> None:
    pieces = [b"a" * 1000] * 5
    with pytest.raises(TooLargeError, match="4500"):
        await store.put_stream(_chunks(pieces), max_bytes=4500)
    assert list(store) == []
    assert _tmp_files(store) == []
    item = await store.put_stream(_chunks(pieces), max_bytes=5000)
    assert item.size == 5000


async def test_put_stream_failing_midway_keeps_nothing(store: LocalStore) -> None:
    pieces = [b"b" * 1000] * 5
    with pytest.raises(ConnectionResetError):
        await store.put_stream(_chunks(pieces, fail_after=3))
    assert list(store) == []
    assert _tmp_files(store) == []
    assert not store.has(cid_of_bytes(b"b" * 3000))
    assert not store.has(cid_of_bytes(b"b" * 5000))


def test_crash_mid_write_leaves_no_file_under_a_cid(store: LocalStore) -> None:
    """A process killed with SIGKILL mid-write leaves at most a temp file."""
    child = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from cache.local import LocalStore
        store = LocalStore({str(store.root)!r})

        class SlowSource:
            def __init__(self):
                self.n = 0
            def read(self, size):
                self.n += 1
                if self.n == 3:
                    print("WRITING", flush=True)
                    time.sleep(60)
                return b"c" * size

        from pathlib import Path
        real_open = Path.open
        Path.open = lambda self, *a, **k: SlowSource() if self.name == "src" else real_open(self, *a, **k)
        SlowSource.__enter__ = lambda self: self
        SlowSource.__exit__ = lambda self, *a: None
        store.put_file(Path("src"))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "WRITING"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert list(store) == []  # nothing under any CID
    leftovers = _tmp_files(store)
    assert len(leftovers) == 1 and leftovers[0].stat().st_size == 2 << 20
    assert store.cleanup_tmp(older_than=3600) == 0  # fresh: could be a live writer's
    assert store.cleanup_tmp(older_than=0) == 1
    assert _tmp_files(store) == []


def test_json_documents(store: LocalStore) -> None:
    plan = {"steps": [{"id": "a", "level": 0}], "name": "beat-sync"}
    path = store.put_json("plans", "abc123", plan)
    assert path == store.root / "plans" / "abc123.json"
    assert store.get_json("plans", "abc123") == plan
    assert store.has_json("plans", "abc123")
    assert not store.has_json("analysis", "abc123")
    with pytest.raises(NotFoundError):
        store.get_json("analysis", "abc123")
    store.put_json("plans", "abc123", {"v": 2})  # overwrite is atomic
    assert store.get_json("plans", "abc123") == {"v": 2}
    assert _tmp_files(store) == []


@pytest.mark.parametrize(
    ("kind", "doc_id"), [("runs", "x"), ("plans", "../x"), ("plans", ""), ("plans", ".hidden")]
)
def test_json_bad_names(store: LocalStore, kind: str, doc_id: str) -> None:
    with pytest.raises(ValueError):
        store.put_json(kind, doc_id, {})


def test_corrupt_json_is_a_storage_error_with_position(store: LocalStore) -> None:
    (store.root / "analysis" / "bad.json").write_text('{"a": 1,\n oops}')
    with pytest.raises(StorageError, match=r"bad.json: line 2"):
        store.get_json("analysis", "bad")


async def test_async_wrappers(store: LocalStore, tmp_path: Path) -> None:
    item = await store.aput_bytes(b"async", suffix=".txt")
    assert await store.aread(item.cid) == b"async"
    src = tmp_path / "s.bin"
    src.write_bytes(b"file")
    assert (await store.aput_file(src)).cid == cid_of_bytes(b"file")
    await store.aput_json("analysis", "id1", [1, 2])
    assert await store.aget_json("analysis", "id1") == [1, 2]
    assert await store.adelete(item.cid) is True
