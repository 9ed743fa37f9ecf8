"""Local content-addressed cache: files named by their IPFS CID, plus JSON documents.

Layout under ``root``::

    <last two CID characters>/<cid>[suffix]   content, fanned out over subdirectories
    plans/<id>.json, analysis/<id>.json       JSON documents by id
    .tmp/                                     partial writes, renamed into place when complete

Every write goes to ``.tmp/`` first and is renamed atomically, so a crash
mid-write never leaves a partial file under a CID; a full disk (``ENOSPC``,
``EDQUOT``) removes the partial file and raises :class:`StorageFullError`
naming the cache directory. The methods do blocking file I/O; the
``a``-prefixed coroutines run them in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import re
import tempfile
import time
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from cache.cid import CIDHasher, cid_to_bytes
from cache.errors import (
    InvalidCIDError,
    NotFoundError,
    StorageError,
    StorageFullError,
    TooLargeError,
)

__all__ = ["JSON_KINDS", "LocalStore", "StoredItem"]

JSON_KINDS = ("plans", "analysis")
_COPY_PIECE = 1 << 20
_CID_CHARS = re.compile(r"^[A-Za-z0-9]+$")
_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_SUFFIX = re.compile(r"^(\.[A-Za-z0-9]{1,16})?$")
_FULL = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A stored file: its CID, where it lives and its size in bytes."""

    cid: str
    path: Path
    size: int


