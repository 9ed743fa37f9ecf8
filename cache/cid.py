"""IPFS content ids computed locally, byte for byte as ``ipfs add`` does by default.

``ipfs add`` (Kubo and js-ipfs) with default settings chunks a file into
262144-byte pieces and builds a *balanced* DAG of UnixFS ``File`` nodes with at
most 174 links per node, encoded as dag-pb protobuf and hashed with sha2-256.

* CIDv0 (``Qm...``): every leaf is a dag-pb node wrapping UnixFS ``File`` data.
* CIDv1 (``b...``, base32 as Kubo prints it): leaves are raw blocks (codec
  ``raw``), inner nodes are dag-pb. A file of one chunk is the raw leaf itself.

The protobuf encoding is written by hand: it is a handful of varints.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cache.errors import InvalidCIDError

__all__ = [
    "CHUNK_SIZE",
    "MAX_LINKS",
    "CIDHasher",
    "cid_of_bytes",
    "cid_of_file",
    "cid_to_bytes",
    "normalise_cid",
]

CHUNK_SIZE = 262144
MAX_LINKS = 174

_DAG_PB = 0x70
_RAW = 0x55
_SHA2_256 = 0x12
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_UNIXFS_FILE = 2


# --- encodings -------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise InvalidCIDError("truncated varint in CID")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58_ALPHABET[r])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def _b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        try:
            n = n * 58 + _B58_INDEX[c]
        except KeyError:
            raise InvalidCIDError(f"invalid base58 character {c!r} in CID {text!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _b32decode(text: str) -> bytes:
    pad = "=" * (-len(text) % 8)
    try:
        return base64.b32decode(text.upper() + pad)
    except ValueError as exc:
        raise InvalidCIDError(f"invalid base32 CID {text!r}: {exc}") from None


def _field_bytes(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _field_varint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _unixfs_file(data: bytes | None, filesize: int, blocksizes: Iterable[int] = ()) -> bytes:
    """UnixFS ``Data`` message (proto2: blocksizes are not packed)."""
    out = _field_varint(1, _UNIXFS_FILE)
    if data:
        out += _field_bytes(2, data)
    out += _field_varint(3, filesize)
    for size in blocksizes:
        out += _field_varint(4, size)
    return out


def _dag_pb(links: Iterable[tuple[bytes, int]], data: bytes) -> bytes:
    """dag-pb ``PBNode``: Links (field 2) come before Data (field 1); Name is always written."""
    out = bytearray()
    for cid_bytes, tsize in links:
        link = _field_bytes(1, cid_bytes) + _field_bytes(2, b"") + _field_varint(3, tsize)
        out += _field_bytes(2, link)
    out += _field_bytes(1, data)
    return bytes(out)


def _cid_bytes(block: bytes, codec: int, version: int) -> bytes:
    multihash = bytes([_SHA2_256, 32]) + hashlib.sha256(block).digest()
    if version == 0:
        return multihash
    return _varint(1) + _varint(codec) + multihash


def _cid_text(cid: bytes) -> str:
    if cid[:2] == bytes([_SHA2_256, 32]) and len(cid) == 34:
        return _b58encode(cid)
    return "b" + _b32encode(cid)


def cid_to_bytes(cid: str) -> bytes:
    """Binary form of a CID string (CIDv0 base58btc, CIDv1 base32 ``b`` or base58btc ``z``).

    Raises:
        InvalidCIDError: The text is not a CID in a supported base.
    """
    cid = cid.strip()
    if len(cid) == 46 and cid.startswith("Qm"):
        raw = _b58decode(cid)
    elif cid[:1] in ("b", "B"):
        raw = _b32decode(cid[1:])
    elif cid[:1] == "z":
        raw = _b58decode(cid[1:])
    else:
        raise InvalidCIDError(f"not a CID (expected Qm..., b... or z...): {cid!r}")
    if len(raw) == 34 and raw[0] == _SHA2_256:
        return raw
    version, pos = _read_varint(raw, 0)
    if version != 1:
        raise InvalidCIDError(f"unsupported CID version {version} in {cid!r}")
    _, pos = _read_varint(raw, pos)  # codec
    _, pos = _read_varint(raw, pos)  # hash function
    length, pos = _read_varint(raw, pos)
    if len(raw) - pos != length:
        raise InvalidCIDError(f"CID {cid!r} has a digest of the wrong length")
    return raw


def normalise_cid(cid: str) -> str:
    """Canonical text of a CID: CIDv0 as ``Qm...``, CIDv1 in base32 (as Kubo prints).

    js-ipfs prints CIDv1 in base58btc (``z...``); normalising makes it
    comparable with Kubo's output and with :func:`cid_of_bytes`.
    """
    return _cid_text(cid_to_bytes(cid))


# --- the DAG builder -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    cid: bytes
    tsize: int  # cumulative size of the encoded blocks under this link
    filesize: int  # bytes of file content under this link


class CIDHasher:
    """Streaming CID of a file: ``update(chunk)`` any number of times, then ``cid()``.

    Memory use is bounded by one chunk plus 174 links per tree level.

    Args:
        version: 0 for CIDv0 (dag-pb leaves), 1 for CIDv1 (raw leaves).
    """

    def __init__(self, version: int = 0) -> None:
        if version not in (0, 1):
            raise ValueError(f"CID version must be 0 or 1, got {version!r}")
        self.version = version
        self.size = 0
        self._buf = bytearray()
        self._levels: list[list[_Node]] = [[]]
        self._leaves = 0
        self._result: str | None = None

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Feed more file content."""
        if self._result is not None:
            raise RuntimeError("CIDHasher.update() after cid()")
        self.size += len(chunk)
        self._buf += chunk
        if len(self._buf) >= CHUNK_SIZE:
            view = memoryview(self._buf)
            full = len(self._buf) - len(self._buf) % CHUNK_SIZE
            for start in range(0, full, CHUNK_SIZE):
                self._add_leaf(bytes(view[start : start + CHUNK_SIZE]))
            view.release()
            del self._buf[:full]

    def _leaf(self, data: bytes) -> _Node:
        if self.version == 1:
            return _Node(_cid_bytes(data, _RAW, 1), len(data), len(data))
        block = _dag_pb((), _unixfs_file(data, len(data)))
        return _Node(_cid_bytes(block, _DAG_PB, 0), len(block), len(data))

    def _add_leaf(self, data: bytes) -> None:
        self._leaves += 1
        self._push(0, self._leaf(data))

    def _push(self, level: int, node: _Node) -> None:
        if level == len(self._levels):
            self._levels.append([])
        self._levels[level].append(node)
        if len(self._levels[level]) == MAX_LINKS:
            full = self._levels[level]
            self._levels[level] = []
            self._push(level + 1, self._parent(full))

    def _parent(self, children: list[_Node]) -> _Node:
        filesize = sum(c.filesize for c in children)
        data = _unixfs_file(None, filesize, (c.filesize for c in children))
        block = _dag_pb(((c.cid, c.tsize) for c in children), data)
        tsize = len(block) + sum(c.tsize for c in children)
        return _Node(_cid_bytes(block, _DAG_PB, self.version), tsize, filesize)

    def cid(self) -> str:
        """The CID of everything fed so far; the hasher is finished afterwards."""
        if self._result is not None:
            return self._result
        if self._buf or self._leaves == 0:  # an empty file is one empty leaf
            self._add_leaf(bytes(self._buf))
            self._buf.clear()
        depth = 0
        while MAX_LINKS**depth < self._leaves:
            depth += 1
        # Partial levels close bottom-up; a lone child still gets its own
        # parent node below the root, as go-unixfs's balanced builder does.
        for level in range(depth):
            pending = self._levels[level] if level < len(self._levels) else []
            if pending:
                self._levels[level] = []
                if level + 1 == len(self._levels):
                    self._levels.append([])
                self._levels[level + 1].append(self._parent(pending))
        (root,) = self._levels[depth]
        self._result = _cid_text(root.cid)
        return self._result


def cid_of_bytes(data: bytes | bytearray | memoryview, version: int = 0) -> str:
    """CID that ``ipfs add`` (default settings; CIDv1 with raw leaves) gives ``data``."""
    hasher = CIDHasher(version)
    hasher.update(data)
    return hasher.cid()


def cid_of_file(path: str | os.PathLike[str], version: int = 0) -> str:
    """CID of a file's content, read in 1 MiB pieces (blocking: call via a thread)."""
    hasher = CIDHasher(version)
    with Path(path).open("rb") as fh:
        while piece := fh.read(1 << 20):
            hasher.update(piece)
    return hasher.cid()
