"""Storage backends behind one small Protocol, for the storage-providers API.

Every backend addresses content by its IPFS CID (computed locally where the
backend does not compute it), so the same bytes get the same id everywhere.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cache.cid import cid_of_bytes, cid_of_file, cid_to_bytes, normalise_cid
from cache.errors import StorageError
from cache.ipfs import IPFSStore
from cache.local import LocalStore
from cache.s3 import IMMUTABLE, NO_CACHE, S3Store, hls_key

__all__ = ["IPFSBackend", "LocalBackend", "RunFolders", "S3Backend", "StorageBackend"]


@runtime_checkable
class StorageBackend(Protocol):
    """Where content can be put, fetched and deleted by CID."""

    name: str

    async def put(self, data: bytes) -> str:
        """Store ``data``; returns its CID."""
        ...

    async def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store a file's content (without holding all of it in memory where the backend
        allows); returns its CID."""
        ...

    async def get(self, cid: str) -> bytes:
        """Bytes stored under ``cid``; raises ``NotFoundError``."""
        ...

    async def delete(self, cid: str) -> bool:
        """Remove ``cid``; returns whether something was removed (or unpinned)."""
        ...

    async def has(self, cid: str) -> bool:
        """Whether the backend holds ``cid`` already (an IPFS node: pins it)."""
        ...

    async def test(self) -> dict[str, Any]:
        """Check the backend works: ``{"ok": bool, "latency_ms": float, "detail": str}``."""
        ...


@runtime_checkable
class RunFolders(Protocol):
    """A backend that also keeps a run's HLS files by name in a folder of the run
    (so its playlist plays from there: its segment URIs are relative names)."""

    async def has_run_file(self, run_id: str, name: str) -> bool:
        """Whether the run's folder holds ``name``."""
        ...

    async def put_run_file(self, run_id: str, name: str, data: bytes, content_type: str) -> None:
        """Store ``data`` as ``name`` in the run's folder."""
        ...

    async def delete_run_files(self, run_id: str) -> int:
        """Remove the run's folder; returns how many objects were removed."""
        ...


async def _round_trip(backend: StorageBackend, detail: str) -> dict[str, Any]:
    """Put, read back and delete a small probe; report instead of raising."""
    start = time.perf_counter()
    probe = f"artdag storage test {time.time_ns()}".encode()
    try:
        cid = await backend.put(probe)
        ok = await backend.get(cid) == probe
        await backend.delete(cid)
    except StorageError as exc:
        return {"ok": False, "latency_ms": _ms(start), "detail": f"{detail}: {exc}"}
    return {
        "ok": ok,
        "latency_ms": _ms(start),
        "detail": detail if ok else f"{detail}: read back different bytes",
    }


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class LocalBackend:
    """The local content-addressed cache."""

    def __init__(self, store: LocalStore, name: str = "local"):
        self.store = store
        self.name = name

    async def put(self, data: bytes) -> str:
        return (await self.store.aput_bytes(data)).cid

    async def put_file(self, path: str | os.PathLike[str]) -> str:
        return (await self.store.aput_file(path)).cid

    async def get(self, cid: str) -> bytes:
        return await self.store.aread(cid)

    async def delete(self, cid: str) -> bool:
        return await self.store.adelete(cid)

    async def has(self, cid: str) -> bool:
        return await asyncio.to_thread(self.store.has, cid)

    async def test(self) -> dict[str, Any]:
        return await _round_trip(self, f"local cache at {self.store.root}")


class IPFSBackend:
    """An IPFS node: put adds and pins, delete unpins (the node collects garbage later)."""

    def __init__(self, store: IPFSStore, name: str = "ipfs", *, cid_version: int = 0):
        self.store = store
        self.name = name
        self.cid_version = cid_version

    async def put(self, data: bytes) -> str:
        return await self.store.add_bytes(data, pin=True, cid_version=self.cid_version)

    async def put_file(self, path: str | os.PathLike[str]) -> str:
        # the node's client adds bytes (aioipfs' file add breaks with aiohttp >= 3.12)
        return await self.put(await asyncio.to_thread(Path(path).read_bytes))

    async def get(self, cid: str) -> bytes:
        return await self.store.cat(cid)

    async def delete(self, cid: str) -> bool:
        return await self.store.unpin(cid)

    async def has(self, cid: str) -> bool:
        return await self.store.is_pinned(cid)

    async def test(self) -> dict[str, Any]:
        try:
            info = await self.store.ping()
        except StorageError as exc:
            return {"ok": False, "latency_ms": 0.0, "detail": str(exc)}
        return await _round_trip(self, f"IPFS node {info.get('AgentVersion', '?')} {info['ID']}")


class S3Backend:
    """An S3 bucket; objects are stored under ``prefix + cid``, a run's HLS files under
    ``prefix + hls/<run_id>/<name>`` (:class:`RunFolders`: playable from the bucket)."""

    def __init__(self, store: S3Store, name: str = "s3", *, prefix: str = "", cid_version: int = 0):
        self.store = store
        self.name = name
        self.prefix = prefix
        self.cid_version = cid_version

    def _key(self, cid: str) -> str:
        cid_to_bytes(cid)  # a key is always a valid CID: raises InvalidCIDError
        return self.prefix + normalise_cid(cid)

    async def put(self, data: bytes) -> str:
        cid = await asyncio.to_thread(cid_of_bytes, data, self.cid_version)
        await self.store.put_bytes(self._key(cid), data)
        return cid

    async def put_file(self, path: str | os.PathLike[str]) -> str:
        cid = await asyncio.to_thread(cid_of_file, path, self.cid_version)
        await self.store.put_file(self._key(cid), path)  # multipart when large
        return cid

    async def get(self, cid: str) -> bytes:
        return await self.store.get(self._key(cid))

    async def delete(self, cid: str) -> bool:
        key = self._key(cid)
        existed = await self.store.exists(key)
        await self.store.delete(key)
        return existed

    async def has(self, cid: str) -> bool:
        return await self.store.exists(self._key(cid))

    async def test(self) -> dict[str, Any]:
        return await _round_trip(self, f"S3 bucket {self.store.bucket}")

    def run_key(self, run_id: str, name: str) -> str:
        """The key of a run's HLS file: ``<prefix>hls/<run_id>/<name>`` (as the live mirror)."""
        return self.prefix + hls_key(run_id, name)

    async def has_run_file(self, run_id: str, name: str) -> bool:
        return await self.store.exists(self.run_key(run_id, name))

    async def put_run_file(self, run_id: str, name: str, data: bytes, content_type: str) -> None:
        cache = NO_CACHE if name.endswith(".m3u8") else IMMUTABLE
        await self.store.put_bytes(
            self.run_key(run_id, name), data, content_type=content_type, cache_control=cache
        )

    async def delete_run_files(self, run_id: str) -> int:
        listed = await self.store.list(self.run_key(run_id, ""))
        for obj in listed:
            await self.store.delete(obj["key"])
        return len(listed)