class LocalStore:
    """Content-addressed files under ``root`` (see the module docstring for the layout).

    Args:
        root: Cache directory; created if missing.
        cid_version: 0 (``Qm...``, the default) or 1 (raw leaves, base32).
        fsync: Flush file data to disk before the rename, so a power loss
            cannot leave an empty file under a CID either.
    """

    def __init__(self, root: str | os.PathLike[str], *, cid_version: int = 0, fsync: bool = True):
        if cid_version not in (0, 1):
            raise ValueError(f"cid_version must be 0 or 1, got {cid_version!r}")
        self.root = Path(root)
        self.cid_version = cid_version
        self.fsync = fsync
        self._tmp = self.root / ".tmp"
        for sub in (self._tmp, *(self.root / k for k in JSON_KINDS)):
            sub.mkdir(parents=True, exist_ok=True)

    # --- naming -----------------------------------------------------------

    def _dir(self, cid: str) -> Path:
        if not _CID_CHARS.match(cid):
            raise InvalidCIDError(f"not a CID: {cid!r}")
        cid_to_bytes(cid)  # raises InvalidCIDError
        return self.root / cid[-2:]

    def _find(self, cid: str) -> Path | None:
        folder = self._dir(cid)
        exact = folder / cid
        if exact.is_file():
            return exact
        for candidate in folder.glob(f"{cid}.*") if folder.is_dir() else ():
            if candidate.is_file():
                return candidate
        return None

    def path(self, cid: str) -> Path:
        """Path of the stored file.

        Raises:
            NotFoundError: Nothing is stored under ``cid``.
            InvalidCIDError: ``cid`` is not a CID.
        """
        found = self._find(cid)
        if found is None:
            raise NotFoundError(f"{cid} is not in the local cache {self.root}")
        return found

    def has(self, cid: str) -> bool:
        """Whether ``cid`` is stored (False for text that is not a CID)."""
        try:
            return self._find(cid) is not None
        except InvalidCIDError:
            return False

    def open(self, cid: str) -> BinaryIO:
        """Open the stored file for binary reading."""
        return self.path(cid).open("rb")

    def read(self, cid: str) -> bytes:
        """All bytes stored under ``cid``."""
        return self.path(cid).read_bytes()

    def delete(self, cid: str) -> bool:
        """Remove ``cid``; returns whether something was removed."""
        found = self._find(cid)
        if found is None:
            return False
        found.unlink(missing_ok=True)
        return True

    def __iter__(self) -> Iterator[str]:
        """CIDs of every stored file."""
        for folder in sorted(self.root.iterdir()):
            if len(folder.name) == 2 and folder.is_dir():
                for f in sorted(folder.iterdir()):
                    yield f.name.split(".", 1)[0]

    # --- writing ----------------------------------------------------------

    @contextlib.contextmanager
    def _space(self) -> Iterator[None]:
        """Turn a full disk into :class:`StorageFullError` naming the cache directory."""
        try:
            yield
        except OSError as exc:
            if exc.errno not in _FULL or isinstance(exc, StorageError):
                raise
            raise StorageFullError(
                f"no space left in the cache directory {self.root} ({exc.strerror})"
            ) from exc

    def _temp(self) -> tuple[IO[bytes], Path]:
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        return os.fdopen(fd, "wb"), Path(name)

    @staticmethod
    def _discard(fh: IO[bytes], tmp: Path) -> None:
        """Drop a partial write (closing flushes, which fails again on a full disk)."""
        with contextlib.suppress(OSError):
            fh.close()
        tmp.unlink(missing_ok=True)

    def _commit(self, fh: IO[bytes], tmp: Path, hasher: CIDHasher, suffix: str) -> StoredItem:
        """Close the temp file and rename it under its CID (or drop it if already stored)."""
        try:
            fh.flush()
            if self.fsync:
                os.fsync(fh.fileno())
        finally:
            fh.close()
        cid = hasher.cid()
        existing = self._find(cid)
        if existing is not None:
            tmp.unlink(missing_ok=True)
            return StoredItem(cid, existing, hasher.size)
        folder = self._dir(cid)
        folder.mkdir(exist_ok=True)
        target = folder / f"{cid}{suffix}"
        os.replace(tmp, target)
        return StoredItem(cid, target, hasher.size)

    @staticmethod
    def _check_suffix(suffix: str) -> None:
        if not _SUFFIX.match(suffix):
            raise ValueError(
                f"suffix must look like '.ts' (a dot and 1-16 letters/digits), got {suffix!r}"
            )

    def put_bytes(self, data: bytes | bytearray | memoryview, *, suffix: str = "") -> StoredItem:
        """Store ``data``; ``suffix`` (e.g. ``".ts"``) is kept on the file name."""
        self._check_suffix(suffix)
        hasher = CIDHasher(self.cid_version)
        with self._space():
            fh, tmp = self._temp()
            try:
                hasher.update(data)
                fh.write(data)
                return self._commit(fh, tmp, hasher, suffix)
            except BaseException:
                self._discard(fh, tmp)
                raise

    def put_file(
        self,
        src: str | os.PathLike[str],
        *,
        suffix: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredItem:
        """Copy a file in, hashing while copying; ``suffix`` defaults to the source's.

        Raises:
            TooLargeError: The file is larger than ``max_bytes``.
            NotFoundError: ``src`` does not exist.
        """
        src = Path(src)
        suffix = src.suffix if suffix is None and _SUFFIX.match(src.suffix) else (suffix or "")
        self._check_suffix(suffix)
        hasher = CIDHasher(self.cid_version)
        try:
            source = src.open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"{src}: no such file") from None
        with source, self._space():
            fh, tmp = self._temp()
            try:
                while piece := source.read(_COPY_PIECE):
                    if max_bytes is not None and hasher.size + len(piece) > max_bytes:
                        raise TooLargeError(f"{src}: larger than the limit of {max_bytes} bytes")
                    hasher.update(piece)
                    fh.write(piece)
                return self._commit(fh, tmp, hasher, suffix)
            except BaseException:
                self._discard(fh, tmp)
                raise

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        suffix: str = "",
    ) -> StoredItem:
        """Store an async stream of chunks (an upload), hashing as it arrives.

        Raises:
            TooLargeError: More than ``max_bytes`` arrived; nothing is kept.
            StorageFullError: The disk filled up; nothing is kept.

        Whatever the stream raises (a stalled or dropped client) also drops the
        partial file before it propagates.
        """
        self._check_suffix(suffix)
        hasher = CIDHasher(self.cid_version)
        with self._space():
            fh, tmp = await asyncio.to_thread(self._temp)

            def write(piece: bytes) -> None:
                hasher.update(piece)
                fh.write(piece)

            try:
                async for piece in chunks:
                    if max_bytes is not None and hasher.size + len(piece) > max_bytes:
                        raise TooLargeError(f"upload larger than the limit of {max_bytes} bytes")
                    await asyncio.to_thread(write, piece)
                return await asyncio.to_thread(self._commit, fh, tmp, hasher, suffix)
            except BaseException:
                self._discard(fh, tmp)  # also when cancelled: no await here
                raise

    def cleanup_tmp(self, older_than: float = 3600.0) -> int:
        """Remove partial writes left by crashed processes; returns how many."""
        cutoff = time.time() - older_than
        removed = 0
        for f in self._tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if f.stat().st_mtime < cutoff:
                    f.unlink()
                    removed += 1
        return removed

    # --- JSON documents ---------------------------------------------------

    def _doc(self, kind: str, doc_id: str) -> Path:
        if kind not in JSON_KINDS:
            raise ValueError(f"JSON kind must be one of {JSON_KINDS}, got {kind!r}")
        if not _DOC_ID.match(doc_id):
            raise ValueError(
                f"document id must be letters, digits, '.', '_' or '-', got {doc_id!r}"
            )
        return self.root / kind / f"{doc_id}.json"

    def put_json(self, kind: str, doc_id: str, obj: Any) -> Path:
        """Write a JSON document (``kind`` is ``plans`` or ``analysis``) atomically."""
        target = self._doc(kind, doc_id)
        data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
        with self._space():
            fh, tmp = self._temp()
            try:
                fh.write(data)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
                fh.close()
                os.replace(tmp, target)
            except BaseException:
                self._discard(fh, tmp)
                raise
        return target

    def get_json(self, kind: str, doc_id: str) -> Any:
        """Read a JSON document.

        Raises:
            NotFoundError: No such document.
            StorageError: The file is not valid JSON.
        """
        target = self._doc(kind, doc_id)
        try:
            text = target.read_text()
        except FileNotFoundError:
            raise NotFoundError(f"no {kind} document {doc_id!r} in {self.root}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise StorageError(f"{target}: line {exc.lineno}: invalid JSON: {exc.msg}") from None

    def has_json(self, kind: str, doc_id: str) -> bool:
        """Whether the document exists."""
        return self._doc(kind, doc_id).is_file()

    # --- async wrappers ---------------------------------------------------

    async def aput_bytes(self, data: bytes, *, suffix: str = "") -> StoredItem:
        """:meth:`put_bytes` in a thread."""
        return await asyncio.to_thread(self.put_bytes, data, suffix=suffix)

    async def aput_file(
        self,
        src: str | os.PathLike[str],
        *,
        suffix: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredItem:
        """:meth:`put_file` in a thread."""
        return await asyncio.to_thread(self.put_file, src, suffix=suffix, max_bytes=max_bytes)

    async def aread(self, cid: str) -> bytes:
        """:meth:`read` in a thread."""
        return await asyncio.to_thread(self.read, cid)

    async def adelete(self, cid: str) -> bool:
        """:meth:`delete` in a thread."""
        return await asyncio.to_thread(self.delete, cid)

    async def aput_json(self, kind: str, doc_id: str, obj: Any) -> Path:
        """:meth:`put_json` in a thread."""
        return await asyncio.to_thread(self.put_json, kind, doc_id, obj)

    async def aget_json(self, kind: str, doc_id: str) -> Any:
        """:meth:`get_json` in a thread."""
        return await asyncio.to_thread(self.get_json, kind, doc_id)
