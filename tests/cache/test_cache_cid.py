"""CIDs computed locally must equal what ``ipfs add`` computes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cache.cid import (
    CHUNK_SIZE,
    MAX_LINKS,
    CIDHasher,
    cid_of_bytes,
    cid_of_file,
    cid_to_bytes,
    normalise_cid,
)
from cache.errors import InvalidCIDError, StorageError
from cache.ipfs import IPFSStore

# Sizes around every boundary of the DAG layout.
BOUNDARY_SIZES = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    1 << 20,
    MAX_LINKS * CHUNK_SIZE,
    MAX_LINKS * CHUNK_SIZE + 1,  # two levels of links
]


def _data(size: int, seed: int = 0) -> bytes:
    return random.Random(seed * 1_000_003 + size).randbytes(size)


@pytest.mark.parametrize(
    ("data", "version", "expected"),
    [
        (b"", 0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
        (b"hello world\n", 0, "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"),
        (b"", 1, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
        (b"hello world\n", 1, "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"),
    ],
)
def test_known_vectors(data: bytes, version: int, expected: str) -> None:
    assert cid_of_bytes(data, version) == expected


@pytest.mark.parametrize("version", [0, 1])
def test_streaming_in_odd_pieces_equals_one_shot(version: int) -> None:
    data = _data(3 * CHUNK_SIZE + 12345)
    hasher = CIDHasher(version)
    rng = random.Random(7)
    pos = 0
    while pos < len(data):
        step = rng.randint(1, 200_000)
        hasher.update(data[pos : pos + step])
        pos += step
    assert hasher.size == len(data)
    assert hasher.cid() == cid_of_bytes(data, version)
    with pytest.raises(RuntimeError):
        hasher.update(b"more")


def test_cid_of_file(tmp_path: Path) -> None:
    data = _data(CHUNK_SIZE * 2 + 5)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert cid_of_file(path) == cid_of_bytes(data)
    assert cid_of_file(path, 1) == cid_of_bytes(data, 1)


def test_multi_chunk_root_differs_from_single_chunk_leaf() -> None:
    one = cid_of_bytes(b"a" * CHUNK_SIZE, 1)
    two = cid_of_bytes(b"a" * (CHUNK_SIZE + 1), 1)
    assert one.startswith("bafkrei")  # a single chunk is the raw leaf itself
    assert two.startswith("bafybei")  # more chunks: a dag-pb root


def test_normalise_base58_cidv1_to_base32() -> None:
    cid = cid_of_bytes(b"x" * 300_000, 1)
    raw = cid_to_bytes(cid)
    # Encode the same binary CID in base58btc ('z'), as js-ipfs prints it.
    from cache.cid import _b58encode

    js_form = "z" + _b58encode(raw)
    assert js_form != cid
    assert normalise_cid(js_form) == cid
    assert normalise_cid(cid.upper()) == cid
    v0 = cid_of_bytes(b"x")
    assert normalise_cid(v0) == v0


@pytest.mark.parametrize("bad", ["", "hello", "Qm" + "0" * 44, "bafy!!", "z0OIl"])
def test_invalid_cids_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidCIDError) as info:
        cid_to_bytes(bad)
    assert isinstance(info.value, StorageError) and isinstance(info.value, ValueError)


def test_bad_version() -> None:
    with pytest.raises(ValueError, match="version"):
        CIDHasher(2)


# --- against the real node -------------------------------------------------------


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
@pytest.mark.parametrize("version", [0, 1])
async def test_matches_real_node(ipfs_store: IPFSStore, size: int, version: int) -> None:
    data = _data(size)
    node = await ipfs_store.add_bytes(data, pin=False, cid_version=version, only_hash=True)
    assert cid_of_bytes(data, version) == node


async def test_matches_real_node_on_actual_add(ipfs_store: IPFSStore) -> None:
    data = _data(CHUNK_SIZE * 3 + 17, seed=3)
    for version in (0, 1):
        node = await ipfs_store.add_bytes(data, pin=False, cid_version=version)
        assert node == cid_of_bytes(data, version)
        assert await ipfs_store.cat(node) == data


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=st.integers(min_value=0, max_value=6 * CHUNK_SIZE), seed=st.integers(0, 1000))
async def test_random_sizes_match_real_node(ipfs_store: IPFSStore, size: int, seed: int) -> None:
    data = _data(size, seed)
    for version in (0, 1):
        node = await ipfs_store.add_bytes(data, pin=False, cid_version=version, only_hash=True)
        assert cid_of_bytes(data, version) == node, (size, version)
